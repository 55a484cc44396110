import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { BoardingPassEvent } from "../../events/catalogue";
import { type ItemKey, outboxAttributes } from "../../events/outbox";
import type { FederatedLinkStore } from "../../sign-up/ports";
import { isConditionalCheckFailed } from "../sdk";
import { federatedLinkKey } from "./keys";

/** `USER#<sub>` / `LINK#<provider>` items: the link as state, carrying its event in the outbox. */
export class DynamoFederatedLinkStore implements FederatedLinkStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordLink(
    input: { sub: string; providerName: string; event: BoardingPassEvent; writtenAt: Date },
    options: { signal?: AbortSignal } = {},
  ): Promise<{ recorded: boolean; key: ItemKey }> {
    const key = federatedLinkKey(input.sub, input.providerName);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            sub: input.sub,
            providerName: input.providerName,
            linkedAt: input.writtenAt.toISOString(),
            ...outboxAttributes(input.event, input.writtenAt),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
        { abortSignal: options.signal },
      );
      return { recorded: true, key };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { recorded: false, key };
      throw error;
    }
  }

  async discardLink(key: ItemKey, eventId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          ConditionExpression: "pendingEventId = :id",
          ExpressionAttributeValues: { ":id": eventId },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
