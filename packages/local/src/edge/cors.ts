/**
 * CORS for browser clients (Amplify, amazon-cognito-identity-js) on pages the origin policy
 * admitted (origin.ts): the admitted origin is echoed, never `*`, and the headers the SDKs read
 * to report errors and request ids are exposed.
 */
import { corsOriginHeaders, type OriginAdmission } from "./origin";

const EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date, ETag";
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS";

export function corsHeaders(admission: OriginAdmission): Record<string, string> {
  const headers = corsOriginHeaders(admission);
  if (admission.origin !== undefined) {
    headers["access-control-expose-headers"] = EXPOSED_HEADERS;
  }
  return headers;
}

export function isPreflight(method: string, headers: Record<string, string>): boolean {
  return method === "OPTIONS" && headers["access-control-request-method"] !== undefined;
}

/**
 * Answers an admitted preflight allowing whatever headers the browser asked for (SDKs add many),
 * and the private-network access Chrome asks of a page on a public name calling loopback.
 */
export function preflightHeaders(
  headers: Record<string, string>,
  admission: OriginAdmission,
): Record<string, string> {
  return {
    ...corsHeaders(admission),
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": headers["access-control-request-headers"] ?? "*",
    "access-control-max-age": "86400",
    ...(headers["access-control-request-private-network"] === "true"
      ? { "access-control-allow-private-network": "true" }
      : {}),
  };
}
