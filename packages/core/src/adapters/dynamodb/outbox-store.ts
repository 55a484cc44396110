import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { parseEvent } from "../../events/catalogue";
import type { ItemKey, OutboxStore, PendingEntry, PendingPage } from "../../events/outbox";
import { isConditionalCheckFailed } from "../sdk";
import { OUTBOX_INDEX } from "./keys";

/** The outbox side of the identity table: the sparse `outbox` index and the pending attributes. */
export class DynamoOutboxStore implements OutboxStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listPending(input: {
    shard: string;
    writtenBefore: Date;
    limit: number;
    cursor?: string;
  }): Promise<PendingPage> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: OUTBOX_INDEX,
        KeyConditionExpression: "outboxShard = :shard AND outboxAt < :before",
        ExpressionAttributeValues: {
          ":shard": input.shard,
          ":before": input.writtenBefore.toISOString(),
        },
        Limit: input.limit,
        ...(input.cursor !== undefined
          ? { ExclusiveStartKey: JSON.parse(Buffer.from(input.cursor, "base64url").toString()) }
          : {}),
      }),
    );
    const entries: PendingEntry[] = [];
    const corrupt: ItemKey[] = [];
    for (const item of result.Items ?? []) {
      const key = { pk: String(item.pk), sk: String(item.sk) };
      try {
        const event = parseEvent(JSON.parse(String(item.pendingEvent)));
        if (event.id !== item.pendingEventId) throw new Error("pending event id mismatch");
        entries.push({ key, event });
      } catch {
        corrupt.push(key);
      }
    }
    const page: PendingPage = { entries, corrupt };
    if (result.LastEvaluatedKey !== undefined) {
      page.cursor = Buffer.from(JSON.stringify(result.LastEvaluatedKey)).toString("base64url");
    }
    return page;
  }

  async clearPending(key: ItemKey, eventId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: "REMOVE pendingEvent, pendingEventId, outboxShard, outboxAt",
          ConditionExpression: "pendingEventId = :id",
          ExpressionAttributeValues: { ":id": eventId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
