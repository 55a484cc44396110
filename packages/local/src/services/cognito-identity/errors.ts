/**
 * Cognito Identity's error contract (JSON 1.1): HTTP 400, `{"__type": "<Code>", "message": ...}`
 * and the same code in `x-amzn-ErrorType`, which the SDK turns into the exception class of that
 * name (`NotAuthorizedException`, `ResourceNotFoundException`, ...).
 */
import type { ServiceResponse } from "../../types";

export type CognitoIdentityErrorCode =
  | "NotAuthorizedException"
  | "ResourceNotFoundException"
  | "InvalidParameterException"
  | "InvalidIdentityPoolConfigurationException"
  | "ResourceConflictException"
  | "DeveloperUserAlreadyRegisteredException"
  | "LimitExceededException"
  | "InternalErrorException"
  | "UnknownOperationException"
  | "ValidationException";

export class CognitoIdentityError extends Error {
  override readonly name = "CognitoIdentityError";

  constructor(
    readonly code: CognitoIdentityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return this.code === "InternalErrorException" ? 500 : 400;
  }
}

/** Cognito's wording, kept in one place so tests and the service cannot drift apart. */
export const Messages = {
  poolNotFound: (id: string) => `IdentityPool '${id}' not found.`,
  identityNotFound: (id: string) => `Identity '${id}' not found.`,
  forbidden: (id: string) => `Access to identity '${id}' is forbidden.`,
  LOGINS_DO_NOT_MATCH:
    "Logins don't match. Please include at least one valid login for this identity or identity pool.",
  UNSUPPORTED_PROVIDER: "Token is not from a supported provider of this identity pool.",
  ISSUER_MISMATCH: "Invalid login token. Issuer doesn't match providerName",
  // As AWS returned it for a malformed user-pool login (aws-amplify/aws-sdk-android#1431).
  NOT_A_JWT: "Invalid login token. Not a Cognito token.",
  BAD_SIGNATURE: "Invalid login token. Couldn't verify signed token.",
  MISSING_AUD: "Invalid login token. Missing a required claim: aud",
  expired: (nowSeconds: number, exp: number) =>
    `Invalid login token. Token expired: ${nowSeconds} >= ${exp}`,
  // AWS documents only "a 400 Not Authorized error" for ServerSideTokenCheck; this text is ours.
  TOKEN_REVOKED: "Invalid login token. The user is signed out, deleted or the token is revoked.",
  CLASSIC_FLOW_DISABLED: "Basic (classic) flow is not enabled, please use enhanced flow.",
  CLASSIC_FLOW_WITH_ROLE_MAPPINGS:
    "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow.",
  DEVELOPER_USER_TAKEN:
    "The provided developer user identifier is already registered with Cognito under a different identity ID.",
} as const;

export function errorResponse(error: CognitoIdentityError): ServiceResponse {
  return {
    status: error.status,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-errortype": error.code,
    },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}
