/**
 * Cognito Identity's error contract (JSON 1.1): HTTP 400, `{"__type": "<Code>", "message": ...}`
 * and the same code in `x-amzn-ErrorType`, which the SDK turns into the exception class of that
 * name (`NotAuthorizedException`, `ResourceNotFoundException`, ...).
 */
import { JSON_1_1, type JsonErrorDialect } from "../../protocol/json";

export const COGNITO_IDENTITY_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_1,
  headers: ["x-amzn-errortype"],
};

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
