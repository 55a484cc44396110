/**
 * Validation of one user-pool login (Logins key → ID token), in the order Cognito reports
 * failures: the key must name a provider of the pool, the token must be a JWT whose `iss` names
 * that same provider, its RS256 signature must verify against the user pool's keys, it must not
 * be expired, it must carry `aud` (access tokens do not: they have `client_id`), and `aud` must
 * be a client id configured for that provider.
 *
 * The keys come from a pluggable source (the local user-pool service publishes its JWKS), so this
 * module knows nothing about how user pools are stored.
 */

import type { JsonWebKey } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";
import { JwtError, peekClaims, RSA_ALGORITHMS, verifyJwt } from "../../protocol/jwt";
import { Messages } from "./errors";
import {
  configuredProviderFor,
  namesProvider,
  userPoolIdOf,
  withoutScheme,
} from "./provider-names";

export type UserPoolKeySource = (issuer: string) => Promise<{ keys: JsonWebKey[] } | undefined>;

/**
 * ServerSideTokenCheck: asks the user pool whether the token's session is still valid (the user
 * not globally signed out, not deleted, the token not revoked). False refuses the login.
 */
export type ServerSideTokenCheck = (input: {
  issuer: string;
  claims: Record<string, unknown>;
}) => Promise<boolean>;

export interface UserPoolProvider {
  ProviderName: string;
  ClientId?: string;
  ServerSideTokenCheck?: boolean;
}

export interface ValidatedLogin {
  /** The provider name as configured on the pool (AWS-shaped). */
  provider: string;
  /** The key the caller used (may be the local form). */
  loginKey: string;
  /** The user within the provider: the ID token's `sub`. */
  userId: string;
  claims: Record<string, unknown>;
  /** `cognito-idp...amazonaws.com/<poolId>:<clientId>`: the role-mapping key. */
  roleMappingKey: string;
}

export async function validateUserPoolLogin(input: {
  loginKey: string;
  token: string;
  providers: readonly UserPoolProvider[];
  keys: UserPoolKeySource;
  nowMs: number;
  serverSideTokenCheck?: ServerSideTokenCheck;
}): Promise<ValidatedLogin> {
  const { loginKey, token, providers, nowMs } = input;
  const provider = configuredProviderFor(
    loginKey,
    providers.map((p) => p.ProviderName),
  );
  if (provider === undefined) {
    throw new AwsServiceError("NotAuthorizedException", Messages.UNSUPPORTED_PROVIDER);
  }
  const unverified = peekClaims(token);
  if (!unverified || typeof unverified.iss !== "string") {
    throw new AwsServiceError("NotAuthorizedException", Messages.NOT_A_JWT);
  }
  const issuer = unverified.iss;
  if (!namesProvider(issuer, loginKey) || !namesProvider(issuer, provider)) {
    throw new AwsServiceError("NotAuthorizedException", Messages.ISSUER_MISMATCH);
  }
  const jwks = await input.keys(issuer);
  if (!jwks) throw new AwsServiceError("NotAuthorizedException", Messages.BAD_SIGNATURE);

  let claims: Record<string, unknown>;
  const nowSeconds = Math.floor(nowMs / 1000);
  try {
    ({ claims } = verifyJwt(token, {
      algorithms: RSA_ALGORITHMS,
      keys: () => jwks,
      clock: { nowMs },
    }));
  } catch (error) {
    if (error instanceof JwtError && error.failure.kind === "expired") {
      // The signature verified before expiry was checked, so the unverified exp is the real one.
      throw new AwsServiceError(
        "NotAuthorizedException",
        Messages.expired(nowSeconds, Number(unverified.exp)),
        { cause: error },
      );
    }
    if (error instanceof JwtError && error.failure.kind === "malformed") {
      throw new AwsServiceError("NotAuthorizedException", Messages.NOT_A_JWT, {
        cause: error,
      });
    }
    throw new AwsServiceError("NotAuthorizedException", Messages.BAD_SIGNATURE, {
      cause: error,
    });
  }
  const aud = claims.aud;
  if (typeof aud !== "string" || aud === "") {
    throw new AwsServiceError("NotAuthorizedException", Messages.MISSING_AUD);
  }
  const clientAllowed = providers.some(
    (p) => p.ProviderName === provider && (p.ClientId === undefined || p.ClientId === aud),
  );
  if (!clientAllowed) {
    throw new AwsServiceError("NotAuthorizedException", Messages.UNSUPPORTED_PROVIDER);
  }
  if (typeof claims.sub !== "string" || claims.sub === "") {
    throw new AwsServiceError("NotAuthorizedException", Messages.NOT_A_JWT);
  }
  const checked = providers.some(
    (p) => p.ProviderName === provider && p.ClientId === aud && p.ServerSideTokenCheck === true,
  );
  if (
    checked &&
    input.serverSideTokenCheck &&
    !(await input.serverSideTokenCheck({ issuer, claims }))
  ) {
    throw new AwsServiceError("NotAuthorizedException", Messages.TOKEN_REVOKED);
  }
  return {
    provider,
    loginKey,
    userId: claims.sub,
    claims,
    roleMappingKey: `${provider}:${aud}`,
  };
}

/**
 * A `userPoolKeys` source over a user-pool service that exposes `issuer(poolId)` and
 * `jwks(poolId)` (the local cognito-idp service does): the keys of the pool named by the issuer's
 * last path segment, only when that pool really issues under this issuer.
 */
export function userPoolKeysFrom(userPools: {
  issuer(poolId: string): string;
  jwks(poolId: string): { keys: object[] };
}): UserPoolKeySource {
  return async (issuer) => {
    const poolId = userPoolIdOf(issuer);
    if (poolId === undefined) return undefined;
    try {
      if (withoutScheme(userPools.issuer(poolId)) !== withoutScheme(issuer)) return undefined;
      return userPools.jwks(poolId) as { keys: JsonWebKey[] };
    } catch {
      // Unknown pool: no keys, so the login fails as an unverifiable token.
      return undefined;
    }
  };
}
