import { describe, expect, it } from "vitest";
import {
  FUNCTION_ENVIRONMENTS,
  FunctionConfigurationError,
  type FunctionName,
  functionEnvironment,
  parseFunctionEnvironment,
  requiredVariables,
} from "../src/env";

const LINK = {
  STAGE: "prod",
  TABLE_NAME: "identity",
  IDENTITY_POOL_ID: "eu-west-1:00000000-0000-4000-8000-0000000000aa",
  IOT_POLICY_NAME: "prod-boarding-pass-identity",
  EVENTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:events",
  EVENTS_STREAM_NAME: "events",
};

const failureOf = (fn: FunctionName, env: Record<string, string | undefined>) => {
  try {
    parseFunctionEnvironment(fn, env);
  } catch (error) {
    return error as FunctionConfigurationError;
  }
  throw new Error(`${fn} accepted ${JSON.stringify(env)}`);
};

describe("function environments", () => {
  it("parses a complete environment and applies the schema's defaults", () => {
    const parsed = parseFunctionEnvironment("postConfirmation", {
      ...LINK,
      DEFAULT_GROUP: "member",
    });
    expect(parsed).toMatchObject({ DEFAULT_TENANT: "default", DEFAULT_PLAN: "free" });
    expect(parseFunctionEnvironment("deleteMe", { ...LINK, USER_POOL_ID: "pool" })).toMatchObject({
      RECENT_SESSION_MAX_AGE_SECONDS: 900,
      DEFAULT_TENANT: "default",
    });
  });

  it("refuses a missing variable, naming it in the message and in `variables`", () => {
    const { IDENTITY_POOL_ID: _missing, ...incomplete } = LINK;
    const error = failureOf("linkIdentity", incomplete);
    expect(error).toBeInstanceOf(FunctionConfigurationError);
    expect(error.fn).toBe("linkIdentity");
    expect(error.variables).toEqual(["IDENTITY_POOL_ID"]);
    expect(error.message).toBe(
      "Invalid function configuration: IDENTITY_POOL_ID: Invalid input: expected string, received undefined",
    );
    expect(error.cause).toBeDefined();
  });

  it("refuses an empty required variable as missing", () => {
    expect(failureOf("getProfile", { TABLE_NAME: "" }).message).toMatch(/TABLE_NAME: is required/);
  });

  it.each([
    ["linkIdentity", { ...LINK, EVENTS_TOPIC_ARN: "events" }, "EVENTS_TOPIC_ARN"],
    ["linkIdentity", { ...LINK, GUEST_PROOF_ISSUER: "not a url" }, "GUEST_PROOF_ISSUER"],
    ["adminGetUser", { ...LINK, ADMIN_ROLE_ARN: "arn:aws:iam::1:user/x" }, "ADMIN_ROLE_ARN"],
    [
      "adminGetUser",
      { ...LINK, ADMIN_ROLE_ARN: "arn:aws:sts::123456789012:assumed-role/admin/s" },
      "ADMIN_ROLE_ARN",
    ],
    [
      "preTokenGeneration",
      { ...LINK, ROLE_CATALOG: "{}", FOLD_MAILBOX_ALIASES: "yes" },
      "FOLD_MAILBOX_ALIASES",
    ],
    ["postConfirmation", { ...LINK, DEFAULT_GROUP: "Members!" }, "DEFAULT_GROUP"],
    [
      "postConfirmation",
      { ...LINK, DEFAULT_GROUP: "member", DEFAULT_TENANT: "-x" },
      "DEFAULT_TENANT",
    ],
    ["outboxRelay", { ...LINK, RELAY_GRACE_SECONDS: "601" }, "RELAY_GRACE_SECONDS"],
    ["outboxRelay", { ...LINK, RELAY_GRACE_SECONDS: "1.5" }, "RELAY_GRACE_SECONDS"],
    [
      "issueGuestProof",
      { ...LINK, GUEST_PROOF_KEY_ID: "k", GUEST_PROOF_LIMIT: "0" },
      "GUEST_PROOF_LIMIT",
    ],
    [
      "issueGuestProof",
      { ...LINK, GUEST_PROOF_KEY_ID: "k", GUEST_PROOF_WINDOW_SECONDS: "123456" },
      "GUEST_PROOF_WINDOW_SECONDS",
    ],
    [
      "deleteMe",
      { ...LINK, USER_POOL_ID: "p", RECENT_SESSION_MAX_AGE_SECONDS: "-5" },
      "RECENT_SESSION_MAX_AGE_SECONDS",
    ],
  ] as const)("%s refuses an odd value, naming it (%s)", (fn, env, variable) => {
    const error = failureOf(fn, env);
    expect(error.variables).toEqual([variable]);
    expect(error.message).toContain(`${variable}: `);
  });

  it("names every variable that is wrong at once", () => {
    expect(failureOf("ensureIot", { STAGE: "prod" }).variables.sort()).toEqual([
      "IDENTITY_POOL_ID",
      "IOT_POLICY_NAME",
      "TABLE_NAME",
    ]);
  });

  it("lists what a function cannot start without, defaults and optional variables aside", () => {
    expect(requiredVariables("preSignUp").sort()).toEqual(["SIGNUP_POLICY", "STAGE", "TABLE_NAME"]);
    expect(requiredVariables("getProfile")).toEqual(["TABLE_NAME"]);
    for (const fn of Object.keys(FUNCTION_ENVIRONMENTS) as FunctionName[]) {
      const env = Object.fromEntries(requiredVariables(fn).map((key) => [key, "x"]));
      // Only the format checks remain once every required variable is present.
      const result = (() => {
        try {
          parseFunctionEnvironment(fn, env);
          return [];
        } catch (error) {
          return (error as FunctionConfigurationError).variables;
        }
      })();
      for (const variable of result) expect(requiredVariables(fn), fn).toContain(variable);
    }
  });
});

describe("functionEnvironment (the stacks' side)", () => {
  it("keeps the function's variables and leaves unset ones out", () => {
    expect(
      functionEnvironment("linkIdentity", { IOT_POLICY_NAME: "p", GUEST_PROOF_KEY_ID: undefined }),
    ).toEqual({ IOT_POLICY_NAME: "p" });
  });

  it("refuses a variable the function does not read, even through a spread", () => {
    const extra: Record<string, string> = { SIGNUP_POLICY: "{}" };
    expect(() => functionEnvironment("getProfile", { ...extra })).toThrow(
      "SIGNUP_POLICY is not a variable of the getProfile function",
    );
  });
});
