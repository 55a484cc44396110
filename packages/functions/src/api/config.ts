import type { FunctionConfig } from "@boarding-pass/contracts/env";
import * as environments from "@boarding-pass/contracts/env/routes";
import {
  COGNITO_IDENTITY_ISSUER,
  COGNITO_IDENTITY_JWKS_URI,
  DEFAULT_GUEST_PROOF_LIMIT,
  type GuestProofLimit,
} from "@boarding-pass/core/identity";

/**
 * The identity routes' configuration, each parsed from its environment with its schema in
 * packages/contracts/env.ts, once per cold start (fails fast, naming what is missing).
 * `GUEST_PROOF_ISSUER` / `GUEST_PROOF_JWKS_URI` default to Cognito's; the local cloud overrides
 * them. `GUEST_PROOF_KEY_ID` (a KMS RSA signing key) enables backend-issued guest proofs
 * (ADR 0006), which pools with classic flow off need.
 */

interface IdentityRoutesConfig {
  stage: string;
  tableName: string;
  identityPoolId: string;
}

interface LinkIdentityConfig extends IdentityRoutesConfig {
  iotPolicyName: string;
  topicArn: string;
  streamName: string;
  guestProof: {
    /** Cognito's OpenID tokens (usable only where classic flow is on). */
    cognito: { issuer: string; jwksUri: string };
    /** Our own proofs (`POST /identity/guest-proof`), when a signing key is configured. */
    self?: { issuer: string; keyId: string };
  };
}

/** Issuer of the guest proofs this backend signs; stable per stage. */
export const selfGuestProofIssuer = (stage: string) => `urn:boardingpass:${stage}:guest-proof`;

interface IssueGuestProofConfig extends IdentityRoutesConfig {
  keyId: string;
  issuer: string;
  /** Per-identity limit (`GUEST_PROOF_LIMIT` proofs per `GUEST_PROOF_WINDOW_SECONDS`). */
  limit: GuestProofLimit;
}

const identityRoute = (parsed: FunctionConfig<"preferences">): IdentityRoutesConfig => ({
  stage: parsed.STAGE,
  tableName: parsed.TABLE_NAME,
  identityPoolId: parsed.IDENTITY_POOL_ID,
});

export function issueGuestProofConfig(env: NodeJS.ProcessEnv = process.env): IssueGuestProofConfig {
  const parsed = environments.parseEnvironment(
    "issueGuestProof",
    environments.issueGuestProofEnvironment(),
    env,
  );
  return {
    ...identityRoute(parsed),
    keyId: parsed.GUEST_PROOF_KEY_ID,
    issuer: selfGuestProofIssuer(parsed.STAGE),
    limit: {
      limit: Number(parsed.GUEST_PROOF_LIMIT ?? DEFAULT_GUEST_PROOF_LIMIT.limit),
      windowSeconds: Number(
        parsed.GUEST_PROOF_WINDOW_SECONDS ?? DEFAULT_GUEST_PROOF_LIMIT.windowSeconds,
      ),
    },
  };
}

/** `GET|PUT /identity/preferences`. */
export function identityRoutesConfig(env: NodeJS.ProcessEnv = process.env): IdentityRoutesConfig {
  return identityRoute(
    environments.parseEnvironment("preferences", environments.preferencesEnvironment(), env),
  );
}

/** The admin routes: only callers signed with the admin role (`ADMIN_ROLE_ARN`) are served. */
export function adminRoutesConfig(
  env: NodeJS.ProcessEnv = process.env,
): IdentityRoutesConfig & { adminRoleArn: string } {
  const parsed = environments.parseEnvironment(
    "adminGetUser",
    environments.adminGetUserEnvironment(),
    env,
  );
  return { ...identityRoute(parsed), adminRoleArn: parsed.ADMIN_ROLE_ARN };
}

export function ensureIotConfig(
  env: NodeJS.ProcessEnv = process.env,
): IdentityRoutesConfig & { iotPolicyName: string } {
  const parsed = environments.parseEnvironment(
    "ensureIot",
    environments.ensureIotEnvironment(),
    env,
  );
  return { ...identityRoute(parsed), iotPolicyName: parsed.IOT_POLICY_NAME };
}

export function linkIdentityConfig(env: NodeJS.ProcessEnv = process.env): LinkIdentityConfig {
  const parsed = environments.parseEnvironment(
    "linkIdentity",
    environments.linkIdentityEnvironment(),
    env,
  );
  return {
    ...identityRoute(parsed),
    iotPolicyName: parsed.IOT_POLICY_NAME,
    topicArn: parsed.EVENTS_TOPIC_ARN,
    streamName: parsed.EVENTS_STREAM_NAME,
    guestProof: {
      cognito: {
        issuer: parsed.GUEST_PROOF_ISSUER ?? COGNITO_IDENTITY_ISSUER,
        jwksUri: parsed.GUEST_PROOF_JWKS_URI ?? COGNITO_IDENTITY_JWKS_URI,
      },
      ...(parsed.GUEST_PROOF_KEY_ID !== undefined
        ? { self: { issuer: selfGuestProofIssuer(parsed.STAGE), keyId: parsed.GUEST_PROOF_KEY_ID } }
        : {}),
    },
  };
}

export interface DeleteUserConfig extends IdentityRoutesConfig {
  userPoolId: string;
  iotPolicyName: string;
  topicArn: string;
  streamName: string;
  defaultTenant: string;
}

const deletion = (
  parsed: FunctionConfig<"deleteMe"> | FunctionConfig<"adminDeleteUser">,
): DeleteUserConfig => ({
  ...identityRoute(parsed),
  userPoolId: parsed.USER_POOL_ID,
  iotPolicyName: parsed.IOT_POLICY_NAME,
  topicArn: parsed.EVENTS_TOPIC_ARN,
  streamName: parsed.EVENTS_STREAM_NAME,
  defaultTenant: parsed.DEFAULT_TENANT,
});

/** `DELETE /identity/me`; a sign-in older than `recentSessionMaxAgeSeconds` is not recent. */
export function deleteMeConfig(
  env: NodeJS.ProcessEnv = process.env,
): DeleteUserConfig & { recentSessionMaxAgeSeconds: number } {
  const parsed = environments.parseEnvironment("deleteMe", environments.deleteMeEnvironment(), env);
  return { ...deletion(parsed), recentSessionMaxAgeSeconds: parsed.RECENT_SESSION_MAX_AGE_SECONDS };
}

/** `DELETE /admin/users/{sub}`: for callers of the admin role only. */
export function adminDeleteUserConfig(
  env: NodeJS.ProcessEnv = process.env,
): DeleteUserConfig & { adminRoleArn: string } {
  const parsed = environments.parseEnvironment(
    "adminDeleteUser",
    environments.adminDeleteUserEnvironment(),
    env,
  );
  return { ...deletion(parsed), adminRoleArn: parsed.ADMIN_ROLE_ARN };
}

/** `GET /profile`. */
export function getProfileConfig(env: NodeJS.ProcessEnv = process.env): { tableName: string } {
  return {
    tableName: environments.parseEnvironment(
      "getProfile",
      environments.getProfileEnvironment(),
      env,
    ).TABLE_NAME,
  };
}
