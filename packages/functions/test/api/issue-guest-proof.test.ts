import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  DynamoGuestProofQuotaStore,
  DynamoIdentityGraph,
  guestProofQuotaKey,
} from "@boarding-pass/core/adapters/dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfGuestProofIssuer } from "../../src/api/config";
import { createIssueGuestProofHandler } from "../../src/api/handlers/issue-guest-proof";
import { createLinkIdentityHandler } from "../../src/api/handlers/link-identity";
import { createPreferencesHandler } from "../../src/api/handlers/preferences";
import {
  bodyOf,
  type Caller,
  iamEvent,
  localSigner,
  newIdentityId,
  newSub,
  type Plane,
  SELF_ISSUER,
  startPlane,
} from "./harness";

let plane: Plane;

beforeAll(async () => {
  plane = await startPlane();
});
afterAll(async () => {
  await plane?.stop();
});

const issue = (
  caller: Caller,
  options: { limit?: { limit: number; windowSeconds: number }; now?: () => Date } = {},
) =>
  createIssueGuestProofHandler({
    signer: localSigner(plane.selfKey),
    graph: new DynamoIdentityGraph(plane.dynamo, plane.tableName),
    identityPool: plane.identityPool,
    quota: new DynamoGuestProofQuotaStore(plane.dynamo, plane.tableName),
    limit: options.limit ?? { limit: 5, windowSeconds: 600 },
    identityPoolId: plane.identityPoolId,
    issuer: SELF_ISSUER,
    now: options.now ?? (() => new Date()),
  })(iamEvent(caller, plane.identityPoolId, { method: "POST", path: "/identity/guest-proof" }));

const call = (
  handler: ReturnType<typeof createLinkIdentityHandler>,
  caller: Caller,
  request: { method: string; path: string; body?: unknown },
) => handler(iamEvent(caller, plane.identityPoolId, request));

describe("POST /identity/guest-proof (classic flow off: the backend vouches for the guest)", () => {
  it("uses the stage's issuer string", () => {
    expect(selfGuestProofIssuer("test")).toBe(SELF_ISSUER);
  });

  it("issues a proof the link route accepts, and the merge goes through with it", async () => {
    // Prepare: a guest with preferences asks for its proof before signing in.
    const guest = { identityId: newIdentityId() };
    const preferences = createPreferencesHandler({
      ...plane.deps(),
      identityPoolId: plane.identityPoolId,
    });
    await preferences(
      iamEvent(guest, plane.identityPoolId, {
        method: "PUT",
        path: "/identity/preferences",
        body: { preferences: { lang: "sv" } },
      }),
    );
    const issued = await issue(guest);
    const { guestProof, guestIdentityId, expiresAt } = bodyOf<{
      guestProof: string;
      guestIdentityId: string;
      expiresAt: string;
    }>(issued);
    const user = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(user.sub);

    // Act
    const linked = await call(createLinkIdentityHandler(plane.deps()), user, {
      method: "POST",
      path: "/identity/link",
      body: { guestProof, guestIdentityId },
    });

    // Assess
    expect(issued.statusCode).toBe(200);
    expect(issued.headers).toMatchObject({ "cache-control": "no-store" });
    expect(guestIdentityId).toBe(guest.identityId);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60 * 1000);
    const [, payload] = guestProof.split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      iss: SELF_ISSUER,
      aud: plane.identityPoolId,
      sub: guest.identityId,
      amr: ["unauthenticated"],
    });
    expect(linked.statusCode).toBe(200);
    expect(bodyOf(linked)).toMatchObject({ outcome: "merged", identityId: user.identityId });
    const survivorPreferences = await preferences(
      iamEvent(user, plane.identityPoolId, { method: "GET", path: "/identity/preferences" }),
    );
    expect(bodyOf(survivorPreferences)).toMatchObject({ preferences: { lang: "sv" } });
  });

  it("refuses a signed-in caller: only a guest can prove it is a guest", async () => {
    const result = await issue({ identityId: newIdentityId(), sub: newSub() });
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "InvalidCaller" });
  });

  it("refuses a guest that was merged away (409 with where it went)", async () => {
    const guest = { identityId: newIdentityId() };
    const survivorId = newIdentityId();
    await new DynamoIdentityGraph(plane.dynamo, plane.tableName).fence(
      guest.identityId,
      survivorId,
      new Date(),
    );
    const result = await issue(guest);
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({ error: "IdentityMerged", mergedInto: survivorId });
  });

  it("refuses stale guest credentials of an identity someone signed in on (403 NotAGuest)", async () => {
    // Prepare: the identity pool now lists a login on the identity; the caller's amr still says guest.
    const guest = { identityId: newIdentityId() };
    plane.identityPool.signIn(guest.identityId);

    // Act
    const result = await issue(guest);

    // Assess
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "NotAGuest" });
  });

  it("refuses a guest whose identity has a user recorded here, without asking the pool", async () => {
    // Prepare
    const guest = { identityId: newIdentityId() };
    const sub = newSub();
    await plane.createProfile(sub);
    await createPreferencesHandler({ ...plane.deps(), identityPoolId: plane.identityPoolId })(
      iamEvent({ ...guest, sub }, plane.identityPoolId, {
        method: "PUT",
        path: "/identity/preferences",
        body: { preferences: { a: 1 } },
      }),
    );

    // Act
    const result = await issue(guest);

    // Assess
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "NotAGuest" });
  });
});

describe("POST /identity/guest-proof: the per-identity limit", () => {
  it("answers 429 with Retry-After past the limit, per identity, and again once the window ends", async () => {
    // Prepare: a limit of 2 per 60 s and a clock the test moves.
    let clock = Date.parse("2026-12-01T10:00:00Z");
    const options = { limit: { limit: 2, windowSeconds: 60 }, now: () => new Date(clock) };
    const guest = { identityId: newIdentityId() };
    const other = { identityId: newIdentityId() };

    // Act
    const first = await issue(guest, options);
    clock += 10_000;
    const second = await issue(guest, options);
    clock += 5_000;
    const third = await issue(guest, options);
    const otherGuest = await issue(other, options);
    clock += 45_000; // the window (started at the first proof) is over
    const afterWindow = await issue(guest, options);

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(third.statusCode).toBe(429);
    expect(third.headers).toMatchObject({ "retry-after": "45" });
    expect(bodyOf(third)).toMatchObject({ error: "GuestProofLimit", retryAfterSeconds: 45 });
    expect(otherGuest.statusCode).toBe(200);
    expect(afterWindow.statusCode).toBe(200);
    const { Item } = await plane.dynamo.send(
      new GetCommand({ TableName: plane.tableName, Key: guestProofQuotaKey(guest.identityId) }),
    );
    expect(Item).toMatchObject({
      pk: `IDENTITY#${guest.identityId}`,
      sk: "THROTTLE#guest-proof",
      proofs: 1,
      windowStart: clock / 1000,
      expiresAt: clock / 1000 + 60,
    });
  });

  it("never counts past the limit under concurrent requests", async () => {
    // Prepare
    const guest = { identityId: newIdentityId() };
    const options = { limit: { limit: 3, windowSeconds: 600 } };

    // Act
    const results = await Promise.all(Array.from({ length: 8 }, () => issue(guest, options)));

    // Assess
    const statuses = results.map((result) => result.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
  });
});
