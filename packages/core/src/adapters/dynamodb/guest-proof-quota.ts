import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isWindowCurrent } from "../../identity/guest-proof-quota";
import type { GuestProofQuotaStore } from "../../identity/ports";
import { conditionHeld } from "../sdk";
import { guestProofQuotaKey } from "./keys";

/** Bound on re-reads when another request moved the window between our two writes. */
const MAX_ROUNDS = 3;

/**
 * `IDENTITY#<id>` / `THROTTLE#guest-proof`: `windowStart` (epoch seconds), `proofs` (count in the
 * window) and `expiresAt` (the table's TTL attribute, the window's end). Each attempt is one
 * conditional write, so concurrent requests never count past the limit. TTL deletion lags (up to
 * a few days, "Using time to live (TTL) in DynamoDB"), so the conditions compare times themselves
 * and an expired but undeleted counter simply starts over.
 */
export class DynamoGuestProofQuotaStore implements GuestProofQuotaStore {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tableName: string,
  ) {}

  async take(input: {
    identityId: string;
    limit: number;
    windowSeconds: number;
    nowSeconds: number;
  }): Promise<{ taken: true } | { taken: false; windowStart: number }> {
    const key = guestProofQuotaKey(input.identityId);
    const cutoff = input.nowSeconds - input.windowSeconds;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // The current window has room: count one more.
      if (
        await this.conditionalUpdate({
          Key: key,
          UpdateExpression: "ADD proofs :one",
          ConditionExpression: "windowStart > :cutoff AND proofs < :limit",
          ExpressionAttributeValues: { ":one": 1, ":cutoff": cutoff, ":limit": input.limit },
        })
      ) {
        return { taken: true };
      }
      // No window, or it is over: this proof starts a new one.
      if (
        await this.conditionalUpdate({
          Key: key,
          UpdateExpression:
            "SET windowStart = :now, proofs = :one, expiresAt = :end, identityId = :id",
          ConditionExpression: "attribute_not_exists(windowStart) OR windowStart <= :cutoff",
          ExpressionAttributeValues: {
            ":now": input.nowSeconds,
            ":one": 1,
            ":end": input.nowSeconds + input.windowSeconds,
            ":id": input.identityId,
            ":cutoff": cutoff,
          },
        })
      ) {
        return { taken: true };
      }
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const windowStart = Number(Item?.windowStart);
      const proofs = Number(Item?.proofs);
      if (
        Number.isFinite(windowStart) &&
        isWindowCurrent(windowStart, input.nowSeconds, input.windowSeconds) &&
        proofs >= input.limit
      ) {
        return { taken: false, windowStart };
      }
      // A concurrent request started or moved the window between our writes: try again.
    }
    throw new Error("The guest proof counter kept changing; try again");
  }

  private async conditionalUpdate(
    command: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">,
  ): Promise<boolean> {
    return conditionHeld(
      this.client.send(new UpdateCommand({ TableName: this.tableName, ...command })),
    );
  }
}
