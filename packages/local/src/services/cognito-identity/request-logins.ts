/**
 * A request's `Logins` map, validated before anything changes (async: keys may be fetched and a
 * server-side token check asked), then handed to the linker (sync). The pool's own OpenID tokens
 * (developer-authenticated flow) are verified here too.
 */
import { AwsServiceError } from "../../protocol/errors";
import { JwtError } from "../../protocol/jwt";
import type { IdentityPoolContext } from "./context";
import { Messages } from "./errors";
import type { RequestLogins } from "./linking";
import { validateUserPoolLogin } from "./login-tokens";
import type { IdentityPoolState } from "./pools";
import { withoutScheme } from "./provider-names";

export async function validateLogins(
  ctx: IdentityPoolContext,
  pool: IdentityPoolState,
  logins: unknown,
): Promise<RequestLogins> {
  const out: RequestLogins = { userPool: [] };
  if (logins === undefined || logins === null) return out;
  if (typeof logins !== "object" || Array.isArray(logins)) {
    throw new AwsServiceError("InvalidParameterException", "Logins must be a map");
  }
  for (const [key, token] of Object.entries(logins as Record<string, unknown>)) {
    if (typeof token !== "string" || token === "") {
      throw new AwsServiceError("NotAuthorizedException", Messages.NOT_A_JWT);
    }
    if (withoutScheme(key) === ctx.issuerProvider) {
      out.openId = verifyOwnToken(ctx, pool, token);
      continue;
    }
    const login = await validateUserPoolLogin({
      loginKey: key,
      token,
      providers: pool.CognitoIdentityProviders,
      keys: ctx.userPoolKeys,
      nowMs: ctx.now(),
      ...(ctx.serverSideTokenCheck ? { serverSideTokenCheck: ctx.serverSideTokenCheck } : {}),
    });
    if (out.userPool.some((other) => other.provider === login.provider)) {
      throw new AwsServiceError(
        "InvalidParameterException",
        `Only one login per provider is allowed: ${login.provider}`,
      );
    }
    out.userPool.push(login);
  }
  return out;
}

function verifyOwnToken(
  ctx: IdentityPoolContext,
  pool: IdentityPoolState,
  token: string,
): Record<string, unknown> {
  let claims: Record<string, unknown>;
  try {
    claims = ctx.signer.verify(token, ctx.now());
  } catch (error) {
    if (error instanceof JwtError && error.failure.kind === "expired") {
      const exp = error.failure.expMs / 1000;
      throw new AwsServiceError(
        "NotAuthorizedException",
        Messages.expired(Math.floor(ctx.now() / 1000), exp),
        { cause: error },
      );
    }
    throw new AwsServiceError("NotAuthorizedException", Messages.BAD_SIGNATURE, {
      cause: error,
    });
  }
  if (claims.aud !== pool.IdentityPoolId) {
    throw new AwsServiceError("NotAuthorizedException", Messages.UNSUPPORTED_PROVIDER);
  }
  return claims;
}

export function assertGuestsAllowed(pool: IdentityPoolState): void {
  if (!pool.AllowUnauthenticatedIdentities) {
    throw new AwsServiceError(
      "NotAuthorizedException",
      "Unauthenticated access is not supported for this identity pool.",
    );
  }
}
