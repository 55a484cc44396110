import {
  COGNITO_IDENTITY_ISSUER,
  COGNITO_IDENTITY_JWKS_URI,
  DEFAULT_GUEST_PROOF_LIMIT,
  type GuestProofLimit,
} from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import { events, parseEnvironment } from "../config";

/**
 * Environment of the identity routes, parsed once per cold start (fails fast, naming what is
 * missing). `GUEST_PROOF_ISSUER` / `GUEST_PROOF_JWKS_URI` default to Cognito's; the local cloud
 * overrides them. `GUEST_PROOF_KEY_ID` (a KMS RSA signing key) enables backend-issued guest proofs
 * (ADR 0006), which pools with classic flow off need.
 */

const required = z.string().check(z.minLength(1, "is required"));

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

/** A positive whole number of at most `digits` digits from the environment (e.g. `"5"`). */
const positiveInteger = (digits: number, fallback: number) =>
  z._default(
    z
      .string()
      .check(
        z.regex(
          new RegExp(`^[1-9]\\d{0,${digits - 1}}$`),
          `must be a whole number from 1 to ${"9".repeat(digits)}`,
        ),
      ),
    String(fallback),
  );

export function issueGuestProofConfig(env: NodeJS.ProcessEnv = process.env): IssueGuestProofConfig {
  const parsed = parseEnvironment(
    {
      ...base,
      GUEST_PROOF_KEY_ID: required,
      GUEST_PROOF_LIMIT: positiveInteger(3, DEFAULT_GUEST_PROOF_LIMIT.limit),
      GUEST_PROOF_WINDOW_SECONDS: positiveInteger(5, DEFAULT_GUEST_PROOF_LIMIT.windowSeconds),
    },
    env,
  );
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    identityPoolId: parsed.IDENTITY_POOL_ID,
    keyId: parsed.GUEST_PROOF_KEY_ID,
    issuer: selfGuestProofIssuer(parsed.STAGE),
    limit: {
      limit: Number(parsed.GUEST_PROOF_LIMIT),
      windowSeconds: Number(parsed.GUEST_PROOF_WINDOW_SECONDS),
    },
  };
}

const base = { STAGE: required, TABLE_NAME: required, IDENTITY_POOL_ID: required };

export function identityRoutesConfig(env: NodeJS.ProcessEnv = process.env): IdentityRoutesConfig {
  const parsed = parseEnvironment(base, env);
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    identityPoolId: parsed.IDENTITY_POOL_ID,
  };
}

/** `arn:<partition>:iam::<account>:role/<path/>name`: the role the stacks pass to admin routes. */
const IamRoleArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
      "must be an IAM role ARN",
    ),
  );

/** The admin routes: only callers signed with the admin role (`ADMIN_ROLE_ARN`) are served. */
export function adminRoutesConfig(
  env: NodeJS.ProcessEnv = process.env,
): IdentityRoutesConfig & { adminRoleArn: string } {
  const parsed = parseEnvironment({ ...base, ADMIN_ROLE_ARN: IamRoleArn }, env);
  return { ...identityRoutesConfig(env), adminRoleArn: parsed.ADMIN_ROLE_ARN };
}

/** `DELETE /identity/me`: a sign-in older than this is not recent (stacks/config.ts). */
export function recentSessionMaxAgeSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseEnvironment(
    {
      RECENT_SESSION_MAX_AGE_SECONDS: z._default(
        z.coerce.number().check(z.int(), z.positive("must be a positive number of seconds")),
        900,
      ),
    },
    env,
  );
  return parsed.RECENT_SESSION_MAX_AGE_SECONDS;
}

export function ensureIotConfig(
  env: NodeJS.ProcessEnv = process.env,
): IdentityRoutesConfig & { iotPolicyName: string } {
  const parsed = parseEnvironment({ ...base, IOT_POLICY_NAME: required }, env);
  return { ...identityRoutesConfig(env), iotPolicyName: parsed.IOT_POLICY_NAME };
}

export function linkIdentityConfig(env: NodeJS.ProcessEnv = process.env): LinkIdentityConfig {
  const parsed = parseEnvironment(
    {
      ...base,
      IOT_POLICY_NAME: required,
      ...events,
      GUEST_PROOF_ISSUER: z._default(z.url(), COGNITO_IDENTITY_ISSUER),
      GUEST_PROOF_JWKS_URI: z._default(z.url(), COGNITO_IDENTITY_JWKS_URI),
      GUEST_PROOF_KEY_ID: z.optional(required),
    },
    env,
  );
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    identityPoolId: parsed.IDENTITY_POOL_ID,
    iotPolicyName: parsed.IOT_POLICY_NAME,
    topicArn: parsed.EVENTS_TOPIC_ARN,
    streamName: parsed.EVENTS_STREAM_NAME,
    guestProof: {
      cognito: { issuer: parsed.GUEST_PROOF_ISSUER, jwksUri: parsed.GUEST_PROOF_JWKS_URI },
      ...(parsed.GUEST_PROOF_KEY_ID !== undefined
        ? { self: { issuer: selfGuestProofIssuer(parsed.STAGE), keyId: parsed.GUEST_PROOF_KEY_ID } }
        : {}),
    },
  };
}

interface DeleteUserConfig extends IdentityRoutesConfig {
  userPoolId: string;
  iotPolicyName: string;
  topicArn: string;
  streamName: string;
  defaultTenant: string;
}

/** `DELETE /identity/me` and `DELETE /admin/users/{sub}`. */
export function deleteUserConfig(env: NodeJS.ProcessEnv = process.env): DeleteUserConfig {
  const parsed = parseEnvironment(
    {
      ...base,
      USER_POOL_ID: required,
      IOT_POLICY_NAME: required,
      ...events,
      DEFAULT_TENANT: z._default(z.string().check(z.minLength(1)), "default"),
    },
    env,
  );
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    identityPoolId: parsed.IDENTITY_POOL_ID,
    userPoolId: parsed.USER_POOL_ID,
    iotPolicyName: parsed.IOT_POLICY_NAME,
    topicArn: parsed.EVENTS_TOPIC_ARN,
    streamName: parsed.EVENTS_STREAM_NAME,
    defaultTenant: parsed.DEFAULT_TENANT,
  };
}
