/**
 * Errors of the identities domain. Each has a stable `code` (safe to log and branch on) and keeps
 * its `cause`. The HTTP edge maps them to statuses; nothing else does.
 *
 * They have their own base class rather than `BoardingPassError` because that base's code union
 * lives in `../errors.ts`, owned by the foundation; `IdentityError` mirrors its contract.
 */

export type IdentityErrorCode =
  | "GUEST_PROOF_REJECTED"
  | "INVALID_CALLER"
  | "GUEST_ALREADY_MERGED"
  | "IDENTITY_MERGED"
  | "PROFILE_NOT_READY"
  | "IOT_POLICY_LIMIT"
  | "IOT_THROTTLED"
  | "INVALID_PREFERENCES"
  | "USER_DELETED"
  | "USER_NOT_FOUND"
  | "REAUTHENTICATION_REQUIRED"
  | "ADMIN_ROLE_REQUIRED"
  | "NOT_A_GUEST"
  | "GUEST_PROOF_LIMIT";

export abstract class IdentityError extends Error {
  abstract readonly code: IdentityErrorCode;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
}

/** Why a guest proof was refused; stable values, safe to return to the caller and to log. */
export type GuestProofRejection =
  | "malformed"
  | "invalid-signature"
  | "unknown-key"
  | "wrong-issuer"
  | "foreign-audience"
  | "expired"
  | "not-yet-valid"
  | "not-a-guest"
  | "subject-mismatch"
  | "jwks-unavailable";

export class GuestProofRejectedError extends IdentityError {
  readonly code = "GUEST_PROOF_REJECTED";

  constructor(
    readonly reason: GuestProofRejection,
    options: { cause?: unknown } = {},
  ) {
    super(`Guest proof rejected: ${reason}`, options);
  }
}

/** The request context does not name an identity of our pool (wrong authorizer, other pool). */
export class InvalidCallerError extends IdentityError {
  readonly code = "INVALID_CALLER";
}

/** The guest was (or is being) merged into a different identity than the caller's. */
export class GuestAlreadyMergedError extends IdentityError {
  readonly code = "GUEST_ALREADY_MERGED";
}

/** A write addressed an identity that was merged away; `mergedInto` is where it lives now. */
export class IdentityMergedError extends IdentityError {
  readonly code = "IDENTITY_MERGED";

  constructor(
    readonly identityId: string,
    readonly mergedInto: string,
    options: { cause?: unknown } = {},
  ) {
    super(`Identity ${identityId} was merged into ${mergedInto}`, options);
  }
}

/** The caller's user has no profile yet (its trigger has not run or failed); retry later. */
export class ProfileNotReadyError extends IdentityError {
  readonly code = "PROFILE_NOT_READY";
}

/** The identity already holds IoT's maximum of 10 policies; ours cannot be added. */
export class IotPolicyLimitError extends IdentityError {
  readonly code = "IOT_POLICY_LIMIT";
}

/** AttachPolicy/DetachPolicy stayed throttled through every back-off attempt. */
export class IotThrottledError extends IdentityError {
  readonly code = "IOT_THROTTLED";
}

export class InvalidPreferencesError extends IdentityError {
  readonly code = "INVALID_PREFERENCES";
}

/** The identity's user was deleted (or is being deleted): nothing is attached to it any more. */
export class UserDeletedError extends IdentityError {
  readonly code = "USER_DELETED";
}

/** No user, profile or deletion under this `sub`. */
export class UserNotFoundError extends IdentityError {
  readonly code = "USER_NOT_FOUND";
}

/**
 * Why an irreversible operation wants a fresh sign-in; stable values, safe to return and to log.
 * `session-revoked`: the user pool no longer accepts the access token (signed out, revoked, user
 * disabled or gone); `session-too-old`: the sign-in (`auth_time`) is older than the window.
 */
export type ReauthenticationReason = "session-revoked" | "session-too-old";

/** The caller must sign in again (with their password or provider) before this operation. */
export class ReauthenticationRequiredError extends IdentityError {
  readonly code = "REAUTHENTICATION_REQUIRED";

  constructor(
    readonly reason: ReauthenticationReason,
    /** The window the sign-in must fall in, in seconds. */
    readonly maxAgeSeconds: number,
    options: { cause?: unknown } = {},
  ) {
    super(`Sign in again: ${reason}`, options);
  }
}

/** An admin route was called by a role other than the admin role (whatever IAM allowed). */
export class AdminRoleRequiredError extends IdentityError {
  readonly code = "ADMIN_ROLE_REQUIRED";
}

/**
 * The identity has a login in the identity pool (or a user recorded here): it is no guest, whatever
 * the caller's credentials say. Guest credentials issued before someone signed in on the device stay
 * valid for up to an hour and keep reporting `amr` unauthenticated (ADR 0006).
 */
export class NotAGuestError extends IdentityError {
  readonly code = "NOT_A_GUEST";
}

/** This identity asked for more guest proofs than its window allows; `retryAfterSeconds` says when. */
export class GuestProofLimitError extends IdentityError {
  readonly code = "GUEST_PROOF_LIMIT";

  constructor(
    readonly retryAfterSeconds: number,
    options: { cause?: unknown } = {},
  ) {
    super(`Too many guest proofs for this identity; retry in ${retryAfterSeconds} s`, options);
  }
}
