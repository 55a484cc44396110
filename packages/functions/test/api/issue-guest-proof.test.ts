import { DynamoIdentityGraph } from "@boarding-pass/core/adapters/identities/dynamodb-identity-graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfGuestProofIssuer } from "../../src/api/config";
import { createIssueGuestProofHandler } from "../../src/api/issue-guest-proof";
import { createLinkIdentityHandler } from "../../src/api/link-identity";
import { createPreferencesHandler } from "../../src/api/preferences";
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

const issue = (caller: Caller) =>
  createIssueGuestProofHandler({
    signer: localSigner(plane.selfKey),
    graph: new DynamoIdentityGraph(plane.dynamo, plane.tableName),
    identityPoolId: plane.identityPoolId,
    issuer: SELF_ISSUER,
    now: () => new Date(),
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
});
