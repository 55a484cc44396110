/**
 * CORS for browser clients (Amplify, amazon-cognito-identity-js). AWS endpoints answer any origin
 * and expose the headers the SDKs read to report errors and request ids.
 */
const EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date, ETag";
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS";

export function corsHeaders(): Record<string, string> {
  return {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": EXPOSED_HEADERS,
  };
}

export function isPreflight(method: string, headers: Record<string, string>): boolean {
  return method === "OPTIONS" && headers["access-control-request-method"] !== undefined;
}

/** Answers a preflight allowing whatever headers the browser asked for (SDKs add many). */
export function preflightHeaders(headers: Record<string, string>): Record<string, string> {
  return {
    ...corsHeaders(),
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": headers["access-control-request-headers"] ?? "*",
    "access-control-max-age": "86400",
  };
}
