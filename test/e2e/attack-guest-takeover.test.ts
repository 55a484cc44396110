/**
 * Issue 12, section 1: shared-device identity takeover through a stale guest proof, end to end
 * against the local cloud booted from the stacks (the HTTP API with its IAM authorizer, the local
 * identity pool, the functions in the Lambda runtime).
 *
 * The kiosk: someone uses the app as a guest (identity G) and keeps G's guest credentials (valid
 * up to an hour; API Gateway keeps reporting the `amr` they were issued with, unauthenticated). A
 * victim then signs in on that device: Cognito links the victim's login to G in place (same id,
 * now authenticated). The attacker, signed in as their own user, tries to merge G (and with it
 * the victim's data) into their own identity. ADR 0006: an identity that has any login in the
 * identity pool is never a guest, whatever its credentials say.
 *
 * Also section 3's per-identity limit on guest proofs (429 with Retry-After).
 */

import type { LocalCloud } from "@boarding-pass/local/cloud";
import { BOOT_TIMEOUT_MS, bootCloud, STEP_TIMEOUT_MS } from "@boarding-pass/testing/cloud";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Actors } from "./actors";

let cloud: LocalCloud;
let actors: Actors;

beforeAll(async () => {
  cloud = await bootCloud();
  actors = new Actors(cloud);
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  actors?.close();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

describe("a stale guest proof cannot take over the identity someone signed in on", () => {
  it(
    "refuses a new proof for stale guest credentials, and a proof minted before the victim signed in",
    async () => {
      // Prepare: the kiosk's guest G, its credentials and a proof minted while it was a guest.
      const guest = await actors.guest();
      const earlyProof = await actors.api("POST", "identity/guest-proof", guest.credentials);
      expect(earlyProof.status).toBe(200);
      // The victim signs in on the kiosk: Cognito links their login to G in place.
      const victim = await actors.user("victim");
      const victimOnKiosk = await actors.credentialsFor(guest.identityId, victim.idToken);
      expect(victimOnKiosk.identityId).toBe(guest.identityId);
      const saved = await actors.api("PUT", "identity/preferences", victimOnKiosk.credentials, {
        preferences: { homeAddress: "victim's" },
      });
      expect(saved.status).toBe(200);
      // The attacker, signed in as themselves elsewhere.
      const attacker = await actors.user("attacker");
      const attackerIdentity = await actors.identityOf(attacker);

      // Act: a fresh proof with G's stale guest credentials, then the link with the early proof.
      const staleProof = await actors.api("POST", "identity/guest-proof", guest.credentials);
      const merge = await actors.api("POST", "identity/link", attackerIdentity.credentials, {
        guestProof: earlyProof.body.guestProof,
        guestIdentityId: guest.identityId,
      });
      const staleRead = await actors.api("GET", "identity/preferences", guest.credentials);

      // Assess: all refused as "no guest", and nothing moved.
      expect(staleProof.status).toBe(403);
      expect(staleProof.body).toMatchObject({ error: "NotAGuest" });
      expect(merge.status).toBe(403);
      expect(merge.body).toMatchObject({ error: "NotAGuest" });
      expect(staleRead.status).toBe(403);
      expect(staleRead.body).toMatchObject({ error: "NotAGuest" });
      const kioskRecord = await actors.item(`IDENTITY#${guest.identityId}`, "IDENTITY");
      expect(kioskRecord?.mergedInto).toBeUndefined();
      expect(kioskRecord?.userSub).toBe(victim.sub);
      expect(await actors.item(`IDENTITY#${guest.identityId}`, "MERGE")).toBeUndefined();
      const victimRead = await actors.api("GET", "identity/preferences", victimOnKiosk.credentials);
      expect(victimRead).toMatchObject({
        status: 200,
        body: { preferences: { homeAddress: "victim's" } },
      });
      const attackerRead = await actors.api(
        "GET",
        "identity/preferences",
        attackerIdentity.credentials,
      );
      expect(attackerRead.body).toMatchObject({ preferences: {} });
      const victimWrites = await actors.api(
        "PUT",
        "identity/preferences",
        victimOnKiosk.credentials,
        { preferences: { homeAddress: "still the victim's" } },
      );
      expect(victimWrites.status).toBe(200);
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    "asks the identity pool itself: refused though the victim's app never called the backend",
    async () => {
      // Prepare: a guest with a proof; a victim signs in on it and their app calls nothing of
      // ours, so only the identity pool knows the identity is no guest any more.
      const guest = await actors.guest();
      const earlyProof = await actors.api("POST", "identity/guest-proof", guest.credentials);
      expect(earlyProof.status).toBe(200);
      const victim = await actors.user("victim");
      expect((await actors.credentialsFor(guest.identityId, victim.idToken)).identityId).toBe(
        guest.identityId,
      );
      const attacker = await actors.user("attacker");
      const attackerIdentity = await actors.identityOf(attacker);

      // Act
      const staleProof = await actors.api("POST", "identity/guest-proof", guest.credentials);
      const merge = await actors.api("POST", "identity/link", attackerIdentity.credentials, {
        guestProof: earlyProof.body.guestProof,
      });

      // Assess: refused; G neither fenced nor merged, its record names no user of ours.
      expect(staleProof).toMatchObject({ status: 403, body: { error: "NotAGuest" } });
      expect(merge).toMatchObject({ status: 403, body: { error: "NotAGuest" } });
      const kioskRecord = await actors.item(`IDENTITY#${guest.identityId}`, "IDENTITY");
      expect(kioskRecord?.mergedInto).toBeUndefined();
      expect(kioskRecord?.userSub).toBeUndefined();
      expect(await actors.item(`IDENTITY#${guest.identityId}`, "MERGE")).toBeUndefined();
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    "still merges a real guest: the identity pool lists no login for it",
    async () => {
      // Prepare: a guest with data and a proof; the user signs in on another device already
      // linked, so Cognito merges the guest into the user's identity.
      const guest = await actors.guest();
      await actors.api("PUT", "identity/preferences", guest.credentials, {
        preferences: { lang: "fi" },
      });
      const proof = await actors.api("POST", "identity/guest-proof", guest.credentials);
      const user = await actors.user("traveller");
      const own = await actors.identityOf(user);
      const merged = await actors.credentialsFor(guest.identityId, user.idToken);
      expect(merged.identityId).toBe(own.identityId);

      // Act
      const link = await actors.api("POST", "identity/link", merged.credentials, {
        guestProof: proof.body.guestProof,
        guestIdentityId: guest.identityId,
      });

      // Assess
      expect(link).toMatchObject({ status: 200, body: { outcome: "merged" } });
      const read = await actors.api("GET", "identity/preferences", merged.credentials);
      expect(read.body).toMatchObject({ preferences: { lang: "fi" } });
    },
    STEP_TIMEOUT_MS * 2,
  );
});

describe("guest proofs are limited per identity (issue 12, section 3)", () => {
  it(
    "answers the sixth proof in ten minutes with 429 and Retry-After; another guest is unaffected",
    async () => {
      // Prepare
      const guest = await actors.guest();
      const other = await actors.guest();

      // Act
      const answers = [];
      for (let i = 0; i < 6; i++) {
        answers.push(await actors.api("POST", "identity/guest-proof", guest.credentials));
      }
      const otherAnswer = await actors.api("POST", "identity/guest-proof", other.credentials);

      // Assess
      expect(answers.slice(0, 5).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      const limited = answers[5]!;
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: "GuestProofLimit" });
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(limited.body.retryAfterSeconds).toBe(retryAfter);
      expect(otherAnswer.status).toBe(200);
      expect(
        await actors.item(`IDENTITY#${guest.identityId}`, "THROTTLE#guest-proof"),
      ).toMatchObject({ proofs: 5 });
    },
    STEP_TIMEOUT_MS * 2,
  );
});
