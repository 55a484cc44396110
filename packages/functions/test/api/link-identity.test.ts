import { AttachPolicyCommand } from "@aws-sdk/client-iot";
import {
  DynamoIdentityDataStore,
  DynamoIdentityGraph,
  DynamoOutboxStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { SnsKinesisEventPublisher } from "@boarding-pass/core/adapters/sns-kinesis";
import {
  identityLinkedEventId,
  identityMergedEventId,
  relayOutbox,
} from "@boarding-pass/core/events";
import type { LinkDeps } from "@boarding-pass/core/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLinkIdentityHandler } from "../../src/api/handlers/link-identity";
import { createPreferencesHandler } from "../../src/api/handlers/preferences";
import {
  bodyOf,
  type Caller,
  failingDynamo,
  iamEvent,
  mintOpenIdToken,
  newIdentityId,
  newSigningKey,
  newSub,
  type Plane,
  startPlane,
} from "./harness";

let plane: Plane;

beforeAll(async () => {
  plane = await startPlane();
});
afterAll(async () => {
  await plane?.stop();
});

const link = (caller: Caller, body: unknown, deps: LinkDeps = plane.deps()) =>
  createLinkIdentityHandler(deps)(
    iamEvent(caller, plane.identityPoolId, { method: "POST", path: "/identity/link", body }),
  );

const preferences = (caller: Caller, method: "GET" | "PUT", body?: unknown) =>
  createPreferencesHandler({ ...plane.deps(), identityPoolId: plane.identityPoolId })(
    iamEvent(caller, plane.identityPoolId, { method, path: "/identity/preferences", body }),
  );

const guestProof = (guestId: string, claims: Record<string, unknown> = {}) =>
  mintOpenIdToken(plane.key, { sub: guestId, aud: plane.identityPoolId, ...claims });

async function published(eventId: string) {
  await plane.sns.idle();
  const sns = plane.snsMessages.filter((message) => message.id === eventId);
  const kinesis = (await plane.kinesisEvents()).filter((event) => event.id === eventId);
  return { sns, kinesis };
}

/** A signed-in user (profile created) and a guest identity with some preferences. */
async function givenUserAndGuest(guestPreferences: Record<string, unknown> = { lang: "fr" }) {
  const sub = newSub();
  await plane.createProfile(sub);
  const guestId = newIdentityId();
  const put = await preferences({ identityId: guestId }, "PUT", { preferences: guestPreferences });
  expect(put.statusCode).toBe(200);
  return { sub, guestId };
}

describe("POST /identity/link: link (Cognito kept the guest's identity id)", () => {
  it("records the identity as the user's, attaches the IoT policy and emits identity.linked", async () => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest({ theme: "dark" });

    // Act
    const result = await link({ identityId: guestId, sub }, { guestProof: guestProof(guestId) });

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      outcome: "linked",
      identityId: guestId,
      guestIdentityId: guestId,
      alreadyDone: false,
    });
    const record = await new DynamoIdentityGraph(plane.dynamo, plane.tableName).get(guestId);
    expect(record).toMatchObject({ userSub: sub, wasGuest: true, iotPolicies: [plane.policyName] });
    expect(plane.iot.attachedPolicies(guestId).map((p) => p.policyName)).toEqual([
      plane.policyName,
    ]);
    const prefs = await preferences({ identityId: guestId, sub }, "GET");
    expect(bodyOf(prefs)).toMatchObject({ preferences: { theme: "dark" } });
    const linkedId = identityLinkedEventId(sub, guestId);
    const { sns, kinesis } = await published(linkedId);
    expect(sns).toHaveLength(1);
    expect(kinesis).toHaveLength(1);
    expect(sns[0]).toMatchObject({
      type: "boardingpass.identity.linked.v1",
      subject: sub,
      data: { sub, tenant: "acme", identityId: guestId, providerName: "Cognito" },
    });
  });

  it("is a no-op the second time: same answer, no second event", async () => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest();
    const proof = guestProof(guestId);
    await link({ identityId: guestId, sub }, { guestProof: proof });

    // Act
    const again = await link({ identityId: guestId, sub }, { guestProof: proof });

    // Assess
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again)).toMatchObject({ outcome: "linked", alreadyDone: true });
    const { sns, kinesis } = await published(identityLinkedEventId(sub, guestId));
    expect(sns).toHaveLength(1);
    expect(kinesis).toHaveLength(1);
  });
});

describe("POST /identity/link: merge (Cognito folded the guest into the user's identity)", () => {
  it("moves guest data and IoT attachment to the survivor, detaches and tombstones the guest", async () => {
    // Prepare: the user already has an identity with preferences; the guest had the IoT policy.
    const { sub, guestId } = await givenUserAndGuest({ theme: "dark", lang: "fr" });
    const survivorId = newIdentityId();
    await preferences({ identityId: survivorId, sub }, "PUT", { preferences: { theme: "light" } });
    await plane.iotClient.send(
      new AttachPolicyCommand({ policyName: plane.policyName, target: guestId }),
    );
    await new DynamoIdentityGraph(plane.dynamo, plane.tableName).recordIotPolicy(
      guestId,
      plane.policyName,
      true,
    );

    // Act
    const result = await link({ identityId: survivorId, sub }, { guestProof: guestProof(guestId) });

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      outcome: "merged",
      identityId: survivorId,
      guestIdentityId: guestId,
      alreadyDone: false,
    });
    // Conflict rule: the survivor's value wins, guest-only keys are added.
    const survivorPrefs = await preferences({ identityId: survivorId, sub }, "GET");
    expect(bodyOf(survivorPrefs)).toMatchObject({ preferences: { theme: "light", lang: "fr" } });
    // IoT: on the survivor, off the guest.
    expect(plane.iot.attachedPolicies(survivorId).map((p) => p.policyName)).toEqual([
      plane.policyName,
    ]);
    expect(plane.iot.attachedPolicies(guestId)).toEqual([]);
    // Graph: tombstone with redirect, ancestry on the survivor.
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    expect(await graph.get(guestId)).toMatchObject({ mergedInto: survivorId, iotPolicies: [] });
    expect(await graph.get(survivorId)).toMatchObject({
      userSub: sub,
      mergedFrom: [guestId],
      iotPolicies: [plane.policyName],
    });
    expect(await graph.identitiesOfUser(sub)).toEqual([
      expect.objectContaining({ identityId: survivorId }),
    ]);
    // Late writers on the guest are redirected.
    const late = await preferences({ identityId: guestId }, "PUT", { preferences: { x: 1 } });
    expect(late.statusCode).toBe(409);
    expect(bodyOf(late)).toMatchObject({ error: "IdentityMerged", mergedInto: survivorId });
    expect((await preferences({ identityId: guestId }, "GET")).statusCode).toBe(409);
    // Events: merged (v2, identity ids) and linked, once each on SNS and Kinesis.
    const merged = await published(identityMergedEventId(survivorId, guestId));
    expect(merged.sns).toHaveLength(1);
    expect(merged.kinesis).toHaveLength(1);
    expect(merged.sns[0]).toMatchObject({
      type: "boardingpass.identity.merged.v2",
      subject: sub,
      partitionkey: sub,
      data: { sub, tenant: "acme", identityId: survivorId, mergedIdentityId: guestId },
    });
    const linked = await published(identityLinkedEventId(sub, survivorId));
    expect(linked.sns).toHaveLength(1);
    expect(linked.kinesis).toHaveLength(1);
  });

  it("answers a replayed proof after the merge with a harmless no-op", async () => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest();
    const survivorId = newIdentityId();
    const proof = guestProof(guestId);
    expect((await link({ identityId: survivorId, sub }, { guestProof: proof })).statusCode).toBe(
      200,
    );

    // Act
    const replay = await link({ identityId: survivorId, sub }, { guestProof: proof });

    // Assess
    expect(replay.statusCode).toBe(200);
    expect(bodyOf(replay)).toMatchObject({
      outcome: "merged",
      identityId: survivorId,
      alreadyDone: true,
    });
    const { sns, kinesis } = await published(identityMergedEventId(survivorId, guestId));
    expect(sns).toHaveLength(1);
    expect(kinesis).toHaveLength(1);
    expect(bodyOf(await preferences({ identityId: survivorId, sub }, "GET"))).toMatchObject({
      preferences: { lang: "fr" },
    });
  });

  it("gives concurrent merges of one guest by two users one result", async () => {
    // Prepare
    const { guestId } = await givenUserAndGuest({ lang: "de" });
    const callers = [
      { identityId: newIdentityId(), sub: newSub() },
      { identityId: newIdentityId(), sub: newSub() },
    ];
    for (const caller of callers) await plane.createProfile(caller.sub);
    const proof = guestProof(guestId);

    // Act
    const results = await Promise.all(callers.map((caller) => link(caller, { guestProof: proof })));

    // Assess
    const statuses = results.map((result) => result.statusCode).sort();
    expect(statuses).toEqual([200, 409]);
    const winner = callers[results.findIndex((result) => result.statusCode === 200)]!;
    const loser = callers.find((caller) => caller !== winner)!;
    expect(bodyOf(results.find((r) => r.statusCode === 409)!)).toMatchObject({
      error: "GuestAlreadyMerged",
    });
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    expect(await graph.get(guestId)).toMatchObject({ mergedInto: winner.identityId });
    expect(bodyOf(await preferences(winner, "GET"))).toMatchObject({ preferences: { lang: "de" } });
    expect(bodyOf(await preferences(loser, "GET"))).toEqual({ preferences: {} });
    expect(plane.iot.attachedPolicies(loser.identityId)).toEqual([]);
  });

  it("refuses a proof minted before the guest became another user's identity (ADR 0006: no guest)", async () => {
    // Prepare: the guest signed in (link in place), its old proof is still within ten minutes.
    const { sub, guestId } = await givenUserAndGuest({ mine: true });
    const proof = guestProof(guestId);
    await link({ identityId: guestId, sub }, { guestProof: proof });
    const other = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(other.sub);

    // Act
    const result = await link(other, { guestProof: proof });

    // Assess
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "NotAGuest" });
    expect(bodyOf(await preferences({ identityId: guestId, sub }, "GET"))).toMatchObject({
      preferences: { mine: true },
    });
  });

  it("refuses a guest the identity pool lists a login for, though nothing is recorded here", async () => {
    // Prepare: someone signed in on the guest's device; their app has not called us yet.
    const { guestId } = await givenUserAndGuest({ theirs: true });
    const proof = guestProof(guestId);
    plane.identityPool.signIn(guestId);
    const attacker = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(attacker.sub);

    // Act
    const result = await link(attacker, { guestProof: proof });

    // Assess: refused, nothing fenced, nothing moved.
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "NotAGuest" });
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    expect((await graph.get(guestId))?.mergedInto).toBeUndefined();
    expect(await graph.getMerge(guestId)).toBeNull();
    expect(bodyOf(await preferences(attacker, "GET"))).toEqual({ preferences: {} });
  });

  it("the fence refuses an identity whose user was recorded after the merge started", async () => {
    // Prepare: a merge record at `started` (a crash right after it was created), then the
    // guest's identity is linked to its own user before the merge resumes.
    const { guestId } = await givenUserAndGuest({ theirs: true });
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    const owner = newSub();
    await plane.createProfile(owner);

    // Act: the fence's own condition.
    await preferences({ identityId: guestId, sub: owner }, "PUT", { preferences: { theirs: 2 } });
    const fenced = await graph.fence(guestId, newIdentityId(), new Date());

    // Assess
    expect(fenced).toEqual({ fenced: false, reason: "has-user" });
    expect((await graph.get(guestId))?.mergedInto).toBeUndefined();
  });

  it("refuses to merge into a caller identity that was itself merged away", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const survivorId = newIdentityId();
    const elsewhere = newIdentityId();
    await new DynamoIdentityGraph(plane.dynamo, plane.tableName).fence(
      survivorId,
      elsewhere,
      new Date(),
    );
    const result = await link({ identityId: survivorId, sub }, { guestProof: guestProof(guestId) });
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({ error: "IdentityMerged", mergedInto: elsewhere });
  });

  it("gives concurrent retries by the same caller the same result and one event", async () => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest({ lang: "it" });
    const survivorId = newIdentityId();
    const proof = guestProof(guestId);

    // Act
    const results = await Promise.all(
      [1, 2, 3].map(() => link({ identityId: survivorId, sub }, { guestProof: proof })),
    );

    // Assess
    expect(results.map((result) => result.statusCode)).toEqual([200, 200, 200]);
    for (const result of results) {
      expect(bodyOf(result)).toMatchObject({ outcome: "merged", identityId: survivorId });
    }
    expect(bodyOf(await preferences({ identityId: survivorId, sub }, "GET"))).toMatchObject({
      preferences: { lang: "it" },
    });
    // At least once, never under a second id (usually exactly once: the call that finishes the
    // merge publishes; a call that only arrives after it may re-send the same id).
    const { sns, kinesis } = await published(identityMergedEventId(survivorId, guestId));
    expect(sns.length).toBeGreaterThanOrEqual(1);
    expect(kinesis.length).toBeGreaterThanOrEqual(1);
    const mergedEvents = plane.snsMessages.filter(
      (message) =>
        message.type === "boardingpass.identity.merged.v2" &&
        (message.data as { mergedIdentityId: string }).mergedIdentityId === guestId,
    );
    expect(new Set(mergedEvents.map((event) => event.id))).toEqual(
      new Set([identityMergedEventId(survivorId, guestId)]),
    );
  });
});

describe("POST /identity/link: a crash half-way resumes on the next call", () => {
  // Fault after step k: the conditional transition *out of* step k fails once.
  const transitions = [
    ["started", "fenced"],
    ["fenced", "data-moved"],
    ["data-moved", "iot-moved"],
    ["iot-moved", "linked"],
    ["linked", "done"],
  ] as const;

  it.each(transitions)("resumes after a fault on %s → %s", async (from, to) => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest({ lang: "pt", step: from });
    const survivorId = newIdentityId();
    await preferences({ identityId: survivorId, sub }, "PUT", { preferences: { lang: "en" } });
    const proof = guestProof(guestId);
    const failOnce = { armed: true };
    const faulty = failingDynamo(plane.dynamo, (command) => {
      const values = command.input.ExpressionAttributeValues as Record<string, unknown> | undefined;
      const hit = failOnce.armed && values?.[":from"] === from && values?.[":to"] === to;
      if (hit) failOnce.armed = false;
      return hit;
    });
    const crashing = plane.deps({
      graph: new DynamoIdentityGraph(faulty, plane.tableName),
      data: new DynamoIdentityDataStore(faulty, plane.tableName),
    });

    // Act
    const crashed = await link({ identityId: survivorId, sub }, { guestProof: proof }, crashing);
    const resumed = await link({ identityId: survivorId, sub }, { guestProof: proof });

    // Assess
    expect(crashed.statusCode).toBe(500);
    expect(resumed.statusCode).toBe(200);
    expect(bodyOf(resumed)).toMatchObject({ outcome: "merged", identityId: survivorId });
    expect(bodyOf(await preferences({ identityId: survivorId, sub }, "GET"))).toMatchObject({
      preferences: { lang: "en", step: from },
    });
    expect(plane.iot.attachedPolicies(guestId)).toEqual([]);
    expect(plane.iot.attachedPolicies(survivorId).map((p) => p.policyName)).toEqual([
      plane.policyName,
    ]);
    const { sns, kinesis } = await published(identityMergedEventId(survivorId, guestId));
    expect(sns).toHaveLength(1);
    expect(kinesis).toHaveLength(1);
  });

  it("resumes after IoT failed half-way (the detach from the guest)", async () => {
    // Prepare
    const { sub, guestId } = await givenUserAndGuest({ lang: "nl" });
    const survivorId = newIdentityId();
    const proof = guestProof(guestId);
    const faultyIot: LinkDeps["iot"] = {
      attach: (policy, id) => plane.deps().iot.attach(policy, id),
      detach: () => Promise.reject(Object.assign(new Error("injected"), { name: "InjectedFault" })),
    };

    // Act
    const crashed = await link(
      { identityId: survivorId, sub },
      { guestProof: proof },
      plane.deps({ iot: faultyIot }),
    );
    const resumed = await link({ identityId: survivorId, sub }, { guestProof: proof });

    // Assess
    expect(crashed.statusCode).toBe(500);
    expect(resumed.statusCode).toBe(200);
    expect(plane.iot.attachedPolicies(survivorId).map((p) => p.policyName)).toEqual([
      plane.policyName,
    ]);
    expect(bodyOf(await preferences({ identityId: survivorId, sub }, "GET"))).toMatchObject({
      preferences: { lang: "nl" },
    });
  });

  it("publishes a merged event whose inline publish failed on the next call, with the same id", async () => {
    // Prepare: SNS refuses during the first call; the state change is stored with its event.
    const { sub, guestId } = await givenUserAndGuest();
    const survivorId = newIdentityId();
    const proof = guestProof(guestId);
    const down = plane.deps({
      publisher: {
        publish: async (events) => ({
          published: [],
          failed: events.map((event) => ({ id: event.id, reason: "Unavailable" })),
        }),
      },
    });

    // Act
    const first = await link({ identityId: survivorId, sub }, { guestProof: proof }, down);
    const before = await published(identityMergedEventId(survivorId, guestId));
    const replay = await link({ identityId: survivorId, sub }, { guestProof: proof });

    // Assess
    expect(first.statusCode).toBe(200);
    expect(bodyOf<{ events: Array<{ published: boolean }> }>(first).events).toEqual([
      expect.objectContaining({ published: false }),
      expect.objectContaining({ published: false }),
    ]);
    expect(before.sns).toHaveLength(0);
    expect(replay.statusCode).toBe(200);
    const after = await published(identityMergedEventId(survivorId, guestId));
    expect(after.sns).toHaveLength(1);
    expect(after.kinesis).toHaveLength(1);
  });
});

describe("POST /identity/link: the outbox relay", () => {
  it("relays identity.linked left pending, and never sees the merge record as corrupt", async () => {
    // Prepare: a merge whose inline publish failed entirely.
    const { sub, guestId } = await givenUserAndGuest();
    const survivorId = newIdentityId();
    const down = plane.deps({
      publisher: {
        publish: async (events) => ({
          published: [],
          failed: events.map((event) => ({ id: event.id, reason: "Unavailable" })),
        }),
      },
    });
    await link({ identityId: survivorId, sub }, { guestProof: guestProof(guestId) }, down);

    // Act
    const summary = await relayOutbox(
      {
        store: new DynamoOutboxStore(plane.dynamo, plane.tableName),
        publisher: new SnsKinesisEventPublisher({
          sns: plane.snsClient,
          kinesis: plane.kinesisClient,
          topicArn: plane.topicArn,
          streamName: plane.streamName,
        }),
      },
      { now: new Date(Date.now() + 60_000), graceMs: 0 },
    );

    // Assess
    expect(summary.corrupt).toBe(0);
    const linked = await published(identityLinkedEventId(sub, survivorId));
    expect(linked.sns).toHaveLength(1);
    expect(linked.kinesis).toHaveLength(1);
  });
});

describe("POST /identity/link: refused proofs and requests", () => {
  async function expectRefused(
    proof: string,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const { sub, guestId } = await givenUserAndGuest({ keep: "me" });
    const survivorId = newIdentityId();
    const body = { guestProof: proof.replaceAll("GUEST", guestId), ...extra };
    const result = await link({ identityId: survivorId, sub }, body);
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "GuestProofRejected", reason });
    expect(bodyOf<{ message: string }>(result).message.length).toBeGreaterThan(10);
    // Nothing moved.
    expect(bodyOf(await preferences({ identityId: guestId }, "GET"))).toMatchObject({
      preferences: { keep: "me" },
    });
  }

  it("refuses a forged proof (signed with another key under the pool's kid)", async () => {
    const forger = newSigningKey(plane.key.kid);
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: mintOpenIdToken(forger, { sub: guestId, aud: plane.identityPoolId }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "invalid-signature" });
  });

  it("refuses a proof signed with a key the pool does not publish", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: mintOpenIdToken(newSigningKey(), { sub: guestId, aud: plane.identityPoolId }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "unknown-key" });
  });

  it("refuses an expired proof", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: guestProof(guestId, { iat: past - 600, exp: past }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "expired" });
  });

  it("refuses a proof for another identity pool", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: guestProof(guestId, { aud: newIdentityId() }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "foreign-audience" });
  });

  it("refuses a proof of an authenticated identity", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: guestProof(guestId, { amr: ["authenticated", "cognito-idp.x"] }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "not-a-guest" });
  });

  it("refuses a proof whose sub is not the guest the app named", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: guestProof(guestId), guestIdentityId: newIdentityId() },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "subject-mismatch" });
  });

  it("refuses a proof from another issuer", async () => {
    const { sub, guestId } = await givenUserAndGuest();
    const result = await link(
      { identityId: newIdentityId(), sub },
      { guestProof: guestProof(guestId, { iss: "https://example.com" }) },
    );
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ reason: "wrong-issuer" });
  });

  it("leaves the guest untouched when refused", async () => {
    await expectRefused(
      mintOpenIdToken(plane.key, {
        sub: "GUEST",
        aud: plane.identityPoolId,
        exp: Math.floor(Date.now() / 1000) - 1,
      }),
      "expired",
    );
  });

  it("refuses a guest caller (not signed in) with 403", async () => {
    const guestId = newIdentityId();
    const result = await link({ identityId: guestId }, { guestProof: guestProof(guestId) });
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "InvalidCaller" });
  });

  it.each([
    ["not JSON", "{"],
    ["no proof", {}],
    ["an empty proof", { guestProof: "" }],
    ["a proof that is no JWT", { guestProof: "hello" }],
    ["an unknown field", { guestProof: "a.b.c", identityId: "us-east-1:x" }],
    ["a malformed guest id", { guestProof: "a.b.c", guestIdentityId: "nope" }],
  ])("answers 400 to a body with %s", async (_case, body) => {
    const result = await link({ identityId: newIdentityId(), sub: newSub() }, body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: "MalformedBody" });
  });

  it("answers 503 (retryable) when the user's profile does not exist yet", async () => {
    const guestId = newIdentityId();
    const result = await link(
      { identityId: newIdentityId(), sub: newSub() },
      { guestProof: guestProof(guestId) },
    );
    expect(result.statusCode).toBe(503);
  });
});
