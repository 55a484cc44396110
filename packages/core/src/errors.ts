/**
 * Typed errors of `@boarding-pass/core`, one root for all of them. Every error has a stable `code`
 * (safe to log, to alert on and to branch on) and carries its `cause`. Handlers map them only at
 * the edge: a trigger turns a `SignUpRejectedError` into a thrown error whose message Cognito shows
 * to the user; an HTTP route turns the identity errors into a status and a JSON body; anything
 * else becomes a generic failure.
 */

type BoardingPassErrorCode =
  | "INVALID_EMAIL"
  | "INVALID_SIGN_UP_POLICY"
  | "SIGN_UP_REJECTED"
  | "INVALID_ROLE_CATALOG"
  | "UNSUPPORTED_TRIGGER_VERSION"
  | "INVALID_EVENT"
  | "DEADLINE_EXCEEDED"
  // Identities: guest proofs, link and merge, IoT policies, guest data, account deletion.
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

interface BoardingPassErrorOptions {
  cause?: unknown;
}

/** Base of every error thrown by `@boarding-pass/core`; catch this to catch them all. */
export abstract class BoardingPassError extends Error {
  abstract readonly code: BoardingPassErrorCode;

  constructor(message: string, options: BoardingPassErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
}

/** Why an address was refused; stable values so logs and metrics never need the address itself. */
export type InvalidEmailReason =
  | "not-a-string"
  | "empty"
  | "missing-at"
  | "too-many-at"
  | "empty-local-part"
  | "local-part-too-long"
  | "local-part-syntax"
  | "too-long"
  | "control-character"
  | "whitespace"
  | "invalid-domain"
  | "not-canonical";

/**
 * The address cannot be canonicalised. The message names the rule that failed but never echoes the
 * address: these errors end up in logs, and an email address is personal data.
 */
export class InvalidEmailError extends BoardingPassError {
  readonly code = "INVALID_EMAIL";

  constructor(
    readonly reason: InvalidEmailReason,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Invalid email address: ${reason}`, options);
  }
}

/** The sign-up policy configuration is malformed; raised at cold start so a bad deploy fails fast. */
export class InvalidSignUpPolicyError extends BoardingPassError {
  readonly code = "INVALID_SIGN_UP_POLICY";
}

/**
 * A sign-up was refused by policy. `userMessage` is short and safe to show: Cognito wraps it as
 * `PreSignUp failed with error <userMessage>.` and returns it to the client.
 */
export class SignUpRejectedError extends BoardingPassError {
  readonly code = "SIGN_UP_REJECTED";

  constructor(
    readonly userMessage: string,
    options: BoardingPassErrorOptions = {},
  ) {
    super(userMessage, options);
  }
}

/** The role catalog configuration is malformed; raised at cold start. */
export class InvalidRoleCatalogError extends BoardingPassError {
  readonly code = "INVALID_ROLE_CATALOG";
}

/** A pre token generation event carries a `version` whose response shape we do not know. */
export class UnsupportedTriggerVersionError extends BoardingPassError {
  readonly code = "UNSUPPORTED_TRIGGER_VERSION";

  constructor(
    readonly version: string,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Unsupported pre token generation event version: ${JSON.stringify(version)}`, options);
  }
}

/** A domain event does not match its schema; a bug in the producer, never user input. */
export class InvalidEventError extends BoardingPassError {
  readonly code = "INVALID_EVENT";
}

/** A call to a dependency did not finish within the budget the trigger gave it. */
export class DeadlineExceededError extends BoardingPassError {
  readonly code = "DEADLINE_EXCEEDED";

  constructor(
    readonly budgetMs: number,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Deadline of ${budgetMs} ms exceeded`, options);
  }
}

// ---- Identities -------------------------------------------------------------------------------

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

export class GuestProofRejectedError extends BoardingPassError {
  readonly code = "GUEST_PROOF_REJECTED";

  constructor(
    readonly reason: GuestProofRejection,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Guest proof rejected: ${reason}`, options);
  }
}

/** The request context does not name an identity of our pool (wrong authorizer, other pool). */
export class InvalidCallerError extends BoardingPassError {
  readonly code = "INVALID_CALLER";
}

/** The guest was (or is being) merged into a different identity than the caller's. */
export class GuestAlreadyMergedError extends BoardingPassError {
  readonly code = "GUEST_ALREADY_MERGED";
}

/** A write addressed an identity that was merged away; `mergedInto` is where it lives now. */
export class IdentityMergedError extends BoardingPassError {
  readonly code = "IDENTITY_MERGED";

  constructor(
    readonly identityId: string,
    readonly mergedInto: string,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Identity ${identityId} was merged into ${mergedInto}`, options);
  }
}

/** The caller's user has no profile yet (its trigger has not run or failed); retry later. */
export class ProfileNotReadyError extends BoardingPassError {
  readonly code = "PROFILE_NOT_READY";
}

/** The identity already holds IoT's maximum of 10 policies; ours cannot be added. */
export class IotPolicyLimitError extends BoardingPassError {
  readonly code = "IOT_POLICY_LIMIT";
}

/** AttachPolicy/DetachPolicy stayed throttled through every back-off attempt. */
export class IotThrottledError extends BoardingPassError {
  readonly code = "IOT_THROTTLED";
}

export class InvalidPreferencesError extends BoardingPassError {
  readonly code = "INVALID_PREFERENCES";
}

/** The identity's user was deleted (or is being deleted): nothing is attached to it any more. */
export class UserDeletedError extends BoardingPassError {
  readonly code = "USER_DELETED";
}

/** No user, profile or deletion under this `sub`. */
export class UserNotFoundError extends BoardingPassError {
  readonly code = "USER_NOT_FOUND";
}

/**
 * Why an irreversible operation wants a fresh sign-in; stable values, safe to return and to log.
 * `session-revoked`: the user pool no longer accepts the access token (signed out, revoked, user
 * disabled or gone); `session-too-old`: the sign-in (`auth_time`) is older than the window.
 */
type ReauthenticationReason = "session-revoked" | "session-too-old";

/** The caller must sign in again (with their password or provider) before this operation. */
export class ReauthenticationRequiredError extends BoardingPassError {
  readonly code = "REAUTHENTICATION_REQUIRED";

  constructor(
    readonly reason: ReauthenticationReason,
    /** The window the sign-in must fall in, in seconds. */
    readonly maxAgeSeconds: number,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Sign in again: ${reason}`, options);
  }
}

/** An admin route was called by a role other than the admin role (whatever IAM allowed). */
export class AdminRoleRequiredError extends BoardingPassError {
  readonly code = "ADMIN_ROLE_REQUIRED";
}

/**
 * The identity has a login in the identity pool (or a user recorded here): it is no guest, whatever
 * the caller's credentials say. Guest credentials issued before someone signed in on the device stay
 * valid for up to an hour and keep reporting `amr` unauthenticated (ADR 0006).
 */
export class NotAGuestError extends BoardingPassError {
  readonly code = "NOT_A_GUEST";
}

/** This identity asked for more guest proofs than its window allows; `retryAfterSeconds` says when. */
export class GuestProofLimitError extends BoardingPassError {
  readonly code = "GUEST_PROOF_LIMIT";

  constructor(
    readonly retryAfterSeconds: number,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`Too many guest proofs for this identity; retry in ${retryAfterSeconds} s`, options);
  }
}
