import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { type EventPublisher, eventId } from "@boarding-pass/core/events";
import { fakeContext } from "@boarding-pass/testing";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDeps } from "./support/deps";
import { failingClient, stallingClient } from "./support/faults";
import { fixture, freshEmail, freshSub } from "./support/fixtures";

let plane: Plane;
let handler: typeof import("../src/cognito/post-confirmation").handler;
let createPostConfirmationHandler: typeof import("../src/cognito/handlers/post-confirmation").createPostConfirmationHandler;
let createOutboxRelayHandler: typeof import("../src/events/outbox-relay").createOutboxRelayHandler;

beforeAll(async () => {
  plane = await startPlane();
  // Cold start after the environment exists, as in Lambda.
  ({ handler } = await import("../src/cognito/post-confirmation"));
  ({ createPostConfirmationHandler } = await import("../src/cognito/handlers/post-confirmation"));
  ({ createOutboxRelayHandler } = await import("../src/events/outbox-relay"));
});
afterAll(async () => {
  await plane?.stop();
});

/** A confirmed sign-up of a fresh native user that really exists in the local pool. */
async function confirmSignUpEvent(): Promise<PostConfirmationTriggerEvent> {
  const email = freshEmail();
  const user = await plane.createNativeUser(email, true);
  const event = fixture<PostConfirmationTriggerEvent>("post-confirmation-confirm-sign-up");
  event.userPoolId = plane.userPoolId;
  event.userName = user.username;
  event.request.userAttributes = { ...event.request.userAttributes, sub: user.sub, email };
  return event;
}

async function profileItem(sub: string) {
  const { Item } = await plane.dynamodb.send(
    new GetCommand({
      TableName: plane.tableName,
      Key: { pk: `USER#${sub}`, sk: "PROFILE" },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const subOf = (event: PostConfirmationTriggerEvent) => event.request.userAttributes.sub!;
const relayLater = () => new Date(Date.now() + 60_000);

describe("post confirmation (ConfirmSignUp)", () => {
  it("creates the profile, publishes user.confirmed to SNS and Kinesis, and adds the default group", async () => {
    // Given a user who has just confirmed their sign-up
    const event = await confirmSignUpEvent();
    const sub = subOf(event);

    // When Cognito runs the trigger
    const result = await handler(structuredClone(event), fakeContext());

    // Then the event is returned, the profile exists with nothing left pending
    expect(result.triggerSource).toBe("PostConfirmation_ConfirmSignUp");
    const item = await profileItem(sub);
    expect(item).toMatchObject({
      sub,
      tenant: "default",
      plan: "free",
      roles: ["member"],
      version: 1,
    });
    expect(item?.pendingEvent).toBeUndefined();
    expect(item?.outboxShard).toBeUndefined();

    // And one user.confirmed with the deterministic id reached both destinations
    const id = eventId("boardingpass.user.confirmed.v1", sub);
    const sns = await plane.snsEventsFor(sub);
    expect(sns.map((d) => d.event.id)).toEqual([id]);
    expect(sns[0]?.attributes).toEqual({
      eventType: "boardingpass.user.confirmed.v1",
      tenant: "default",
    });
    expect(sns[0]?.event).toMatchObject({
      type: "boardingpass.user.confirmed.v1",
      data: { sub, tenant: "default", plan: "free" },
    });
    const kinesis = await plane.kinesisEventsFor(sub);
    expect(kinesis.map((r) => [r.event.id, r.partitionKey])).toEqual([[id, sub]]);
    expect(await plane.groupsOf(event.userName)).toEqual(["member"]);
  });

  it("three sequential identical invocations: one profile, one event, the same id", async () => {
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    for (let attempt = 0; attempt < 3; attempt++) {
      await handler(structuredClone(event), fakeContext());
    }
    const id = eventId("boardingpass.user.confirmed.v1", sub);
    expect((await plane.snsEventsFor(sub)).map((d) => d.event.id)).toEqual([id]);
    expect((await plane.kinesisEventsFor(sub)).map((r) => r.event.id)).toEqual([id]);
    expect((await profileItem(sub))?.version).toBe(1);
  });

  it("three concurrent identical invocations: one profile, one event, the same id", async () => {
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    const results = await Promise.all(
      [0, 1, 2].map(() => handler(structuredClone(event), fakeContext())),
    );
    expect(results).toHaveLength(3);
    const id = eventId("boardingpass.user.confirmed.v1", sub);
    expect((await plane.snsEventsFor(sub)).map((d) => d.event.id)).toEqual([id]);
    expect((await plane.kinesisEventsFor(sub)).map((r) => r.event.id)).toEqual([id]);
    expect(await plane.groupsOf(event.userName)).toEqual(["member"]);
  });
});

describe("post confirmation (ConfirmForgotPassword)", () => {
  it("creates nothing and emits nothing", async () => {
    const sub = freshSub();
    const event = fixture<PostConfirmationTriggerEvent>(
      "post-confirmation-confirm-forgot-password",
    );
    event.request.userAttributes.sub = sub;
    const result = await handler(structuredClone(event), fakeContext());
    expect(result).toEqual(event);
    expect(await profileItem(sub)).toBeUndefined();
    expect(await plane.snsEventsFor(sub)).toEqual([]);
    expect(await plane.kinesisEventsFor(sub)).toEqual([]);
  });
});

describe("a crash between the DynamoDB write and the publish", () => {
  it("leaves the event in the outbox, and the relay publishes it once, with the same id", async () => {
    const deps = realDeps(plane);
    const crashingPublisher: EventPublisher = {
      publish: async () => {
        throw new Error("process died mid-publish (injected)");
      },
    };
    const crashing = createPostConfirmationHandler({
      ...deps,
      publisher: crashingPublisher,
      groups: deps.admin,
      defaults: { tenant: "default", plan: "free", roles: ["member"] },
      defaultGroup: "member",
      source: deps.source("post-confirmation"),
    });
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    const id = eventId("boardingpass.user.confirmed.v1", sub);

    // The user's flow is not failed by the publish failure
    await crashing(structuredClone(event), fakeContext());
    expect((await profileItem(sub))?.pendingEventId).toBe(id);
    expect(await plane.snsEventsFor(sub)).toEqual([]);

    // A Cognito retry of the same event changes nothing and publishes nothing (the writer owns it)
    await handler(structuredClone(event), fakeContext());
    expect(await plane.snsEventsFor(sub)).toEqual([]);

    // The relay (a minute later) publishes it exactly once; a second tick finds nothing
    const relay = createOutboxRelayHandler({
      store: deps.outbox,
      publisher: deps.publisher(),
      graceMs: 30_000,
      now: relayLater,
    });
    const first = await relay();
    expect(first.relayed).toBeGreaterThanOrEqual(1);
    await relay();
    expect((await plane.snsEventsFor(sub)).map((d) => d.event.id)).toEqual([id]);
    expect((await plane.kinesisEventsFor(sub)).map((r) => r.event.id)).toEqual([id]);
    expect((await profileItem(sub))?.pendingEventId).toBeUndefined();
  });
});

describe("faults", () => {
  const baseDeps = () => {
    const deps = realDeps(plane);
    return {
      ...deps,
      groups: deps.admin,
      defaults: { tenant: "default", plan: "free", roles: ["member"] },
      defaultGroup: "member",
      source: deps.source("post-confirmation"),
    };
  };

  it("SNS and Kinesis down: the user's confirmation succeeds and the relay delivers later", async () => {
    const deps = baseDeps();
    const sns = failingClient(deps.sns, ["PublishBatchCommand"], "InternalErrorException");
    const kinesis = failingClient(deps.kinesis, ["PutRecordsCommand"], "InternalFailure");
    const downHandler = createPostConfirmationHandler({
      ...deps,
      publisher: deps.publisher({ sns, kinesis }),
    });
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    const context = fakeContext();
    await downHandler(structuredClone(event), context);
    expect(context.answeredInTime()).toBe(true);
    expect(sns.failures()).toBeGreaterThan(0);
    expect(await plane.snsEventsFor(sub)).toEqual([]);

    await createOutboxRelayHandler({
      store: deps.outbox,
      publisher: deps.publisher(),
      graceMs: 30_000,
      now: relayLater,
    })();
    const id = eventId("boardingpass.user.confirmed.v1", sub);
    expect((await plane.snsEventsFor(sub)).map((d) => d.event.id)).toEqual([id]);
    expect((await plane.kinesisEventsFor(sub)).map((r) => r.event.id)).toEqual([id]);
  });

  it("DynamoDB stalls: the trigger fails with a user-safe message before its deadline, nothing half-written", async () => {
    const deps = baseDeps();
    const stalled = stallingClient(plane.dynamodb, ["PutCommand"]);
    const stalledDeps = realDeps(plane, { dynamodb: stalled });
    const stalledHandler = createPostConfirmationHandler({
      ...deps,
      profiles: stalledDeps.profiles,
      publisher: deps.publisher(),
    });
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    const context = fakeContext(3000);
    await expect(stalledHandler(structuredClone(event), context)).rejects.toThrow(
      "We could not finish setting up your account. Please sign in.",
    );
    expect(context.answeredInTime()).toBe(true);
    expect(await profileItem(sub)).toBeUndefined();
    expect(await plane.snsEventsFor(sub)).toEqual([]);
  });

  it("DynamoDB throttling outlasting the SDK's retries: a clean failure, then Cognito's retry yields exactly one event", async () => {
    const deps = baseDeps();
    const throttled = failingClient(
      plane.dynamodb,
      ["PutCommand"],
      "ProvisionedThroughputExceededException",
      1,
    );
    // The wrapper sits above the SDK's retry strategy: the failure reaches the handler, as when
    // throttling outlasts the SDK's attempts; the second call plays Cognito's retry.
    const throttledHandler = createPostConfirmationHandler({
      ...deps,
      profiles: realDeps(plane, { dynamodb: throttled }).profiles,
      publisher: deps.publisher(),
    });
    const event = await confirmSignUpEvent();
    const sub = subOf(event);
    await expect(throttledHandler(structuredClone(event), fakeContext())).rejects.toThrow();
    await throttledHandler(structuredClone(event), fakeContext());
    const id = eventId("boardingpass.user.confirmed.v1", sub);
    expect((await plane.snsEventsFor(sub)).map((d) => d.event.id)).toEqual([id]);
    expect((await plane.kinesisEventsFor(sub)).map((r) => r.event.id)).toEqual([id]);
  });
});

describe("odd input never crashes", () => {
  type OddEvent = Record<string, unknown> & {
    request: { userAttributes: Record<string, unknown> };
  };
  const safe = [
    "We could not confirm this account.",
    "We could not finish setting up your account. Please sign in.",
  ];
  const corpus: Array<[string, (event: OddEvent) => void]> = [
    ["sub missing", (e) => Reflect.deleteProperty(e.request.userAttributes, "sub")],
    ["sub not a UUID", (e) => Reflect.set(e.request.userAttributes, "sub", "../../etc/passwd")],
    ["sub a number", (e) => Reflect.set(e.request.userAttributes, "sub", 7)],
    ["no userAttributes", (e) => Reflect.deleteProperty(e.request, "userAttributes")],
    ["request is null", (e) => Reflect.set(e, "request", null)],
    ["userName missing", (e) => Reflect.deleteProperty(e, "userName")],
    [
      "oversized attributes",
      (e) => Reflect.set(e.request.userAttributes, "name", "x".repeat(200_000)),
    ],
  ];
  it.each(corpus)("%s: handled with a user-safe outcome", async (_name, mutate) => {
    const event = (await confirmSignUpEvent()) as unknown as OddEvent;
    mutate(event);
    const outcome = await handler(
      event as unknown as PostConfirmationTriggerEvent,
      fakeContext(),
    ).then(
      () => "ok",
      (error: Error) => error.message,
    );
    expect(["ok", ...safe]).toContain(outcome);
  });

  it("unknown trigger sources pass through unchanged and create nothing", async () => {
    const event = (await confirmSignUpEvent()) as unknown as OddEvent;
    event.triggerSource = "PostConfirmation_SomethingNew";
    const before = structuredClone(event);
    expect(await handler(event as unknown as PostConfirmationTriggerEvent, fakeContext())).toEqual(
      before,
    );
    expect(await profileItem(String(event.request.userAttributes.sub))).toBeUndefined();
  });
});
