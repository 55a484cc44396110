import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { buildEvent, eventId, outboxAttributes } from "@boarding-pass/core/events";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDeps } from "./support/deps";
import { failingClient, partiallyFailingClient } from "./support/faults";
import { freshSub } from "./support/fixtures";

let plane: Plane;
let handler: typeof import("../src/events/outbox-relay").handler;
let createOutboxRelayHandler: typeof import("../src/events/outbox-relay").createOutboxRelayHandler;

beforeAll(async () => {
  plane = await startPlane();
  ({ handler, createOutboxRelayHandler } = await import("../src/events/outbox-relay"));
});
afterAll(async () => {
  await plane?.stop();
});

const MINUTE = 60_000;

/** A profile item whose user.confirmed is still pending, as a crashed trigger leaves it. */
async function pendingProfile(writtenAt: Date): Promise<{ sub: string; id: string }> {
  const sub = freshSub();
  const event = buildEvent("boardingpass.user.confirmed.v1", {
    subject: sub,
    data: { sub, tenant: "default", plan: "free" },
    time: writtenAt,
    source: "boardingpass/local/post-confirmation",
  });
  await plane.dynamodb.send(
    new PutCommand({
      TableName: plane.tableName,
      Item: {
        pk: `USER#${sub}`,
        sk: "PROFILE",
        sub,
        tenant: "default",
        plan: "free",
        roles: ["member"],
        createdAt: writtenAt.toISOString(),
        version: 1,
        ...outboxAttributes(event, writtenAt),
      },
    }),
  );
  return { sub, id: event.id };
}

const past = () => new Date(Date.now() - 5 * MINUTE);

describe("outbox relay", () => {
  it("the deployed handler publishes what is pending to SNS and Kinesis, once, and clears it", async () => {
    const pending = await pendingProfile(past());
    await handler();
    await handler();
    expect((await plane.snsEventsFor(pending.sub)).map((d) => d.event.id)).toEqual([pending.id]);
    expect(
      (await plane.kinesisEventsFor(pending.sub)).map((r) => [r.event.id, r.partitionKey]),
    ).toEqual([[pending.id, pending.sub]]);
  });

  it("leaves events younger than the grace period to their writer", async () => {
    const young = await pendingProfile(new Date());
    await handler();
    expect(await plane.snsEventsFor(young.sub)).toEqual([]);
  });

  it("partial PublishBatch and PutRecords failures: only failed entries are resent, each event once", async () => {
    const batch = await Promise.all(Array.from({ length: 7 }, () => pendingProfile(past())));
    const deps = realDeps(plane);
    const relay = createOutboxRelayHandler({
      store: deps.outbox,
      publisher: deps.publisher({
        sns: partiallyFailingClient(deps.sns),
        kinesis: partiallyFailingClient(deps.kinesis),
      }),
      graceMs: 30_000,
    });
    await relay();
    for (const pending of batch) {
      expect((await plane.snsEventsFor(pending.sub)).map((d) => d.event.id)).toEqual([pending.id]);
      expect((await plane.kinesisEventsFor(pending.sub)).map((r) => r.event.id)).toEqual([
        pending.id,
      ]);
    }
  });

  it("a destination down for the whole tick: nothing cleared, the next tick delivers, ids unchanged", async () => {
    const pending = await pendingProfile(past());
    const deps = realDeps(plane);
    const down = createOutboxRelayHandler({
      store: deps.outbox,
      publisher: deps.publisher({
        kinesis: failingClient(deps.kinesis, ["PutRecordsCommand"], "InternalFailure"),
      }),
      graceMs: 30_000,
    });
    const summary = await down();
    expect(summary.stillPending).toBeGreaterThanOrEqual(1);
    // SNS took it, Kinesis did not: it stays pending and goes to both again, with the same id
    await handler();
    const sns = await plane.snsEventsFor(pending.sub);
    expect(new Set(sns.map((d) => d.event.id))).toEqual(new Set([pending.id]));
    expect((await plane.kinesisEventsFor(pending.sub)).map((r) => r.event.id)).toEqual([
      pending.id,
    ]);
    expect(pending.id).toBe(eventId("boardingpass.user.confirmed.v1", pending.sub));
  });

  it("skips a corrupt pending event without blocking the others", async () => {
    const sub = freshSub();
    await plane.dynamodb.send(
      new PutCommand({
        TableName: plane.tableName,
        Item: {
          pk: `USER#${sub}`,
          sk: "PROFILE",
          pendingEvent: "{not json",
          pendingEventId: "x",
          outboxShard: "OUTBOX#0",
          outboxAt: `${past().toISOString()}#x`,
        },
      }),
    );
    const good = await pendingProfile(past());
    const summary = await handler();
    expect(summary.corrupt).toBeGreaterThanOrEqual(1);
    expect((await plane.snsEventsFor(good.sub)).map((d) => d.event.id)).toEqual([good.id]);
  });
});
