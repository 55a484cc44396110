import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { EmailClaim, EmailClaimStore } from "../../sign-up/ports";
import { conditionHeld } from "../sdk";
import { CLAIM_OWNER_PREFIX, claimOwnerIndexKeys, emailUniquenessKey } from "./keys";

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** Bound on index pages per owner: a user holds one or two claims, a few after many changes. */
const MAX_PAGES = 10;

/**
 * `EMAIL#<address>` / `EMAIL` items: one owner (the Cognito username) per claim address.
 * `claimedAt` is the owner's first claim; `expiresAt` (the table's TTL attribute) is set while the
 * sign-up is unconfirmed, so an abandoned claim is eventually collected; confirmation removes it.
 * `gsi1pk`/`gsi1sk` (`EMAILOWNER#<username>` / `EMAIL#<address>`) index the claim by owner.
 * Claims written before the owner index existed lack those keys until their owner's next claim
 * write (a sign-in re-claims the verified address, which adds them).
 */
export class DynamoEmailClaimStore implements EmailClaimStore {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tableName: string,
  ) {}

  async claim(input: {
    canonicalEmail: string;
    owner: string;
    now: Date;
    expiresAt?: Date;
    signal?: AbortSignal;
  }): Promise<"claimed" | "taken"> {
    const expiry =
      input.expiresAt !== undefined
        ? { set: ", expiresAt = if_not_exists(expiresAt, :expiresAt)", remove: "" }
        : { set: "", remove: " REMOVE expiresAt" };
    return (await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: emailUniquenessKey(input.canonicalEmail),
          UpdateExpression:
            "SET #owner = :me, claimedAt = if_not_exists(claimedAt, :now), " +
            `gsi1pk = :gsi1pk, gsi1sk = :gsi1sk${expiry.set}${expiry.remove}`,
          ConditionExpression: "attribute_not_exists(pk) OR #owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: {
            ":me": input.owner,
            ":now": input.now.toISOString(),
            ":gsi1pk": claimOwnerIndexKeys(input.owner, input.canonicalEmail).gsi1pk,
            ":gsi1sk": claimOwnerIndexKeys(input.owner, input.canonicalEmail).gsi1sk,
            ...(input.expiresAt !== undefined
              ? { ":expiresAt": epochSeconds(input.expiresAt) }
              : {}),
          },
        }),
        { abortSignal: input.signal },
      ),
    ))
      ? "claimed"
      : "taken";
  }

  async get(
    canonicalEmail: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<EmailClaim | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: emailUniquenessKey(canonicalEmail),
        ConsistentRead: true,
      }),
      { abortSignal: options.signal },
    );
    if (typeof Item?.owner !== "string") return null;
    return {
      owner: Item.owner,
      claimedAt: typeof Item.claimedAt === "string" ? Item.claimedAt : "",
      ...(typeof Item.expiresAt === "number" ? { expiresAt: Item.expiresAt } : {}),
    };
  }

  async ownerOf(
    canonicalEmail: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<string | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: emailUniquenessKey(canonicalEmail),
        ProjectionExpression: "#owner",
        ExpressionAttributeNames: { "#owner": "owner" },
      }),
      { abortSignal: options.signal },
    );
    return typeof Item?.owner === "string" ? Item.owner : null;
  }

  async takeOver(input: {
    canonicalEmail: string;
    previous: EmailClaim;
    owner: string;
    now: Date;
    expiresAt?: Date;
    signal?: AbortSignal;
  }): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...emailUniquenessKey(input.canonicalEmail),
            ...claimOwnerIndexKeys(input.owner, input.canonicalEmail),
            owner: input.owner,
            claimedAt: input.now.toISOString(),
            ...(input.expiresAt !== undefined ? { expiresAt: epochSeconds(input.expiresAt) } : {}),
          },
          // Exactly the claim that was judged stale: a confirmation, a release or another taker
          // in between changes owner or time, and this write then refuses.
          ConditionExpression: "#owner = :previousOwner AND claimedAt = :previousClaimedAt",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: {
            ":previousOwner": input.previous.owner,
            ":previousClaimedAt": input.previous.claimedAt,
          },
        }),
        { abortSignal: input.signal },
      ),
    );
  }

  async confirm(input: {
    canonicalEmail: string;
    owner: string;
    signal?: AbortSignal;
  }): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: emailUniquenessKey(input.canonicalEmail),
          UpdateExpression: "REMOVE expiresAt",
          ConditionExpression: "#owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":me": input.owner },
        }),
        { abortSignal: input.signal },
      ),
    );
  }

  async release(input: {
    canonicalEmail: string;
    owner: string;
    signal?: AbortSignal;
  }): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: emailUniquenessKey(input.canonicalEmail),
          // Only the owner's claim: someone else may hold the address (or re-claimed it).
          ConditionExpression: "#owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":me": input.owner },
        }),
        { abortSignal: input.signal },
      ),
    );
  }

  async ownedBy(
    owner: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Array<{ canonicalEmail: string; permanent: boolean }>> {
    const owned: Array<{ canonicalEmail: string; permanent: boolean }> = [];
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :owner AND begins_with(gsi1sk, :email)",
          ExpressionAttributeValues: {
            ":owner": `${CLAIM_OWNER_PREFIX}${owner}`,
            ":email": "EMAIL#",
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        { abortSignal: options.signal },
      );
      for (const item of result.Items ?? []) {
        // The index is eventually consistent: trust only items still naming this owner.
        if (item.owner !== owner || typeof item.pk !== "string") continue;
        owned.push({
          canonicalEmail: item.pk.slice("EMAIL#".length),
          permanent: item.expiresAt === undefined,
        });
      }
      start = result.LastEvaluatedKey;
      if (start === undefined) return owned;
    }
    throw new Error(`Too many email claims owned by one user to list in one call`);
  }
}
