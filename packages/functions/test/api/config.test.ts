import { COGNITO_IDENTITY_ISSUER, COGNITO_IDENTITY_JWKS_URI } from "@boarding-pass/core/identity";
import { describe, expect, it } from "vitest";
import { issueGuestProofConfig, linkIdentityConfig } from "../../src/api/config";

const env = {
  STAGE: "prod",
  TABLE_NAME: "identity",
  IDENTITY_POOL_ID: "eu-west-1:00000000-0000-4000-8000-0000000000aa",
  IOT_POLICY_NAME: "prod-boarding-pass-identity",
  EVENTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:events",
  EVENTS_STREAM_NAME: "events",
};

describe("identity route configuration", () => {
  it("defaults the guest-proof issuer and JWKS to Cognito's", () => {
    expect(linkIdentityConfig(env).guestProof).toEqual({
      cognito: { issuer: COGNITO_IDENTITY_ISSUER, jwksUri: COGNITO_IDENTITY_JWKS_URI },
    });
  });

  it("trusts the backend's own issuer when a signing key is configured", () => {
    const config = linkIdentityConfig({ ...env, GUEST_PROOF_KEY_ID: "alias/guest-proof" });
    expect(config.guestProof.self).toEqual({
      issuer: "urn:boardingpass:prod:guest-proof",
      keyId: "alias/guest-proof",
    });
    expect(issueGuestProofConfig({ ...env, GUEST_PROOF_KEY_ID: "alias/guest-proof" }).issuer).toBe(
      "urn:boardingpass:prod:guest-proof",
    );
  });

  it("fails fast, naming what is missing", () => {
    const { IDENTITY_POOL_ID: _missing, ...incomplete } = env;
    expect(() => linkIdentityConfig(incomplete)).toThrow(/IDENTITY_POOL_ID/);
    expect(() => linkIdentityConfig({ ...env, EVENTS_TOPIC_ARN: "events" })).toThrow(
      /EVENTS_TOPIC_ARN/,
    );
  });
});
