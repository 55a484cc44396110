import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { emailUniquenessKey } from "../email";
import type { EmailClaimStore } from "../sign-up";
import { isConditionalCheckFailed } from "./sdk";

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * `EMAIL#<canonical>` / `EMAIL` items: one owner (the Cognito username) per canonical mailbox.
 * `expiresAt` (the table's TTL attribute) is set while the sign-up is unconfirmed, so an
 * abandoned sign-up cannot hold somebody's address forever; confirmation removes it.
 */
export class DynamoEmailClaimStore implements EmailClaimStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(input: {
    canonicalEmail: string;
    owner: string;
    now: Date;
    expiresAt?: Date;
    signal?: AbortSignal;
  }): Promise<"claimed" | "taken"> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...emailUniquenessKey(input.canonicalEmail),
            owner: input.owner,
            claimedAt: input.now.toISOString(),
            ...(input.expiresAt !== undefined ? { expiresAt: epochSeconds(input.expiresAt) } : {}),
          },
          ConditionExpression:
            "attribute_not_exists(pk) OR #owner = :me OR (attribute_exists(expiresAt) AND expiresAt < :now)",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":me": input.owner, ":now": epochSeconds(input.now) },
        }),
        { abortSignal: input.signal },
      );
      return "claimed";
    } catch (error) {
      if (isConditionalCheckFailed(error)) return "taken";
      throw error;
    }
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

  async confirm(input: {
    canonicalEmail: string;
    owner: string;
    signal?: AbortSignal;
  }): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: emailUniquenessKey(input.canonicalEmail),
          UpdateExpression: "REMOVE expiresAt",
          ConditionExpression: "#owner = :me",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":me": input.owner },
        }),
        { abortSignal: input.signal },
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
