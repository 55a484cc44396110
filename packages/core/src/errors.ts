/**
 * Typed errors of the core domain. Every error has a stable `code` (safe to log, to alert on and to
 * branch on) and carries its `cause`. Handlers map them only at the edge: a trigger turns a
 * `SignUpRejectedError` into a thrown error whose message Cognito shows to the user, anything else
 * becomes a generic failure.
 */

export type BoardingPassErrorCode =
  | "INVALID_EMAIL"
  | "INVALID_SIGN_UP_POLICY"
  | "SIGN_UP_REJECTED"
  | "INVALID_ROLE_CATALOG"
  | "UNSUPPORTED_TRIGGER_VERSION"
  | "INVALID_EVENT"
  | "DEADLINE_EXCEEDED"
  | "EMAIL_ALREADY_CLAIMED"
  | "INVALID_TRIGGER_EVENT";

export interface BoardingPassErrorOptions {
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

/** The canonical email is already reserved by another user; the message never echoes it. */
export class EmailAlreadyClaimedError extends BoardingPassError {
  readonly code = "EMAIL_ALREADY_CLAIMED";
}

/**
 * A trigger event lacks what its source always carries (e.g. a `sub` that is not a UUID). Raised at
 * the edge; `userMessage` is what Cognito may show.
 */
export class InvalidTriggerEventError extends BoardingPassError {
  readonly code = "INVALID_TRIGGER_EVENT";

  constructor(
    readonly userMessage: string,
    readonly detail: string,
    options: BoardingPassErrorOptions = {},
  ) {
    super(`${userMessage} (${detail})`, options);
  }
}
