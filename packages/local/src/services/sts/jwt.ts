/**
 * RSA JWT verification (RS256, plus RS384/RS512: Cognito Identity's OpenID tokens are RS512)
 * against registered JWKS, with Node's crypto only: no JWT library, so the local cloud verifies
 * exactly what it chooses to and reports failures as STS does. `none` and HMAC are refused.
 */
import { createPublicKey, type JsonWebKey, verify } from "node:crypto";

export interface Jwks {
  keys: JsonWebKey[];
}

export interface VerifiedToken {
  header: { alg: string; kid?: string; typ?: string };
  claims: Record<string, unknown>;
  /** `iss` without scheme and trailing slash: the IAM provider name (`cognito-identity.amazonaws.com`). */
  provider: string;
}

const RSA_DIGESTS: Record<string, string> = {
  RS256: "RSA-SHA256",
  RS384: "RSA-SHA384",
  RS512: "RSA-SHA512",
};

export type JwtFailure =
  | { kind: "malformed"; message: string }
  | { kind: "unknown-issuer"; message: string }
  | { kind: "bad-signature"; message: string }
  | { kind: "expired"; message: string };

export class JwtError extends Error {
  constructor(readonly failure: JwtFailure) {
    super(failure.message);
  }
}

/** Normalizes an issuer to the provider name IAM uses: no scheme, no trailing slash. */
export function providerName(issuer: string): string {
  return issuer.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    /* fall through */
  }
  throw new JwtError({
    kind: "malformed",
    message: `Couldn't parse the ${what} of the provided token.`,
  });
}

/**
 * Verifies signature (RS256, key chosen by `kid`) and expiry. `jwksFor` maps a provider name to
 * its registered key set. `nowMs` is injectable so tests never depend on the clock.
 */
export function verifyJwt(
  token: string,
  jwksFor: (provider: string) => Jwks | undefined,
  nowMs: number,
): VerifiedToken {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => p === "" || !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new JwtError({ kind: "malformed", message: "The provided token is not a valid JWT." });
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart, "header") as VerifiedToken["header"];
  const claims = decodeSegment(payloadPart, "payload");
  const digest = RSA_DIGESTS[header.alg];
  if (!digest) {
    throw new JwtError({
      kind: "malformed",
      message: `Unsupported token signing algorithm: ${String(header.alg)}`,
    });
  }
  if (typeof claims.iss !== "string" || claims.iss === "") {
    throw new JwtError({ kind: "malformed", message: "Missing a required claim: iss" });
  }
  const provider = providerName(claims.iss);
  const jwks = jwksFor(provider);
  if (!jwks) {
    throw new JwtError({
      kind: "unknown-issuer",
      message: `No OpenIDConnect provider found in your account for ${claims.iss}`,
    });
  }
  const jwk = jwks.keys.find((k) => (k as { kid?: string }).kid === header.kid);
  if (!jwk) {
    throw new JwtError({
      kind: "bad-signature",
      message: "The token's signing key (kid) is not in the provider's JWKS.",
    });
  }
  let valid = false;
  try {
    const key = createPublicKey({ key: jwk, format: "jwk" });
    valid = verify(
      digest,
      Buffer.from(`${headerPart}.${payloadPart}`),
      key,
      Buffer.from(signaturePart, "base64url"),
    );
  } catch {
    valid = false;
  }
  if (!valid)
    throw new JwtError({
      kind: "bad-signature",
      message: "Couldn't verify the token's signature.",
    });
  if (typeof claims.exp !== "number") {
    throw new JwtError({ kind: "malformed", message: "Missing a required claim: exp" });
  }
  if (nowMs >= claims.exp * 1000) {
    throw new JwtError({
      kind: "expired",
      message: `Token expired: current date/time ${new Date(nowMs).toISOString()} must be before the expiration date/time ${new Date(claims.exp * 1000).toISOString()}`,
    });
  }
  if (typeof claims.nbf === "number" && nowMs < claims.nbf * 1000) {
    throw new JwtError({ kind: "malformed", message: "The token is not valid yet (nbf)." });
  }
  return { header, claims, provider };
}
