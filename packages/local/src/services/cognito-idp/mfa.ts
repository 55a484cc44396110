/**
 * Software token (TOTP) MFA: when a sign-in is challenged, the sealed challenge sessions (good
 * once, a few wrong codes each), and the TOTP check with Cognito's no-reuse rule. SMS and email
 * MFA are not emulated.
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";
import { notAuthorized } from "./errors";
import {
  type ClientRecord,
  SESSION_EXPIRED,
  SESSION_INVALID,
  SESSION_SECONDS,
  SESSION_SPENT,
  type UserRecord,
} from "./model";
import type { PoolState, UserPoolContext } from "./state";
import { seal, unseal } from "./tokens";
import { matchTotp } from "./totp";
import type { TokenGenerationSource } from "./triggers";
import { epochSeconds } from "./wire";

export type MfaContext = Pick<
  UserPoolContext,
  "now" | "pools" | "spentTotpSteps" | "spentSessions" | "mfaSessionFailures"
>;

/**
 * A software token MFA challenge (SOFTWARE_TOKEN_MFA) or the MFA_SETUP one, sealed. `j` names the
 * session so it can be spent once; `g` is how far MFA_SETUP got (challenged, associated, verified);
 * `s` is the trigger source the tokens will be issued under once the challenge passes.
 */
export interface MfaSession {
  t: "mfa";
  k: "SOFTWARE_TOKEN_MFA" | "MFA_SETUP";
  p: string;
  c: string;
  u: string;
  j: string;
  exp: number;
  s: TokenGenerationSource;
  g?: "challenged" | "associated" | "verified";
}

export const MFA_CODE_MISMATCH = "Invalid code received for user";
const TOTP_REUSED = "Your software token has already been used once.";
/** Wrong codes one MFA session takes before it is spent (the user signs in again). */
const MAX_MFA_ATTEMPTS = 5;
export const SMS_NOT_EMULATED =
  "SMS MFA is not emulated by the local user pool; only software token (TOTP) MFA is.";
export const EMAIL_NOT_EMULATED =
  "Email MFA is not emulated by the local user pool; only software token (TOTP) MFA is.";

/** Whether the pool challenges for TOTP at all (OPTIONAL or ON, with SOFTWARE_TOKEN_MFA). */
function totpMfa(pool: PoolState): "OFF" | "OPTIONAL" | "ON" {
  const def = pool.record.definition;
  const mode = def.MfaConfiguration ?? "OFF";
  return mode !== "OFF" && def.EnabledMfas?.includes("SOFTWARE_TOKEN_MFA") ? mode : "OFF";
}

export function requireTotpPool(pool: PoolState): void {
  if (totpMfa(pool) === "OFF") {
    throw new AwsServiceError(
      "SoftwareTokenMFANotFoundException",
      "Software token MFA is not enabled for this user pool (MfaConfiguration and EnabledMfas).",
    );
  }
}

function mfaSessionFor(
  ctx: MfaContext,
  pool: PoolState,
  client: ClientRecord,
  user: UserRecord,
  kind: MfaSession["k"],
  source: TokenGenerationSource,
): MfaSession {
  return {
    t: "mfa",
    k: kind,
    p: pool.record.id,
    c: client.clientId,
    u: user.username,
    j: randomUUID(),
    exp: epochSeconds(ctx.now()) + SESSION_SECONDS,
    s: source,
    ...(kind === "MFA_SETUP" ? { g: "challenged" as const } : {}),
  };
}

/**
 * After the password: SOFTWARE_TOKEN_MFA for a user with a verified token (and TOTP enabled, or
 * MFA required), MFA_SETUP when the pool requires MFA and the user has none, else nothing.
 */
export function mfaChallenge(
  ctx: MfaContext,
  pool: PoolState,
  client: ClientRecord,
  user: UserRecord,
  source: TokenGenerationSource,
): object | undefined {
  const mode = totpMfa(pool);
  if (mode === "OFF") return undefined;
  const verified = user.totp?.secret !== undefined;
  if (verified && (mode === "ON" || user.totp?.enabled)) {
    const session = mfaSessionFor(ctx, pool, client, user, "SOFTWARE_TOKEN_MFA", source);
    return {
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: seal(pool.keys.sealKey, session),
      ChallengeParameters: user.totp?.deviceName
        ? { FRIENDLY_DEVICE_NAME: user.totp.deviceName }
        : {},
    };
  }
  if (mode === "ON") {
    const session = mfaSessionFor(ctx, pool, client, user, "MFA_SETUP", source);
    return {
      ChallengeName: "MFA_SETUP",
      Session: seal(pool.keys.sealKey, session),
      ChallengeParameters: { MFAS_CAN_SETUP: JSON.stringify(["SOFTWARE_TOKEN_MFA"]) },
    };
  }
  return undefined;
}

export function openMfaSession(ctx: MfaContext, pool: PoolState, token: string): MfaSession {
  return checkMfaSession(ctx, pool, unseal<MfaSession>(pool.keys.sealKey, token));
}

/** An MFA session, checked: sealed by this pool, unexpired and not yet spent. */
function checkMfaSession(
  ctx: MfaContext,
  pool: PoolState,
  session: MfaSession | undefined,
): MfaSession {
  if (session?.t !== "mfa" || session.p !== pool.record.id) {
    throw notAuthorized(SESSION_INVALID);
  }
  if (session.exp <= epochSeconds(ctx.now())) throw notAuthorized(SESSION_EXPIRED);
  if (ctx.spentSessions.has(session.j)) throw notAuthorized(SESSION_SPENT);
  return session;
}

/** AssociateSoftwareToken and VerifySoftwareToken take a Session without naming the pool. */
export function findMfaSession(
  ctx: MfaContext,
  token: string,
): { pool: PoolState; session: MfaSession } {
  for (const pool of ctx.pools.values()) {
    const session = unseal<MfaSession>(pool.keys.sealKey, token);
    if (session) return { pool, session: checkMfaSession(ctx, pool, session) };
  }
  throw notAuthorized(SESSION_INVALID);
}

/** Marks a challenge session (MFA or SRP) used: Cognito's sessions are good once. */
export function spendSession(ctx: MfaContext, session: { j: string; exp: number }): void {
  const nowSeconds = epochSeconds(ctx.now());
  for (const [id, expires] of ctx.spentSessions) {
    if (expires <= nowSeconds) {
      ctx.spentSessions.delete(id);
      ctx.mfaSessionFailures.delete(id);
    }
  }
  ctx.spentSessions.set(session.j, session.exp);
  ctx.mfaSessionFailures.delete(session.j);
}

/** A wrong code against a session: the session dies after MAX_MFA_ATTEMPTS of them. */
export function sessionFailure(ctx: MfaContext, session: MfaSession): void {
  const failures = (ctx.mfaSessionFailures.get(session.j) ?? 0) + 1;
  ctx.mfaSessionFailures.set(session.j, failures);
  if (failures >= MAX_MFA_ATTEMPTS) spendSession(ctx, session);
}

/**
 * Checks a TOTP code against a secret: CodeMismatch (as `mismatch`) when it matches no step in
 * the window, ExpiredCodeException when its step is one this user already spent. Marks the step
 * spent on success.
 */
export function checkTotp(
  ctx: MfaContext,
  pool: PoolState,
  user: UserRecord,
  secret: string,
  code: string,
  mismatch: () => AwsServiceError,
): void {
  const step = matchTotp(secret, code, ctx.now());
  if (step === undefined) throw mismatch();
  const key = `${pool.record.id}/${user.username}`;
  const spent = ctx.spentTotpSteps.get(key);
  if (spent !== undefined && step <= spent) {
    throw new AwsServiceError("ExpiredCodeException", TOTP_REUSED);
  }
  ctx.spentTotpSteps.set(key, step);
}

/** `UserMFASettingList` and `PreferredMfaSetting` for GetUser / AdminGetUser. */
export function mfaSettings(user: UserRecord): object {
  if (!user.totp?.secret || !user.totp.enabled) return {};
  return {
    UserMFASettingList: ["SOFTWARE_TOKEN_MFA"],
    ...(user.totp.preferred ? { PreferredMfaSetting: "SOFTWARE_TOKEN_MFA" } : {}),
  };
}
