/**
 * An HTTP API's CORS configuration, applied as API Gateway applies it: preflights are answered
 * by API Gateway itself (no route or function is involved), and every other response to an
 * allowed origin gets the configured headers, replacing whatever the function set.
 *
 * One deviation: API Gateway answers `Access-Control-Allow-Origin: *` when `AllowOrigins` is `*`
 * and credentials are not allowed; locally the origin is echoed instead (the listener adds
 * `Vary: Origin`). Only origins the local cloud's origin policy admitted get this far, and a `*`
 * would tell the browser that any page may read the answer.
 */
import type { HttpApiCors } from "./types";

function originAllowed(cors: HttpApiCors, origin: string | undefined): boolean {
  if (!origin) return false;
  const allowed = cors.allowOrigins ?? [];
  return allowed.includes("*") || allowed.includes(origin);
}

export function isPreflight(method: string, headers: Record<string, string>): boolean {
  return method === "OPTIONS" && !!headers.origin && !!headers["access-control-request-method"];
}

/** Headers of API Gateway's 204 answer to a preflight (none for an origin not allowed). */
export function preflightHeaders(
  cors: HttpApiCors,
  headers: Record<string, string>,
): Array<[string, string]> {
  const origin = headers.origin;
  if (!originAllowed(cors, origin)) return [];
  const requestedMethod = headers["access-control-request-method"] ?? "";
  const methods = cors.allowMethods ?? [];
  if (
    !methods.includes("*") &&
    !methods.map((m) => m.toUpperCase()).includes(requestedMethod.toUpperCase())
  ) {
    return [];
  }
  const out: Array<[string, string]> = [
    ["access-control-allow-origin", origin!],
    [
      "access-control-allow-methods",
      methods.includes("*") ? requestedMethod || "*" : methods.join(","),
    ],
  ];
  const requestedHeaders = headers["access-control-request-headers"];
  const allowHeaders = cors.allowHeaders ?? [];
  if (requestedHeaders && allowHeaders.length > 0) {
    out.push([
      "access-control-allow-headers",
      allowHeaders.includes("*") ? requestedHeaders : allowHeaders.join(","),
    ]);
  }
  if (cors.allowCredentials) out.push(["access-control-allow-credentials", "true"]);
  if (cors.maxAge !== undefined) out.push(["access-control-max-age", String(cors.maxAge)]);
  return out;
}

/** Replaces the CORS headers of a response to an allowed origin. */
export function applyCors(
  cors: HttpApiCors,
  origin: string | undefined,
  headers: Array<[string, string]>,
): Array<[string, string]> {
  if (!originAllowed(cors, origin)) return headers;
  const out = headers.filter(([name]) => !name.startsWith("access-control-"));
  out.push(["access-control-allow-origin", origin!]);
  if (cors.allowCredentials) out.push(["access-control-allow-credentials", "true"]);
  if (cors.exposeHeaders && cors.exposeHeaders.length > 0) {
    out.push(["access-control-expose-headers", cors.exposeHeaders.join(",")]);
  }
  return out;
}
