/**
 * Issue 12, section 3, "writes after erasure", end to end against the local cloud booted from the
 * stacks: after `DELETE /identity/me`, credentials the user's devices got before the deletion
 * (valid up to an hour) must not write the user's data back, and every identity that held the
 * user's data must be erased, also one the user index had never recorded (ADR 0007).
 *
 * The merge that races a deletion is tested at handler level with the deletion injected between
 * the merge's read and its writes (packages/functions/test/api/delete-user.test.ts, "a merge still
 * running when the user is deleted"): a Lambda cannot be paused mid-flight in the local runtime.
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

describe("nothing of a deleted user is written back or left behind", () => {
  it(
    "erases the identity a signed-in device wrote to, and refuses its old credentials with 410",
    async () => {
      // Prepare: a user whose device saved preferences, then deletes the account.
      const user = await actors.user("erased");
      const device = await actors.identityOf(user);
      const saved = await actors.api("PUT", "identity/preferences", device.credentials, {
        preferences: { nickname: "Ada" },
      });
      expect(saved.status).toBe(200);
      const deleted = await actors.deleteAccount(user);
      expect(deleted).toMatchObject({ status: 200, body: { outcome: "deleted" } });

      // Act: the device still holds credentials issued before the deletion.
      const afterward = await actors.api("PUT", "identity/preferences", device.credentials, {
        preferences: { nickname: "Ada, again" },
      });
      const read = await actors.api("GET", "identity/preferences", device.credentials);

      // Assess: refused, and the table holds only an empty tombstone where the data was.
      expect(afterward).toMatchObject({ status: 410, body: { error: "UserDeleted" } });
      expect(read).toMatchObject({ status: 410, body: { error: "UserDeleted" } });
      const stored = await actors.item(`IDENTITY#${device.identityId}`, "DATA#preferences");
      expect(stored).toBeDefined();
      expect(Object.keys(stored!).sort()).toEqual(["pk", "sk", "userDeletedAt"]);
      const record = await actors.item(`IDENTITY#${device.identityId}`, "IDENTITY");
      expect(record).toMatchObject({ userSub: user.sub, userDeletedAt: expect.any(String) });
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    "erases on sight an identity first seen after the deletion (never in the user index)",
    async () => {
      // Prepare: the user got credentials on a device but the app called nothing of ours, so the
      // deletion could not know that identity; then the account is deleted.
      const user = await actors.user("unseen");
      const device = await actors.identityOf(user);
      const deleted = await actors.deleteAccount(user);
      expect(deleted).toMatchObject({ status: 200, body: { outcome: "deleted", released: [] } });

      // Act
      const write = await actors.api("PUT", "identity/preferences", device.credentials, {
        preferences: { nickname: "Grace" },
      });

      // Assess: refused; the identity is now recorded as the deleted user's, marked, and the only
      // data item under it is the empty tombstone.
      expect(write).toMatchObject({ status: 410, body: { error: "UserDeleted" } });
      const record = await actors.item(`IDENTITY#${device.identityId}`, "IDENTITY");
      expect(record).toMatchObject({
        userSub: user.sub,
        gsi1pk: `USER#${user.sub}`,
        userDeletedAt: expect.any(String),
      });
      expect(await actors.sortKeysUnder(`IDENTITY#${device.identityId}`)).toEqual([
        "DATA#preferences",
        "IDENTITY",
      ]);
      const stored = await actors.item(`IDENTITY#${device.identityId}`, "DATA#preferences");
      expect(stored?.document).toBeUndefined();
    },
    STEP_TIMEOUT_MS * 2,
  );
});
