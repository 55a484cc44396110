/**
 * `JWT` routes, as API Gateway's JWT authorizer checks a token: RS256 only, signing key by `kid`
 * from the issuer's JWKS, `iss` exactly the configured issuer, `exp`/`nbf`/`iat`, then `aud`
 * (ID tokens) or, only when there is no `aud`, `client_id` (access tokens) against the
 * configured audience; the route's scopes against `scope`/`scp`. A missing or invalid token is
 * 401 `Unauthorized`; a valid token without a required scope is 403 `Forbidden`.
 */
import { type DecodedJwt, decodeJwt, JwtError, verifyJwt } from "../../protocol/jwt";
import type { Jwks, JwtAuthorizerConfig, Rejection } from "./types";

const UNAUTHORIZED = "Unauthorized";
/** An unknown `kid` refetches the JWKS (key rotation), at most this often per issuer. */
const REFETCH_AFTER_MS = 10_000;
const FETCH_TIMEOUT_MS = 5_000;
/** How far ahead of the clock `iat` may be. */
const IAT_LEEWAY_SECONDS = 60;

interface JwtRequest {
  headers: Record<string, string>;
  query: Array<[string, string]>;
  nowMs: number;
}

interface JwtAuthorization {
  claims: Record<string, string>;
  scopes: string[] | null;
}

/**
 * `GET <issuer>/.well-known/jwks.json` from a loopback issuer (the local user pool serves it over
 * plain http). Other hosts are refused: the local cloud never reaches AWS, so an issuer still in
 * its AWS shape (`https://cognito-idp...`) is a wiring mistake to report, not a URL to fetch.
 */
export async function fetchJwksOverHttp(issuer: string): Promise<Jwks> {
  const url = new URL(`${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`);
  const loopback =
    url.hostname === "localhost" ||
    url.hostname === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (!/^https?:$/.test(url.protocol) || !loopback) {
    throw new Error(
      `JWKS URL is not on loopback: ${url.href} (map the issuer to the local user pool)`,
    );
  }
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${url.href}: ${response.status}`);
  const jwks = (await response.json()) as Jwks;
  if (!Array.isArray(jwks?.keys)) throw new Error(`GET ${url.href}: not a JWKS`);
  return jwks;
}

export function createJwtAuthorizer(fetchJwks: (issuer: string) => Promise<Jwks>) {
  const cache = new Map<string, { jwks: Promise<Jwks>; fetchedAt: number }>();

  function jwksFor(issuer: string, nowMs: number, refresh: boolean): Promise<Jwks> {
    const cached = cache.get(issuer);
    if (cached && !(refresh && nowMs - cached.fetchedAt >= REFETCH_AFTER_MS)) return cached.jwks;
    const jwks = fetchJwks(issuer);
    const entry = { jwks, fetchedAt: nowMs };
    cache.set(issuer, entry);
    // A failed fetch is not cached: the next request tries again.
    jwks.catch(() => {
      if (cache.get(issuer) === entry) cache.delete(issuer);
    });
    return jwks;
  }

  return async function authorize(
    request: JwtRequest,
    config: JwtAuthorizerConfig,
    requiredScopes: string[] | undefined,
  ): Promise<JwtAuthorization | Rejection> {
    const unauthorized = (reason: string): Rejection => ({
      status: 401,
      message: UNAUTHORIZED,
      reason,
    });
    const token = identityFrom(request, config.identitySource ?? "$request.header.Authorization");
    if (!token) return unauthorized("no token in the identity source");

    let unverified: DecodedJwt;
    try {
      unverified = decodeJwt(token);
    } catch (error) {
      if (error instanceof JwtError) return unauthorized(`not a JWT: ${error.message}`);
      throw error;
    }
    if (unverified.header.alg !== "RS256")
      return unauthorized(`alg ${String(unverified.header.alg)}`);
    if (unverified.claims.iss !== config.issuer) {
      return unauthorized(`iss ${String(unverified.claims.iss)} is not ${config.issuer}`);
    }
    let jwks: Jwks;
    try {
      jwks = await jwksFor(config.issuer, request.nowMs, false);
      const kid = unverified.header.kid;
      if (!jwks.keys.some((k) => (k as { kid?: string }).kid === kid)) {
        jwks = await jwksFor(config.issuer, request.nowMs, true);
      }
    } catch (error) {
      return unauthorized(`JWKS of ${config.issuer}: ${(error as Error).message}`);
    }
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwt(token, {
        algorithms: ["RS256"],
        keys: () => jwks,
        clock: { nowMs: request.nowMs, iatLeewaySeconds: IAT_LEEWAY_SECONDS },
      }).claims;
    } catch (error) {
      if (error instanceof JwtError) return unauthorized(error.message);
      throw error;
    }
    const audiences =
      claims.aud !== undefined
        ? [claims.aud].flat().map(String)
        : claims.client_id !== undefined
          ? [String(claims.client_id)]
          : [];
    if (!audiences.some((a) => config.audience.includes(a))) {
      return unauthorized(`neither aud nor client_id is one of ${config.audience.join(", ")}`);
    }
    const scopes = scopesOf(claims);
    if (
      requiredScopes &&
      requiredScopes.length > 0 &&
      !requiredScopes.some((s) => scopes?.includes(s))
    ) {
      return {
        status: 403,
        message: "Forbidden",
        reason: `no scope of ${requiredScopes.join(", ")}`,
      };
    }
    return { claims: flattenClaims(claims), scopes };
  };
}

/** `$request.header.Authorization` (with or without `Bearer `), or `$request.querystring.x`. */
function identityFrom(request: JwtRequest, source: string): string | undefined {
  let value: string | undefined;
  const header = /^\$request\.header\.(.+)$/.exec(source);
  const query = /^\$request\.querystring\.(.+)$/.exec(source);
  if (header) value = request.headers[header[1]!.toLowerCase()];
  else if (query) value = request.query.find(([k]) => k === query[1])?.[1];
  value = value?.trim();
  if (value && /^bearer\s+/i.test(value)) value = value.replace(/^bearer\s+/i, "");
  return value || undefined;
}

function scopesOf(claims: Record<string, unknown>): string[] | null {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.map(String);
  return null;
}

/**
 * API Gateway hands claims to the integration as strings: numbers and booleans as text, arrays
 * as `[a b c]` (how `cognito:groups` arrives), objects as JSON.
 */
function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (Array.isArray(value)) out[name] = `[${value.map(String).join(" ")}]`;
    else if (value !== null && typeof value === "object") out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}
