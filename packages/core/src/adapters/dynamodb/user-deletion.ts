import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type IdentityEvent, parseIdentityEvent } from "../../events/identity-events";
import { type ItemKey, outboxAttributes } from "../../events/outbox";
import { KNOWN_DATA_NAMES } from "../../identity/model";
import type { UserDeletion, UserDeletionStore } from "../../identity/ports";
import { claimAddressCandidates } from "../../sign-up/mailbox";
import { isConditionalCheckFailed } from "../sdk";
import { DynamoEmailClaimStore } from "./email-claim-store";
import { dataKey, deletionKey, legacyDeletionKey } from "./keys";

type Item = Record<string, unknown>;

/** Bound on query pages per erase: a user has a handful of items, an identity a few data items. */
const MAX_PAGES = 50;

function toDeletion(item: Item): UserDeletion {
  const deletion: UserDeletion = {
    sub: String(item.sub),
    tenant: String(item.tenant),
    step: item.step === "done" ? "done" : "started",
    startedAt: String(item.startedAt),
  };
  if (typeof item.finishedAt === "string") deletion.finishedAt = item.finishedAt;
  return deletion;
}

/**
 * The user-deletion side of the single table: the `DELETION#<sub>` / `DELETION` record (sub, tenant,
 * step, times: no personal data; it carries `user.deleted` in its outbox) and the erasure of the
 * user's items, the identities' data items and the email claim. Single-item writes only.
 */
export class DynamoUserDeletionStore implements UserDeletionStore {
  private readonly claims: DynamoEmailClaimStore;

  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tableName: string,
  ) {
    this.claims = new DynamoEmailClaimStore(client, tableName);
  }

  async get(sub: string): Promise<UserDeletion | null> {
    const current = await this.read(deletionKey(sub));
    if (current !== null) return current;
    // Before ADR 0010 the record lived beside the profile. A finished one stays where it is (the
    // relay still clears its outbox there); one still running is carried forward, so the rest of
    // the deletion writes only the new record, and the erasure of `USER#<sub>` removes the old.
    const legacy = await this.read(legacyDeletionKey(sub));
    if (legacy === null || legacy.step === "done") return legacy;
    return this.start({ sub, tenant: legacy.tenant, now: new Date(legacy.startedAt) });
  }

  async pendingEvent(sub: string): Promise<{ key: ItemKey; event: IdentityEvent } | null> {
    const key = deletionKey(sub);
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: "pendingEvent",
      }),
    );
    return typeof Item?.pendingEvent === "string"
      ? { key, event: parseIdentityEvent(Item.pendingEvent) }
      : null;
  }

  private async read(key: { pk: string; sk: string }): Promise<UserDeletion | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item === undefined ? null : toDeletion(Item);
  }

  async start(input: { sub: string; tenant: string; now: Date }): Promise<UserDeletion> {
    const deletion: UserDeletion = {
      sub: input.sub,
      tenant: input.tenant,
      step: "started",
      startedAt: input.now.toISOString(),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...deletionKey(input.sub), ...deletion },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return deletion;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.read(deletionKey(input.sub));
      if (existing === null) throw error;
      return existing;
    }
  }

  async releaseEmailClaim(canonicalEmail: string, owner: string): Promise<void> {
    // Folded or not (the stage's policy, and when it was switched on, decide): each release is
    // conditional on the owner, so the form that does not apply is a no-op.
    for (const address of claimAddressCandidates(canonicalEmail)) {
      await this.claims.release({ canonicalEmail: address, owner });
    }
  }

  async releaseEmailClaimsOwnedBy(owner: string): Promise<void> {
    for (const { canonicalEmail } of await this.claims.ownedBy(owner)) {
      await this.claims.release({ canonicalEmail, owner });
    }
  }

  async eraseUserItems(sub: string): Promise<void> {
    await this.eraseUnder(legacyDeletionKey(sub).pk, () => true);
  }

  async eraseIdentityData(identityId: string, now: Date = new Date()): Promise<void> {
    const prefix = dataKey(identityId, "").sk;
    // An empty tombstone replaces each item (its document, versions and merge marks go), and the
    // known names get one even if never written: data writes are conditional on no tombstone, so
    // nobody writes the user's data back, whatever credentials they still hold (ADR 0007).
    const tombstone = (sk: string) =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: dataKey(identityId, "").pk, sk, userDeletedAt: now.toISOString() },
        }),
      );
    const erased = new Set<string>();
    await this.eraseUnder(
      dataKey(identityId, "").pk,
      (sk) => sk.startsWith(prefix),
      async (sk) => {
        erased.add(sk);
        await tombstone(sk);
      },
    );
    for (const name of KNOWN_DATA_NAMES) {
      const { sk } = dataKey(identityId, name);
      if (!erased.has(sk)) await tombstone(sk);
    }
  }

  private async eraseUnder(
    pk: string,
    erases: (sk: string) => boolean,
    erase: (sk: string) => Promise<unknown> = (sk) =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk } })),
  ): Promise<void> {
    let start: Item | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": pk },
          ProjectionExpression: "pk, sk",
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const sk = String(item.sk);
        if (!erases(sk)) continue;
        await erase(sk);
      }
      start = result.LastEvaluatedKey;
      if (start === undefined) return;
    }
    throw new Error(`Too many items under ${pk} to erase in one call; call again`);
  }

  async finish(input: {
    sub: string;
    event: IdentityEvent;
    now: Date;
  }): Promise<{ finished: boolean; key: ItemKey }> {
    const key = deletionKey(input.sub);
    const outbox = outboxAttributes(input.event, input.now);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            "SET step = :done, finishedAt = :now, pendingEvent = :event, " +
            "pendingEventId = :eventId, outboxShard = :shard, outboxAt = :at",
          ConditionExpression: "attribute_exists(pk) AND step <> :done",
          ExpressionAttributeValues: {
            ":done": "done",
            ":now": input.now.toISOString(),
            ":event": outbox.pendingEvent,
            ":eventId": outbox.pendingEventId,
            ":shard": outbox.outboxShard,
            ":at": outbox.outboxAt,
          },
        }),
      );
      return { finished: true, key };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { finished: false, key };
      throw error;
    }
  }
}
