import { ALLOWED_CLAIMS } from "@boarding-pass/core/token-claims";
import { eventNames, fakeContext } from "@boarding-pass/testing";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "./support/fixtures";

/**
 * Every fixture in test/events/cognito through the handler for its trigger: each real AWS shape
 * is accepted and answered in the shape Cognito expects for its source and version.
 */
const names = eventNames("cognito");

let plane: Plane;
let handlers: Record<string, (event: never, context: never) => Promise<unknown>>;

beforeAll(async () => {
  plane = await startPlane();
  handlers = {
    "pre-sign-up": (await import("../src/cognito/pre-sign-up")).handler as never,
    "post-confirmation": (await import("../src/cognito/post-confirmation")).handler as never,
    "pre-token-generation": (await import("../src/cognito/pre-token-generation")).handler as never,
  };
});
afterAll(async () => {
  await plane?.stop();
});

describe("fixtures of every trigger source", () => {
  it("covers each source the issue names", () => {
    const sources = new Set(
      names.map((name) => fixture<{ triggerSource: string }>(name).triggerSource),
    );
    for (const source of [
      "PreSignUp_SignUp",
      "PreSignUp_AdminCreateUser",
      "PreSignUp_ExternalProvider",
      "PostConfirmation_ConfirmSignUp",
      "PostConfirmation_ConfirmForgotPassword",
      "TokenGeneration_HostedAuth",
      "TokenGeneration_Authentication",
      "TokenGeneration_NewPasswordChallenge",
      "TokenGeneration_AuthenticateDevice",
      "TokenGeneration_RefreshTokens",
      "TokenGeneration_ClientCredentials",
    ]) {
      expect(sources).toContain(source);
    }
  });

  it.each(names)("%s", async (name) => {
    const trigger = Object.keys(handlers).find((prefix) => name.startsWith(prefix))!;
    const event = fixture<Record<string, unknown>>(name);
    event.userPoolId = plane.userPoolId;
    if (trigger === "pre-sign-up") {
      // Fresh addresses: the fixture's own may already be claimed by another test in this plane.
      const attributes = (event.request as { userAttributes: Record<string, string> })
        .userAttributes;
      attributes.email = `fixture-${crypto.randomUUID()}@example.com`;
      event.userName = String(event.userName).startsWith("google_")
        ? `google_${Date.now()}`
        : crypto.randomUUID();
    }
    if (trigger === "post-confirmation") {
      // AdminAddUserToGroup needs the user to exist in the (local) pool.
      const user = await plane.createNativeUser(`fixture-${crypto.randomUUID()}@example.com`, true);
      const attributes = (event.request as { userAttributes: Record<string, string> })
        .userAttributes;
      event.userName = user.username;
      attributes.sub = user.sub;
    }
    const result = (await handlers[trigger]!(event as never, fakeContext() as never)) as {
      response: Record<string, unknown>;
      version: string;
    };
    if (trigger === "pre-token-generation") {
      const response = result.response as {
        claimsOverrideDetails?: { claimsToAddOrOverride: Record<string, string> };
        claimsAndScopeOverrideDetails?: {
          idTokenGeneration?: { claimsToAddOrOverride: Record<string, string> };
        };
      };
      const claims =
        result.version === "1"
          ? response.claimsOverrideDetails?.claimsToAddOrOverride
          : response.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride;
      expect(
        result.version === "1"
          ? response.claimsOverrideDetails
          : response.claimsAndScopeOverrideDetails,
      ).toBeDefined();
      for (const claim of Object.keys(claims ?? {})) expect(ALLOWED_CLAIMS).toContain(claim);
    } else {
      expect(result.response).toBeDefined();
    }
  });
});
