/**
 * The identity pool's own OpenID tokens (GetOpenIdToken, GetOpenIdTokenForDeveloperIdentity):
 * RS512 JWTs (the algorithm Cognito Identity uses; the local STS and aws-jwt-verify accept it)
 * signed by a local RSA key that is created once per data directory and persisted, so tokens
 * issued before a restart still verify after it.
 *
 * Claims as Cognito issues them: `iss` (default `https://cognito-identity.amazonaws.com`),
 * `aud` = identity pool id, `sub` = identity id, `amr` = [`authenticated` | `unauthenticated`,
 * provider names..., per-login entries], `iat`, `exp`.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { type Jwks, JwtError, RSA_ALGORITHMS, signJwt, verifyJwt } from "../../protocol/jwt";

export const DEFAULT_OPENID_ISSUER = "https://cognito-identity.amazonaws.com";
/** GetOpenIdToken: "The OpenID token is valid for 10 minutes." */
export const OPENID_TOKEN_SECONDS = 600;

export interface SigningKeyRecord {
  kid: string;
  /** PKCS#8 PEM. Local-only secret: it lives in the data directory like every other state. */
  privateKeyPem: string;
}

export interface OpenIdSigner {
  readonly issuer: string;
  readonly kid: string;
  jwks(): Jwks;
  mint(claims: {
    poolId: string;
    identityId: string;
    amr: string[];
    lifetimeSeconds: number;
    nowMs: number;
    extra?: Record<string, unknown>;
  }): string;
  /** Verifies a token this signer issued (signature, issuer, expiry); returns its claims. */
  verify(token: string, nowMs: number): Record<string, unknown>;
}

export function generateSigningKey(): SigningKeyRecord {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    kid: `local-${randomBytes(6).toString("hex")}`,
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

export function createOpenIdSigner(issuer: string, record: SigningKeyRecord): OpenIdSigner {
  const privateKey: KeyObject = createPrivateKey(record.privateKeyPem);
  const publicJwk: JsonWebKey = {
    ...createPublicKey(privateKey).export({ format: "jwk" }),
    kid: record.kid,
    alg: "RS512",
    use: "sig",
  };
  const jwks: Jwks = { keys: [publicJwk] };

  return {
    issuer,
    kid: record.kid,
    jwks: () => ({ keys: jwks.keys.map((key) => ({ ...key })) }),
    mint({ poolId, identityId, amr, lifetimeSeconds, nowMs, extra }) {
      const iat = Math.floor(nowMs / 1000);
      return signJwt(
        privateKey,
        { kid: record.kid, typ: "JWS", alg: "RS512" },
        {
          sub: identityId,
          aud: poolId,
          amr,
          iss: issuer,
          iat,
          exp: iat + lifetimeSeconds,
          ...extra,
        },
      );
    },
    verify(token, nowMs) {
      // As the local STS verifies them (any RSA algorithm), then this pool's issuer.
      const { claims } = verifyJwt(token, {
        algorithms: RSA_ALGORITHMS,
        keys: () => jwks,
        clock: { nowMs },
      });
      if (claims.iss !== issuer) {
        throw new JwtError({
          kind: "unknown-issuer",
          reason: "issuer",
          message: "Not issued by this identity pool",
        });
      }
      return claims;
    },
  };
}
