import {
  AdminRoleRequiredError,
  BoardingPassError,
  GuestAlreadyMergedError,
  GuestProofLimitError,
  GuestProofRejectedError,
  IdentityMergedError,
  InvalidCallerError,
  InvalidPreferencesError,
  IotPolicyLimitError,
  IotThrottledError,
  NotAGuestError,
  ProfileNotReadyError,
  ReauthenticationRequiredError,
  UserDeletedError,
  UserNotFoundError,
} from "@boarding-pass/core/errors";
import { GUEST_PROOF_MESSAGES } from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { logger } from "../observability";

/** JSON responses in one shape for every route. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** A request the route refuses before calling core (malformed body, wrong authorizer). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** Parses a JSON body against `schema`; 400 with the problems when it does not fit. */
export function parseJsonBody<T extends z.ZodMiniType>(
  event: { body?: string | undefined; isBase64Encoded?: boolean },
  schema: T,
): z.infer<T> {
  const raw =
    event.body === undefined
      ? ""
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new HttpError(400, "MalformedBody", "The body must be a JSON document.");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(400, "MalformedBody", z.prettifyError(parsed.error));
  }
  return parsed.data;
}

const CognitoIdentity = z.object({
  identityId: z.string().check(z.minLength(1)),
  identityPoolId: z.string().check(z.minLength(1)),
  amr: z.array(z.string()),
});

/**
 * The caller of an IAM-authorized route: the identity-pool identity whose credentials signed the
 * request (`requestContext.authorizer.iam.cognitoIdentity`). The aws-lambda types declare it
 * `null`, which it is only for IAM users and roles; hence the runtime parse.
 */
export function callerOf(event: { requestContext?: unknown }) {
  const context = event.requestContext as
    | { authorizer?: { iam?: { cognitoIdentity?: unknown } } }
    | undefined;
  const parsed = CognitoIdentity.safeParse(context?.authorizer?.iam?.cognitoIdentity);
  if (!parsed.success) {
    throw new HttpError(403, "Forbidden", "Call this route with identity-pool credentials.");
  }
  return parsed.data;
}

const REAUTHENTICATION_MESSAGES = {
  "session-revoked": "This session has ended (signed out or revoked); sign in again.",
  "session-too-old": "This needs a recent sign-in; sign in again and retry.",
} as const;

/** Maps errors to responses, only here at the edge; anything unknown is a logged 500. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError) {
    return json(error.statusCode, { error: error.error, message: error.message });
  }
  if (error instanceof GuestProofRejectedError) {
    logger.warn("guest proof rejected", { reason: error.reason });
    return json(403, {
      error: "GuestProofRejected",
      reason: error.reason,
      message: GUEST_PROOF_MESSAGES[error.reason],
    });
  }
  if (error instanceof ReauthenticationRequiredError) {
    logger.warn("reauthentication required", { reason: error.reason });
    // RFC 6750's `invalid_token` for a session the pool ended; RFC 9470's step-up challenge
    // (`insufficient_user_authentication` with `max_age`) for a sign-in that is too old.
    const challenge =
      error.reason === "session-revoked"
        ? 'Bearer error="invalid_token", error_description="The session has ended"'
        : `Bearer error="insufficient_user_authentication", error_description="Sign in again", max_age="${error.maxAgeSeconds}"`;
    return json(
      401,
      {
        error: "ReauthenticationRequired",
        reason: error.reason,
        maxAgeSeconds: error.maxAgeSeconds,
        message: REAUTHENTICATION_MESSAGES[error.reason],
      },
      { "www-authenticate": challenge },
    );
  }
  if (error instanceof AdminRoleRequiredError) {
    return json(403, { error: "AdminRoleRequired", message: error.message });
  }
  if (error instanceof NotAGuestError) {
    logger.warn("guest route refused: the identity is no guest");
    return json(403, {
      error: "NotAGuest",
      message:
        "This identity has signed in since these guest credentials were issued: it is no " +
        "guest any more. Get new credentials for it.",
    });
  }
  if (error instanceof GuestProofLimitError) {
    const retryAfter = String(error.retryAfterSeconds);
    return json(
      429,
      {
        error: "GuestProofLimit",
        message: "Too many guest proofs for this identity; retry later.",
        retryAfterSeconds: error.retryAfterSeconds,
      },
      { "retry-after": retryAfter },
    );
  }
  if (error instanceof InvalidCallerError) {
    return json(403, { error: "InvalidCaller", message: error.message });
  }
  if (error instanceof IdentityMergedError) {
    return json(409, {
      error: "IdentityMerged",
      message: "This identity was merged; get credentials for the identity it was merged into.",
      mergedInto: error.mergedInto,
    });
  }
  if (error instanceof GuestAlreadyMergedError) {
    return json(409, { error: "GuestAlreadyMerged", message: error.message });
  }
  if (error instanceof IotPolicyLimitError) {
    return json(409, { error: "IotPolicyLimit", message: error.message });
  }
  if (error instanceof UserNotFoundError) {
    return json(404, { error: "NotFound", message: "No such user." });
  }
  if (error instanceof UserDeletedError) {
    return json(410, { error: "UserDeleted", message: "This identity's user was deleted." });
  }
  if (error instanceof InvalidPreferencesError) {
    return json(400, { error: "InvalidPreferences", message: error.message });
  }
  if (error instanceof ProfileNotReadyError || error instanceof IotThrottledError) {
    return json(503, { error: error.code, message: error.message }, { "retry-after": "1" });
  }
  logger.error("request failed", {
    errorName: (error as { name?: string } | null)?.name,
    code: error instanceof BoardingPassError ? error.code : undefined,
    error: error as Error,
  });
  return json(500, { error: "InternalError", message: "Something went wrong; try again." });
}
