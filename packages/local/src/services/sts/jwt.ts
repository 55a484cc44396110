/**
 * STS's rules for a web-identity token on top of protocol/jwt: RS256, RS384 or RS512 (Cognito
 * Identity's OpenID tokens are RS512), the key set registered for the token's `iss` (by IAM
 * provider name), `exp` required; and STS's own messages for each refusal.
 */
import {
  type DecodedJwt,
  type Jwks,
  JwtError,
  RSA_ALGORITHMS,
  verifyJwt,
} from "../../protocol/jwt";

export type { Jwks } from "../../protocol/jwt";
export { JwtError } from "../../protocol/jwt";

interface VerifiedToken extends DecodedJwt {
  /**
   * `iss` without scheme and trailing slash: the IAM provider name
   * (`cognito-identity.amazonaws.com`).
   */
  provider: string;
}

/** Normalizes an issuer to the provider name IAM uses: no scheme, no trailing slash. */
export function providerName(issuer: string): string {
  return issuer.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

/**
 * Verifies signature (key chosen by `kid`) and expiry. `jwksFor` maps a provider name to its
 * registered key set. `nowMs` is injectable so tests never depend on the clock. Throws a
 * `JwtError` carrying STS's message.
 */
export function verifyWebIdentityToken(
  token: string,
  jwksFor: (provider: string) => Jwks | undefined,
  nowMs: number,
): VerifiedToken {
  let provider = "";
  try {
    const decoded = verifyJwt(token, {
      algorithms: RSA_ALGORITHMS,
      keys: ({ claims }) => {
        if (typeof claims.iss !== "string" || claims.iss === "") {
          throw new JwtError({
            kind: "malformed",
            reason: "claim",
            message: "Missing a required claim: iss",
            detail: "iss",
          });
        }
        provider = providerName(claims.iss);
        const jwks = jwksFor(provider);
        if (!jwks) {
          throw new JwtError({
            kind: "unknown-issuer",
            reason: "issuer",
            message: `No OpenIDConnect provider found in your account for ${claims.iss}`,
          });
        }
        return jwks;
      },
      clock: { nowMs },
    });
    return { ...decoded, provider };
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    throw new JwtError({ ...error.failure, message: stsMessage(error, nowMs) }, { cause: error });
  }
}

function stsMessage({ failure }: JwtError, nowMs: number): string {
  switch (failure.reason) {
    case "segments":
      return "The provided token is not a valid JWT.";
    case "header":
      return "Couldn't parse the header of the provided token.";
    case "payload":
      return "Couldn't parse the payload of the provided token.";
    case "algorithm":
      return `Unsupported token signing algorithm: ${failure.detail}`;
    case "claim":
      return `Missing a required claim: ${failure.detail}`;
    case "kid":
      return "The token's signing key (kid) is not in the provider's JWKS.";
    case "signature":
      return "Couldn't verify the token's signature.";
    case "expired":
      return `Token expired: current date/time ${new Date(nowMs).toISOString()} must be before the expiration date/time ${new Date(failure.expMs).toISOString()}`;
    case "not-yet-valid":
      return "The token is not valid yet (nbf).";
    default:
      // The issuer refusal already carries STS's message.
      return failure.message;
  }
}
