/**
 * Test fixtures for the local identity pools: a stand-in user pool (its own RSA key, ID and
 * access tokens in Cognito's shape, a JWKS the identity service reads through `userPoolKeys`),
 * roles whose trust policies trust a given identity pool, and fresh AWS-shaped ids.
 */

import type { JsonWebKey } from "node:crypto";
import { randomBytes } from "node:crypto";
import type { StsService } from "../../src/services/sts/index";
import { identityPoolTrustPolicy } from "../../src/testing";
import { generateSigningKey, type SigningKey, signJwt } from "../services/jwt-helpers";

export const ACCOUNT = "000000000000";

export function roleArn(name: string): string {
  return `arn:aws:iam::${ACCOUNT}:role/${name}`;
}

/** A fresh AWS-shaped user pool id, e.g. `us-east-1_Ab3dE5gH7`. */
export function userPoolId(): string {
  return `us-east-1_${randomBytes(6).toString("base64url").replace(/[-_]/g, "x")}`;
}

export function clientId(): string {
  return randomBytes(13).toString("hex");
}

/** The trust policy Cognito requires ("Role trust and permissions"): the pool's `aud` and the `amr` of the caller. */
export const cognitoTrust = identityPoolTrustPolicy;

/** Registers each role in STS trusting `identityPoolId` for `amr`. */
export function trustRoles(
  sts: StsService,
  identityPoolId: string,
  roles: Record<string, "authenticated" | "unauthenticated">,
): void {
  for (const [arn, amr] of Object.entries(roles)) {
    sts.putRole({ arn, trustPolicy: cognitoTrust(identityPoolId, amr) });
  }
}

let sharedKey: SigningKey | undefined;

function sharedSigningKey(): SigningKey {
  if (!sharedKey) sharedKey = generateSigningKey("test-user-pools");
  return sharedKey;
}

/** A user pool as the identity service sees it: an issuer, a key, and tokens to mint. */
export class TestUserPool {
  readonly id = userPoolId();
  readonly clientId = clientId();

  /**
   * `baseUrl` is the local endpoint (`http://127.0.0.1:<port>`), as the local user pool uses.
   * Pools share one RSA key unless given their own (key generation is slow on two cores; tests of
   * a wrong key pass one).
   */
  constructor(
    readonly baseUrl: string,
    readonly key: SigningKey = sharedSigningKey(),
  ) {}

  get issuer(): string {
    return `${this.baseUrl}/${this.id}`;
  }

  /** The Logins key AWS clients send: `cognito-idp.us-east-1.amazonaws.com/<poolId>`. */
  get providerName(): string {
    return `cognito-idp.us-east-1.amazonaws.com/${this.id}`;
  }

  /** The Logins key a client derives from the local `iss`: `127.0.0.1:<port>/<poolId>`. */
  get localLoginKey(): string {
    return this.issuer.replace(/^https?:\/\//, "");
  }

  get jwks(): { keys: JsonWebKey[] } {
    return { keys: [this.key.jwk] };
  }

  idToken(claims: Record<string, unknown> = {}, nowSeconds = Math.floor(Date.now() / 1000)) {
    const sub = (claims.sub as string | undefined) ?? crypto.randomUUID();
    return signJwt(this.key, {
      sub,
      aud: this.clientId,
      email_verified: true,
      token_use: "id",
      auth_time: nowSeconds,
      iss: this.issuer,
      "cognito:username": sub,
      exp: nowSeconds + 3600,
      iat: nowSeconds,
      jti: crypto.randomUUID(),
      origin_jti: crypto.randomUUID(),
      ...claims,
    });
  }

  accessToken(sub: string = crypto.randomUUID(), nowSeconds = Math.floor(Date.now() / 1000)) {
    return signJwt(this.key, {
      sub,
      iss: this.issuer,
      client_id: this.clientId,
      origin_jti: crypto.randomUUID(),
      token_use: "access",
      scope: "aws.cognito.signin.user.admin",
      auth_time: nowSeconds,
      exp: nowSeconds + 3600,
      iat: nowSeconds,
      jti: crypto.randomUUID(),
      username: sub,
    });
  }
}

/** A `userPoolKeys` source over a set of test pools, keyed by issuer as the service asks. */
export function keySource(pools: () => Iterable<TestUserPool>) {
  return async (issuer: string) => {
    for (const pool of pools()) if (pool.issuer === issuer) return pool.jwks;
    return undefined;
  };
}
