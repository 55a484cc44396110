/**
 * Whether a user may sign in and how passwords are kept: the client's allowed flows, the user's
 * status, Cognito's lockout after wrong passwords, and the stored forms (hash and SRP verifier).
 */

import { AwsServiceError } from "../../protocol/errors";
import { DEFAULT_FLOWS } from "./definitions";
import { invalidParameter, notAuthorized } from "./errors";
import type { ClientRecord, ExplicitAuthFlow, UserRecord } from "./model";
import { srpPoolName } from "./password-verifier";
import { hashPassword } from "./passwords";
import { createVerifier } from "./srp";
import type { PoolState, UserPoolContext } from "./state";

export type CredentialContext = Pick<UserPoolContext, "now" | "failedSignIns">;

const LOCKOUT_AFTER = 5;

export function requireFlow(client: ClientRecord, flow: string): void {
  const flows = client.definition.ExplicitAuthFlows?.length
    ? client.definition.ExplicitAuthFlows
    : DEFAULT_FLOWS;
  if (!flows.includes(`ALLOW_${flow}` as ExplicitAuthFlow)) {
    throw invalidParameter(`${flow} flow not enabled for this client`);
  }
}

export function requireSignInAllowed(user: UserRecord): void {
  if (!user.enabled) throw notAuthorized("User is disabled.");
  if (user.status === "UNCONFIRMED") {
    throw new AwsServiceError("UserNotConfirmedException", "User is not confirmed.");
  }
  if (user.status === "RESET_REQUIRED") {
    throw new AwsServiceError(
      "PasswordResetRequiredException",
      "Password reset required for the user",
    );
  }
}

/**
 * The stored forms of a password. Computed before drafting a user: an await between a draft and
 * its commit would let a concurrent change to the same user be overwritten.
 */
export async function passwordSecrets(
  pool: PoolState,
  username: string,
  password: string,
): Promise<Pick<UserRecord, "passwordHash" | "srp">> {
  return {
    passwordHash: await hashPassword(password),
    srp: createVerifier(srpPoolName(pool.record.id), username, password),
  };
}

/**
 * Cognito's lockout: after five wrong passwords in a row, sign-in is refused for a time that
 * starts at one second and doubles with each further failure, up to about 15 minutes.
 */
export function assertNotLockedOut(
  ctx: CredentialContext,
  pool: PoolState,
  user: UserRecord,
): void {
  const state = ctx.failedSignIns.get(`${pool.record.id}/${user.username}`);
  if (state && state.lockedUntil > ctx.now()) throw notAuthorized("Password attempts exceeded");
}

export function recordFailedSignIn(
  ctx: CredentialContext,
  pool: PoolState,
  user: UserRecord,
): void {
  const key = `${pool.record.id}/${user.username}`;
  const failures = (ctx.failedSignIns.get(key)?.failures ?? 0) + 1;
  const lockMs =
    failures >= LOCKOUT_AFTER ? Math.min(1000 * 2 ** (failures - LOCKOUT_AFTER), 900_000) : 0;
  ctx.failedSignIns.set(key, { failures, lockedUntil: ctx.now() + lockMs });
}
