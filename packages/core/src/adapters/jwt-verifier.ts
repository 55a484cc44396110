import { JwtRsaVerifier } from "aws-jwt-verify";
import {
  FetchError,
  JwksNotAvailableInCacheError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from "aws-jwt-verify/error";
import type { Fetcher } from "aws-jwt-verify/https";
import { type Jwks, SimpleJwksCache } from "aws-jwt-verify/jwk";
import { GuestProofRejectedError, type GuestProofRejection } from "../errors";
import type { OpenIdTokenVerifier, VerifiedOpenIdToken } from "../identity/ports";

interface TrustedIssuer {
  /** `https://cognito-identity.amazonaws.com` on AWS; our own for backend-issued guest proofs. */
  issuer: string;
  /** Where its JWKS is fetched (`https://cognito-identity.amazonaws.com/.well-known/jwks_uri`). */
  jwksUri?: string;
  /** Or the JWKS itself, loaded once before the first verification (a KMS public key). */
  jwks?: () => Promise<{ keys: ReadonlyArray<Record<string, unknown>> }>;
}

interface OpenIdTokenVerifierOptions {
  /** Every issuer whose guest proofs are accepted; each must sign with RS256 for our pool. */
  issuers: readonly TrustedIssuer[];
  /** The identity pool id: the only accepted `aud`. */
  identityPoolId: string;
  /** Fetch timeout for a JWKS. */
  timeoutMs?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * aws-jwt-verify fetches with `https.request`, which refuses `http:`. The local identity pool
 * serves its JWKS over loopback HTTP, so this fetcher uses `fetch` and allows plain HTTP only for
 * loopback hosts; anything else must be HTTPS.
 */
function jwksFetcher(timeoutMs: number): Fetcher {
  return {
    async fetch(uri: string): Promise<ArrayBuffer> {
      const url = new URL(uri);
      if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
        throw new FetchError(uri, "JWKS must be fetched over HTTPS (HTTP only on loopback)");
      }
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status !== 200) throw new FetchError(uri, `Status code is ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

function rejection(error: unknown): GuestProofRejection {
  if (error instanceof JwtExpiredError) return "expired";
  if (error instanceof JwtNotBeforeError) return "not-yet-valid";
  if (error instanceof JwtInvalidAudienceError) return "foreign-audience";
  if (error instanceof JwtInvalidIssuerError) return "wrong-issuer";
  // With several trusted issuers, an unknown `iss` is refused before any key is looked up.
  if (
    error instanceof ParameterValidationError &&
    /^issuer (not configured|must be)/.test(error.message)
  ) {
    return "wrong-issuer";
  }
  if (error instanceof JwtInvalidSignatureError) return "invalid-signature";
  if (error instanceof JwtInvalidSignatureAlgorithmError) return "invalid-signature";
  if (error instanceof KidNotFoundInJwksError) return "unknown-key";
  if (error instanceof JwtWithoutValidKidError) return "unknown-key";
  // An unknown kid is refetched at most every few seconds; meanwhile it is still unknown.
  if (error instanceof WaitPeriodNotYetEndedJwkError) return "unknown-key";
  if (error instanceof FetchError || error instanceof JwksNotAvailableInCacheError) {
    return "jwks-unavailable";
  }
  if (error instanceof JwtParseError) return "malformed";
  return "malformed";
}

/**
 * `JwtRsaVerifier` for identity-pool OpenID tokens (and our own guest proofs, same shape); build
 * once per Lambda, at module scope, so the JWKS cache lives as long as the Lambda.
 */
export class JwtOpenIdTokenVerifier implements OpenIdTokenVerifier {
  private readonly verifier;
  private preloaded: Promise<void> | undefined;

  constructor(private readonly options: OpenIdTokenVerifierOptions) {
    if (options.issuers.length === 0) throw new Error("At least one trusted issuer is required");
    this.verifier = JwtRsaVerifier.create(
      options.issuers.map((trusted) => ({
        issuer: trusted.issuer,
        audience: options.identityPoolId,
        ...(trusted.jwksUri !== undefined ? { jwksUri: trusted.jwksUri } : {}),
      })),
      { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher(options.timeoutMs ?? 1500) }) },
    );
  }

  private preload(): Promise<void> {
    this.preloaded ??= (async () => {
      for (const trusted of this.options.issuers) {
        if (trusted.jwks !== undefined)
          this.verifier.cacheJwks((await trusted.jwks()) as unknown as Jwks, trusted.issuer);
      }
    })().catch((error: unknown) => {
      this.preloaded = undefined; // try again on the next call
      throw error;
    });
    return this.preloaded;
  }

  async verify(token: string): Promise<VerifiedOpenIdToken> {
    let payload: Awaited<ReturnType<typeof this.verifier.verify>>;
    try {
      await this.preload();
    } catch (error) {
      throw new GuestProofRejectedError("jwks-unavailable", { cause: error });
    }
    try {
      payload = await this.verifier.verify(token);
    } catch (error) {
      throw new GuestProofRejectedError(rejection(error), { cause: error });
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
    const amr = Array.isArray(payload.amr) ? payload.amr.map(String) : [];
    if (typeof payload.sub !== "string" || typeof payload.exp !== "number") {
      throw new GuestProofRejectedError("malformed");
    }
    return { sub: payload.sub, aud, amr, exp: payload.exp };
  }
}
