import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { IdentityMergedError, InvalidCallerError, UserDeletedError } from "../../errors";
import { type IdentityEvent, parseIdentityEvent } from "../../events/identity-events";
import { type ItemKey, outboxAttributes } from "../../events/outbox";
import type { IdentityRecord, MergeState, MergeStep } from "../../identity/model";
import type { IdentityGraph } from "../../identity/ports";
import { isConditionalCheckFailed } from "../sdk";
import { identityKey, mergeKey, USER_INDEX, userIndexKey } from "./keys";

type Item = Record<string, unknown>;

const strings = (value: unknown): string[] =>
  value instanceof Set
    ? [...value].map(String).sort()
    : Array.isArray(value)
      ? value.map(String)
      : [];

function toRecord(item: Item): IdentityRecord {
  const record: IdentityRecord = {
    identityId: String(item.identityId),
    logins: strings(item.logins),
    iotPolicies: strings(item.iotPolicies),
    mergedFrom: strings(item.mergedFrom),
  };
  if (typeof item.userSub === "string") record.userSub = item.userSub;
  if (typeof item.mergedInto === "string") record.mergedInto = item.mergedInto;
  if (item.wasGuest === true) record.wasGuest = true;
  if (typeof item.linkedAt === "string") record.linkedAt = item.linkedAt;
  if (typeof item.mergedAt === "string") record.mergedAt = item.mergedAt;
  if (typeof item.userDeletedAt === "string") record.userDeletedAt = item.userDeletedAt;
  return record;
}

function toMergeState(item: Item): MergeState {
  const state: MergeState = {
    guestId: String(item.guestId),
    survivorId: String(item.survivorId),
    userSub: String(item.userSub),
    step: item.step as MergeStep,
    startedAt: String(item.startedAt),
    updatedAt: String(item.updatedAt),
    guestIotPolicies: strings(item.guestIotPolicies),
    eventIds: item.eventIds as MergeState["eventIds"],
  };
  if (typeof item.pendingEventId === "string") state.pendingEventId = item.pendingEventId;
  return state;
}

/**
 * The identity graph in the single table: `IDENTITY#<id>` / `IDENTITY` records (with gsi1 keys
 * once authenticated) and `IDENTITY#<guest>` / `MERGE` state records. Every write is one
 * conditional item write; nothing needs transactions (dynalite has none).
 */
export class DynamoIdentityGraph implements IdentityGraph {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tableName: string,
  ) {}

  async get(identityId: string): Promise<IdentityRecord | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: identityKey(identityId),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? null : toRecord(Item);
  }

  async identitiesOfUser(sub: string): Promise<IdentityRecord[]> {
    const records: IdentityRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: USER_INDEX,
          KeyConditionExpression: "gsi1pk = :user AND begins_with(gsi1sk, :prefix)",
          ExpressionAttributeValues: { ":user": `USER#${sub}`, ":prefix": "IDENTITY#" },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) records.push(toRecord(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return records;
  }

  async recordAuthenticated(input: {
    identityId: string;
    userSub: string;
    logins: readonly string[];
    wasGuest?: boolean;
    mergedFrom?: string;
    event: IdentityEvent;
    now: Date;
  }): Promise<{ linked: boolean; key: ItemKey; pendingEvent?: IdentityEvent }> {
    const key = identityKey(input.identityId);
    const sets = ["identityId = :id", "updatedAt = :now"];
    const adds: string[] = [];
    const values: Item = { ":id": input.identityId, ":now": input.now.toISOString() };
    if (input.logins.length > 0) {
      adds.push("logins :logins");
      values[":logins"] = new Set(input.logins);
    }
    if (input.mergedFrom !== undefined) {
      adds.push("mergedFrom :guest");
      values[":guest"] = new Set([input.mergedFrom]);
      sets.push("mergedAt = if_not_exists(mergedAt, :now)");
    }
    const update = (extraSets: string[]) =>
      `SET ${[...sets, ...extraSets].join(", ")}${adds.length ? ` ADD ${adds.join(", ")}` : ""}`;

    // First link: the user edge, the gsi1 keys and the event in the outbox, in one write.
    const outbox = outboxAttributes(input.event, input.now);
    const index = userIndexKey(input.userSub, input.identityId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update([
            "userSub = :sub",
            "gsi1pk = :gsi1pk",
            "gsi1sk = :gsi1sk",
            "linkedAt = :now",
            "wasGuest = :wasGuest",
            "pendingEvent = :event",
            "pendingEventId = :eventId",
            "outboxShard = :shard",
            "outboxAt = :at",
          ]),
          ConditionExpression: "attribute_not_exists(userSub) AND attribute_not_exists(mergedInto)",
          ExpressionAttributeValues: {
            ...values,
            ":sub": input.userSub,
            ":gsi1pk": index.gsi1pk,
            ":gsi1sk": index.gsi1sk,
            ":wasGuest": input.wasGuest === true,
            ":event": outbox.pendingEvent,
            ":eventId": outbox.pendingEventId,
            ":shard": outbox.outboxShard,
            ":at": outbox.outboxAt,
          },
        }),
      );
      return { linked: true, key };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Already linked: only the idempotent additions, and only for the same user.
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update([]),
          ConditionExpression: "userSub = :sub AND attribute_not_exists(mergedInto)",
          ExpressionAttributeValues: { ...values, ":sub": input.userSub },
          ReturnValues: "ALL_NEW",
        }),
      );
      const pending =
        typeof Attributes?.pendingEvent === "string"
          ? parseIdentityEvent(Attributes.pendingEvent)
          : undefined;
      return { linked: false, key, ...(pending ? { pendingEvent: pending } : {}) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(input.identityId);
    if (current?.mergedInto !== undefined) {
      throw new IdentityMergedError(input.identityId, current.mergedInto);
    }
    throw new InvalidCallerError("This identity is already linked to another user");
  }

  async recordIotPolicy(identityId: string, policyName: string, attached: boolean): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: identityKey(identityId),
          UpdateExpression: attached
            ? "SET identityId = :id ADD iotPolicies :policy"
            : "SET identityId = :id DELETE iotPolicies :policy",
          // Nothing is attached to a deleted user's identity again (see markUserDeleted).
          ...(attached ? { ConditionExpression: "attribute_not_exists(userDeletedAt)" } : {}),
          ExpressionAttributeValues: { ":id": identityId, ":policy": new Set([policyName]) },
        }),
      );
    } catch (error) {
      if (attached && isConditionalCheckFailed(error)) {
        throw new UserDeletedError(`The user of identity ${identityId} was deleted`);
      }
      throw error;
    }
  }

  async markUserDeleted(identityId: string, sub: string, now: Date): Promise<void> {
    const index = userIndexKey(sub, identityId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: identityKey(identityId),
          // An identity first seen after its user's deletion gets the user with the mark, and
          // the user index keys, so it is listed with the user's other identities.
          UpdateExpression:
            "SET identityId = :id, userSub = if_not_exists(userSub, :sub), " +
            "gsi1pk = if_not_exists(gsi1pk, :gsi1pk), gsi1sk = if_not_exists(gsi1sk, :gsi1sk), " +
            "userDeletedAt = if_not_exists(userDeletedAt, :now)",
          ConditionExpression: "userSub = :sub OR attribute_not_exists(userSub)",
          ExpressionAttributeValues: {
            ":id": identityId,
            ":sub": sub,
            ":gsi1pk": index.gsi1pk,
            ":gsi1sk": index.gsi1sk,
            ":now": now.toISOString(),
          },
        }),
      );
    } catch (error) {
      // Another user's identity: nothing of this user to mark.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async fence(
    guestId: string,
    survivorId: string,
    now: Date,
  ): Promise<
    | { fenced: true }
    | { fenced: false; reason: "merged-elsewhere"; mergedInto: string }
    | { fenced: false; reason: "has-user" }
  > {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: identityKey(guestId),
          UpdateExpression:
            "SET identityId = :id, mergedInto = :survivor, mergedAt = if_not_exists(mergedAt, :now)",
          // Only a guest is fenced: an identity with a user recorded signed in (ADR 0006). In the
          // same write as the fence, so no link can slip in between the check and the tombstone.
          ConditionExpression:
            "(attribute_not_exists(mergedInto) OR mergedInto = :survivor) AND attribute_not_exists(userSub)",
          ExpressionAttributeValues: {
            ":id": guestId,
            ":survivor": survivorId,
            ":now": now.toISOString(),
          },
        }),
      );
      return { fenced: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = await this.get(guestId);
      if (current?.userSub !== undefined) return { fenced: false, reason: "has-user" };
      return {
        fenced: false,
        reason: "merged-elsewhere",
        mergedInto: current?.mergedInto ?? "unknown",
      };
    }
  }

  async getMerge(guestId: string): Promise<MergeState | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: mergeKey(guestId), ConsistentRead: true }),
    );
    return Item === undefined ? null : toMergeState(Item);
  }

  async startMerge(state: MergeState): Promise<MergeState> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...mergeKey(state.guestId),
            ...state,
            guestIotPolicies: state.guestIotPolicies,
            version: 1,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return state;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.getMerge(state.guestId);
      if (existing === null) throw error;
      return existing;
    }
  }

  async advanceMerge(
    guestId: string,
    from: MergeStep,
    to: MergeStep,
    options: { now: Date; pendingEvent?: IdentityEvent },
  ): Promise<boolean> {
    const values: Item = { ":from": from, ":to": to, ":now": options.now.toISOString(), ":one": 1 };
    let set = "step = :to, updatedAt = :now";
    if (options.pendingEvent !== undefined) {
      const outbox = outboxAttributes(options.pendingEvent, options.now);
      // On the sparse outbox index too: the relay carries it if the merge stops here (ADR 0006).
      set +=
        ", pendingEvent = :event, pendingEventId = :eventId, outboxShard = :shard, outboxAt = :at";
      values[":event"] = outbox.pendingEvent;
      values[":eventId"] = outbox.pendingEventId;
      values[":shard"] = outbox.outboxShard;
      values[":at"] = outbox.outboxAt;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: mergeKey(guestId),
          UpdateExpression: `SET ${set} ADD version :one`,
          ConditionExpression: "step = :from",
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async pendingEvent(key: ItemKey): Promise<IdentityEvent | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: "pendingEvent",
      }),
    );
    return typeof Item?.pendingEvent === "string" ? parseIdentityEvent(Item.pendingEvent) : null;
  }

  async pendingMergeEvents(
    guestId: string,
    survivorId: string,
  ): Promise<Array<{ key: ItemKey; event: IdentityEvent }>> {
    const entries: Array<{ key: ItemKey; event: IdentityEvent }> = [];
    for (const key of [mergeKey(guestId), identityKey(survivorId)]) {
      const event = await this.pendingEvent(key);
      if (event !== null) entries.push({ key, event });
    }
    return entries;
  }
}
