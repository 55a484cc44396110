/**
 * The one JWT signer and verifier of the local cloud (RFC 7515 compact JWS, RFC 7519 claims),
 * with Node's crypto only: RS256, RS384 and RS512, the key chosen by `kid` from a JWKS. Anything
 * else is refused before a key is touched: `alg: none`, and HMAC, which would let a public key
 * serve as a shared secret (algorithm confusion, RFC 8725 section 2.1).
 *
 * Services keep their own rules (which issuer, which audience or client, `token_use`) and their
 * own wire errors: a refusal is a `JwtError` whose `failure` says what failed.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, sign, verify } from "node:crypto";

export interface Jwks {
  keys: JsonWebKey[];
}

type JwtAlgorithm = "RS256" | "RS384" | "RS512";

export const RSA_ALGORITHMS: readonly JwtAlgorithm[] = ["RS256", "RS384", "RS512"];

const DIGESTS: Record<JwtAlgorithm, string> = {
  RS256: "RSA-SHA256",
  RS384: "RSA-SHA384",
  RS512: "RSA-SHA512",
};

interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: Record<string, unknown>;
}

/**
 * `kind` is the class callers have always mapped to their errors (a token not yet valid counts as
 * malformed); `reason` says exactly what failed.
 */
type JwtFailure =
  | {
      kind: "malformed";
      reason:
        | "segments"
        | "header"
        | "payload"
        | "algorithm"
        | "claim"
        | "not-yet-valid"
        | "issued-in-future";
      message: string;
      /** `algorithm`: the header's `alg` as sent; `claim`: the missing claim. */
      detail?: string;
    }
  | { kind: "unknown-issuer"; reason: "issuer"; message: string }
  | { kind: "bad-signature"; reason: "kid" | "signature"; message: string }
  | { kind: "expired"; reason: "expired"; message: string; expMs: number };

export class JwtError extends Error {
  constructor(
    readonly failure: JwtFailure,
    options?: { cause?: unknown },
  ) {
    super(failure.message, options);
  }
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** Header and claims of a compact JWS, unverified; refuses anything that is not three segments. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((part) => !SEGMENT.test(part))) {
    throw new JwtError({
      kind: "malformed",
      reason: "segments",
      message: "The token is not three base64url segments (header.payload.signature).",
    });
  }
  const header = decodeSegment(parts[0]!);
  if (!header) {
    throw new JwtError({
      kind: "malformed",
      reason: "header",
      message: "The token's header is not a JSON object.",
    });
  }
  const claims = decodeSegment(parts[1]!);
  if (!claims) {
    throw new JwtError({
      kind: "malformed",
      reason: "payload",
      message: "The token's payload is not a JSON object.",
    });
  }
  return { header: header as unknown as JwtHeader, claims };
}

/** A token's claims, unverified (to find its issuer's keys), or undefined when it is no JWT. */
export function peekClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  return parts.length === 3 ? decodeSegment(parts[1]!) : undefined;
}

export function signJwt(
  privateKey: KeyObject,
  header: JwtHeader & { alg: JwtAlgorithm },
  claims: Record<string, unknown>,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = sign(DIGESTS[header.alg], Buffer.from(input), privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

export interface JwtVerifyOptions {
  /** Accepted algorithms, from RS256/384/512; nothing else is ever accepted. */
  algorithms: readonly JwtAlgorithm[];
  /**
   * The key set for this token, given its unverified header and claims; undefined when its issuer
   * has none. May throw a `JwtError` of its own (a service's issuer rule).
   */
  keys(token: DecodedJwt): Jwks | undefined;
  /**
   * Omitted: no time checks (the caller checks expiry itself). Otherwise `exp` is required and
   * must be after `nowMs`, `nbf` (when present) not after it, and, with `iatLeewaySeconds`, `iat`
   * (when present) no further ahead than that.
   */
  clock?: { nowMs: number; iatLeewaySeconds?: number };
}

/** Verifies signature, then time; returns the token's header and claims. */
export function verifyJwt(token: string, options: JwtVerifyOptions): DecodedJwt {
  const decoded = decodeJwt(token);
  const { header, claims } = decoded;
  const algorithm = (options.algorithms as readonly string[]).includes(header.alg)
    ? (header.alg as JwtAlgorithm)
    : undefined;
  if (!algorithm) {
    throw new JwtError({
      kind: "malformed",
      reason: "algorithm",
      message: `The token's algorithm ${String(header.alg)} is not one of ${options.algorithms.join(", ")}.`,
      detail: String(header.alg),
    });
  }
  const jwks = options.keys(decoded);
  if (!jwks) {
    throw new JwtError({
      kind: "unknown-issuer",
      reason: "issuer",
      message: "No key set is known for the token's issuer.",
    });
  }
  const jwk = jwks.keys.find((key) => (key as { kid?: string }).kid === header.kid);
  if (!jwk) {
    throw new JwtError({
      kind: "bad-signature",
      reason: "kid",
      message: "The token's signing key (kid) is not in the key set.",
    });
  }
  const [headerPart, payloadPart, signaturePart] = token.split(".") as [string, string, string];
  let valid = false;
  try {
    valid = verify(
      DIGESTS[algorithm],
      Buffer.from(`${headerPart}.${payloadPart}`),
      createPublicKey({ key: jwk, format: "jwk" }),
      Buffer.from(signaturePart, "base64url"),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new JwtError({
      kind: "bad-signature",
      reason: "signature",
      message: "The token's signature does not verify.",
    });
  }
  if (options.clock) checkTime(claims, options.clock);
  return decoded;
}

function checkTime(
  claims: Record<string, unknown>,
  clock: NonNullable<JwtVerifyOptions["clock"]>,
): void {
  const { nowMs } = clock;
  if (typeof claims.exp !== "number") {
    throw new JwtError({
      kind: "malformed",
      reason: "claim",
      message: "The token has no exp claim.",
      detail: "exp",
    });
  }
  if (nowMs >= claims.exp * 1000) {
    throw new JwtError({
      kind: "expired",
      reason: "expired",
      message: `The token expired at ${new Date(claims.exp * 1000).toISOString()}.`,
      expMs: claims.exp * 1000,
    });
  }
  if (typeof claims.nbf === "number" && nowMs < claims.nbf * 1000) {
    throw new JwtError({
      kind: "malformed",
      reason: "not-yet-valid",
      message: `The token is not valid before ${new Date(claims.nbf * 1000).toISOString()}.`,
    });
  }
  if (
    clock.iatLeewaySeconds !== undefined &&
    typeof claims.iat === "number" &&
    claims.iat * 1000 > nowMs + clock.iatLeewaySeconds * 1000
  ) {
    throw new JwtError({
      kind: "malformed",
      reason: "issued-in-future",
      message: "The token's iat is in the future.",
    });
  }
}
