import { describe, expect, it } from "vitest";
import { ReauthenticationRequiredError } from "../../src/errors";
import type { LiveSessions } from "../../src/identity/ports";
import { requireRecentSession } from "../../src/identity/session";

const SUB = "3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14";
const NOW = new Date("2026-12-07T12:00:00.000Z");
const nowSeconds = NOW.getTime() / 1000;

/** The pool's answer for the token: its user, or null when it refuses the session. */
function pool(answer: { sub: string } | null | Error) {
  const asked: string[] = [];
  const sessions: LiveSessions = {
    userOf: async (token) => {
      asked.push(token);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { sessions, asked };
}

const check = (authTime: unknown, sessions: LiveSessions) =>
  requireRecentSession(
    { accessToken: "access-token", sub: SUB, authTime },
    { sessions, maxAgeSeconds: 900, now: () => NOW },
  );

const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "accepted",
    (error: unknown) =>
      error instanceof ReauthenticationRequiredError ? error.reason : `threw ${String(error)}`,
  );

describe("requireRecentSession", () => {
  it("accepts a live session signed in within the window, the window's edge included", async () => {
    const { sessions, asked } = pool({ sub: SUB });
    expect(await reasonOf(check(nowSeconds - 60, sessions))).toBe("accepted");
    expect(await reasonOf(check(nowSeconds - 900, sessions))).toBe("accepted");
    expect(asked).toEqual(["access-token", "access-token"]);
  });

  it.each([
    ["a second past the window", nowSeconds - 901],
    ["a day old", nowSeconds - 86_400],
    ["missing", undefined],
    ["not a number", "yesterday"],
    ["null", null],
    ["in the future beyond clock skew", nowSeconds + 301],
  ])("refuses an auth_time %s as session-too-old, without asking the pool", async (_, authTime) => {
    const { sessions, asked } = pool({ sub: SUB });
    expect(await reasonOf(check(authTime, sessions))).toBe("session-too-old");
    expect(asked).toEqual([]);
  });

  it("accepts an auth_time given as a string of digits, as API Gateway hands claims over", async () => {
    const { sessions } = pool({ sub: SUB });
    expect(await reasonOf(check(String(nowSeconds - 10), sessions))).toBe("accepted");
  });

  it("refuses a recent session the pool no longer accepts as session-revoked", async () => {
    expect(await reasonOf(check(nowSeconds - 10, pool(null).sessions))).toBe("session-revoked");
  });

  it("refuses a token the pool attributes to another user", async () => {
    const other = pool({ sub: "b2e4a6c8-1d3f-4e5a-8b7c-9d0e1f2a3b4c" });
    expect(await reasonOf(check(nowSeconds - 10, other.sessions))).toBe("session-revoked");
  });

  it("lets a failure to ask the pool through: not knowing is neither live nor revoked", async () => {
    const failing = pool(
      Object.assign(new Error("throttled"), { name: "TooManyRequestsException" }),
    );
    expect(await reasonOf(check(nowSeconds - 10, failing.sessions))).toBe(
      "threw TooManyRequestsException: throttled",
    );
  });

  it("says which window applied, for the app and the WWW-Authenticate challenge", async () => {
    const error = await check(nowSeconds - 1000, pool({ sub: SUB }).sessions).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    expect(error).toMatchObject({
      code: "REAUTHENTICATION_REQUIRED",
      reason: "session-too-old",
      maxAgeSeconds: 900,
    });
  });
});
