import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  GuestProofRejectedError,
  InvalidCallerError,
  IotPolicyLimitError,
  IotThrottledError,
} from "../../src/errors";
import { EventSchemas } from "../../src/events/catalogue";
import {
  buildIdentityLinked,
  buildIdentityMerged,
  IdentityMergedEvent,
  identityMergedEventId,
  parseIdentityEvent,
} from "../../src/events/identity-events";
import { authenticatedCaller } from "../../src/identity/caller";
import { foldDocuments, MAX_DOCUMENT_BYTES, parsePreferences } from "../../src/identity/data";
import { verifyGuestProof } from "../../src/identity/guest-proof";
import { backoffDelay, withThrottlingBackoff } from "../../src/identity/iot";
import type { VerifiedOpenIdToken } from "../../src/identity/ports";

const POOL = "us-east-1:00000000-0000-4000-8000-0000000000aa";
const USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123";
const identity = () => `us-east-1:${randomUUID()}`;

describe("authenticatedCaller", () => {
  it("takes the user-pool sub from the CognitoSignIn amr entry, and the providers as logins", () => {
    // Prepare
    const sub = randomUUID();
    const identityId = identity();

    // Act
    const caller = authenticatedCaller(
      {
        identityId,
        identityPoolId: POOL,
        amr: ["authenticated", USER_POOL, `${USER_POOL}:CognitoSignIn:${sub}`],
      },
      POOL,
    );

    // Assess
    expect(caller).toEqual({ identityId, userSub: sub, logins: [USER_POOL] });
  });

  it.each([
    ["another pool", { identityPoolId: identity(), amr: ["authenticated"] }, /identity pool/],
    ["a guest", { amr: ["unauthenticated"] }, /not signed in/],
    ["no user-pool login", { amr: ["authenticated", "accounts.google.com"] }, /user pool/],
    ["a malformed identity id", { identityId: "nope", amr: ["authenticated"] }, /malformed/],
  ])("refuses %s", (_case, override, message) => {
    const caller = {
      identityId: identity(),
      identityPoolId: POOL,
      ...(override as { amr: string[]; identityPoolId?: string; identityId?: string }),
    };
    expect(() => authenticatedCaller(caller, POOL)).toThrow(InvalidCallerError);
    expect(() => authenticatedCaller(caller, POOL)).toThrow(message);
  });
});

describe("verifyGuestProof", () => {
  const verifierOf = (claims: Partial<VerifiedOpenIdToken>) => ({
    verifier: {
      verify: async (): Promise<VerifiedOpenIdToken> => ({
        sub: identity(),
        aud: [POOL],
        amr: ["unauthenticated"],
        exp: Math.floor(Date.now() / 1000) + 600,
        ...claims,
      }),
    },
  });

  it("accepts a guest token and returns its identity", async () => {
    const guest = identity();
    await expect(verifyGuestProof("t", verifierOf({ sub: guest }), guest)).resolves.toEqual({
      guestIdentityId: guest,
    });
  });

  it.each([
    ["authenticated amr", { amr: ["authenticated", USER_POOL] }, "not-a-guest"],
    ["both amr values", { amr: ["unauthenticated", "authenticated"] }, "not-a-guest"],
    ["no amr", { amr: [] }, "not-a-guest"],
    ["a sub that is no identity id", { sub: randomUUID() }, "malformed"],
  ])("rejects %s", async (_case, claims, reason) => {
    await expect(verifyGuestProof("t", verifierOf(claims))).rejects.toMatchObject({
      name: "GuestProofRejectedError",
      reason,
    });
  });

  it("rejects a proof for another guest than the one named", async () => {
    const error = await verifyGuestProof("t", verifierOf({}), identity()).catch((e) => e);
    expect(error).toBeInstanceOf(GuestProofRejectedError);
    expect(error).toMatchObject({ code: "GUEST_PROOF_REJECTED", reason: "subject-mismatch" });
  });
});

describe("foldDocuments (the merge conflict rule)", () => {
  it("keeps the survivor's value for shared keys and adds the guest's other keys", () => {
    expect(foldDocuments({ theme: "light" }, { theme: "dark", lang: "fr" })).toEqual({
      document: { theme: "light", lang: "fr" },
      overflow: false,
    });
  });

  it("takes the guest's document when the survivor has none", () => {
    expect(foldDocuments(undefined, { lang: "fr" })).toEqual({
      document: { lang: "fr" },
      overflow: false,
    });
  });

  it("is idempotent: folding the same guest twice changes nothing", () => {
    const once = foldDocuments({ a: 1 }, { b: 2 }).document;
    expect(foldDocuments(once, { b: 2 }).document).toEqual(once);
  });

  it("reports overflow and keeps the survivor's document when the union would be too big", () => {
    const half = "x".repeat(MAX_DOCUMENT_BYTES / 2);
    const result = foldDocuments({ a: half }, { b: half });
    expect(result).toEqual({ document: { a: half }, overflow: true });
  });
});

describe("parsePreferences", () => {
  it("accepts a small JSON object", () => {
    expect(parsePreferences({ theme: "dark", n: 1, nested: { ok: [true, null] } })).toEqual({
      theme: "dark",
      n: 1,
      nested: { ok: [true, null] },
    });
  });

  it.each([
    ["an array", [1]],
    ["a string", "x"],
    ["a key with spaces", { "a b": 1 }],
    ["too many keys", Object.fromEntries(Array.from({ length: 65 }, (_, n) => [`k${n}`, n]))],
    [
      "too many bytes",
      {
        a: "x".repeat(1000),
        b: "x".repeat(1000),
        c: "x".repeat(1000),
        d: "x".repeat(1000),
        e: "x".repeat(200),
      },
    ],
  ])("refuses %s", (_case, value) => {
    expect(() => parsePreferences(value)).toThrow(/./);
  });
});

describe("IoT back-off", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };

  it("grows exponentially, is capped, and is full jitter", () => {
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(1998);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });

  it("retries throttling a bounded number of times, then gives up", async () => {
    const slept: number[] = [];
    let calls = 0;
    const clock = { sleep: async (ms: number) => void slept.push(ms), random: () => 0.5 };
    const work = async () => {
      calls++;
      throw new IotThrottledError("throttled");
    };
    await expect(withThrottlingBackoff(work, policy, clock)).rejects.toBeInstanceOf(
      IotThrottledError,
    );
    expect(calls).toBe(5);
    expect(slept).toEqual([50, 100, 200, 400]);
  });

  it("does not retry other errors (the 10-policy limit is final)", async () => {
    let calls = 0;
    const work = async () => {
      calls++;
      throw new IotPolicyLimitError("limit");
    };
    const clock = { sleep: async () => {}, random: () => 0 };
    await expect(withThrottlingBackoff(work, policy, clock)).rejects.toBeInstanceOf(
      IotPolicyLimitError,
    );
    expect(calls).toBe(1);
  });
});

describe("identity events", () => {
  const sub = randomUUID();
  const survivorId = identity();
  const guestId = identity();
  const merged = (time: Date) =>
    buildIdentityMerged({
      sub,
      tenant: "acme",
      survivorId,
      guestId,
      time,
      source: "boardingpass/test/link-identity",
    });

  it("gives a merge the same id however often it is built", () => {
    const first = merged(new Date("2026-11-26T14:00:00Z"));
    const retry = merged(new Date("2026-11-26T14:05:00Z"));
    expect(first.id).toBe(retry.id);
    expect(first.id).toBe(identityMergedEventId(survivorId, guestId));
    expect(identityMergedEventId(guestId, survivorId)).not.toBe(first.id);
  });

  it("round-trips both identity events through their stored JSON", () => {
    const event = merged(new Date());
    expect(parseIdentityEvent(JSON.stringify(event))).toEqual(event);
    const linked = buildIdentityLinked({
      sub,
      tenant: "acme",
      identityId: survivorId,
      providerName: "Cognito",
      time: new Date(),
      source: "boardingpass/test/link-identity",
    });
    expect(parseIdentityEvent(JSON.stringify(linked))).toEqual(linked);
  });

  // One source: the catalogue's schema (snapshotted with every type in test/events/catalogue.test.ts).
  it("uses the catalogue's boardingpass.identity.merged.v2 schema", () => {
    expect(IdentityMergedEvent).toBe(EventSchemas["boardingpass.identity.merged.v2"]);
    expect(EventSchemas["boardingpass.identity.merged.v2"].parse(merged(new Date()))).toBeTruthy();
  });
});
