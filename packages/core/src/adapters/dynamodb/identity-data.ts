import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { IdentityMergedError, UserDeletedError } from "../../errors";
import type { IdentityDataStore, StoredDataItem } from "../../identity/ports";
import { isConditionalCheckFailed } from "../sdk";
import { dataKey } from "./keys";

type Item = Record<string, unknown>;

function toItem(item: Item): StoredDataItem {
  const stored: StoredDataItem = {
    name: String(item.sk).slice("DATA#".length),
    document: (item.document as Record<string, unknown> | undefined) ?? {},
    updatedAt: String(item.updatedAt ?? ""),
    mergedFrom: item.mergedFrom instanceof Set ? [...item.mergedFrom].map(String).sort() : [],
    version: typeof item.version === "number" ? item.version : 0,
  };
  if (typeof item.mergedInto === "string") stored.mergedInto = item.mergedInto;
  if (typeof item.userDeletedAt === "string") stored.userDeletedAt = item.userDeletedAt;
  return stored;
}

/**
 * `IDENTITY#<id>` / `DATA#<name>` items, with an optimistic `version`, merge tombstones
 * (`mergedInto`) and erasure tombstones (`userDeletedAt`, written by the user's deletion).
 */
export class DynamoIdentityDataStore implements IdentityDataStore {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tableName: string,
  ) {}

  async get(identityId: string, name: string): Promise<StoredDataItem | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: dataKey(identityId, name),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? null : toItem(Item);
  }

  async list(identityId: string): Promise<StoredDataItem[]> {
    const items: StoredDataItem[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :data)",
          ExpressionAttributeValues: { ":pk": `IDENTITY#${identityId}`, ":data": "DATA#" },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) items.push(toItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  async write(input: {
    identityId: string;
    name: string;
    document: Record<string, unknown>;
    mergedFrom?: readonly string[];
    expectedVersion: number | "any";
    now: Date;
  }): Promise<"written" | "conflict"> {
    const values: Item = {
      ":doc": input.document,
      ":now": input.now.toISOString(),
      ":one": 1,
    };
    let set = "document = :doc, updatedAt = :now";
    if (input.mergedFrom !== undefined && input.mergedFrom.length > 0) {
      set += ", mergedFrom = :mergedFrom";
      values[":mergedFrom"] = new Set(input.mergedFrom);
    }
    // Never onto a tombstone: a merged-away guest's item, or an item erased with its user (a
    // writer holding credentials issued before the deletion, or a merge still running).
    let condition = "attribute_not_exists(mergedInto) AND attribute_not_exists(userDeletedAt)";
    if (input.expectedVersion === 0) condition += " AND attribute_not_exists(version)";
    else if (input.expectedVersion !== "any") {
      condition += " AND version = :expected";
      values[":expected"] = input.expectedVersion;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dataKey(input.identityId, input.name),
          UpdateExpression: `SET ${set} ADD version :one`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return "written";
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(input.identityId, input.name);
    if (current?.mergedInto !== undefined) {
      throw new IdentityMergedError(input.identityId, current.mergedInto);
    }
    if (current?.userDeletedAt !== undefined) {
      throw new UserDeletedError(`The user of identity ${input.identityId} was deleted`);
    }
    return "conflict";
  }

  async tombstone(input: {
    identityId: string;
    name: string;
    survivorId: string;
    expectedVersion: number;
    now: Date;
  }): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dataKey(input.identityId, input.name),
          UpdateExpression: "SET mergedInto = :survivor, updatedAt = :now REMOVE document",
          ConditionExpression:
            input.expectedVersion === 0
              ? "attribute_not_exists(version) OR mergedInto = :survivor"
              : "version = :expected OR mergedInto = :survivor",
          ExpressionAttributeValues: {
            ":survivor": input.survivorId,
            ":now": input.now.toISOString(),
            ...(input.expectedVersion === 0 ? {} : { ":expected": input.expectedVersion }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
