/**
 * Credentials and the pool's own tokens: GetCredentialsForIdentity (enhanced flow: the role
 * resolved, then STS) and GetOpenIdToken (basic flow, refused unless the pool allows it).
 */
import { AwsServiceError } from "../../../protocol/errors";
import type { IssuedCredentials } from "../../sts/index";
import {
  type IdentityPoolContext,
  type Operation,
  registerJwks,
  requireIdentity,
  requirePool,
  usableIdentity,
} from "../context";
import { Messages } from "../errors";
import { GUEST_SESSION_POLICY } from "../guest-policy";
import type { IdentityState } from "../identity-store";
import { amrFor, type RequestLogins } from "../linking";
import { OPENID_TOKEN_SECONDS } from "../openid-tokens";
import { type IdentityPoolState, roleConfig } from "../pools";
import { assertGuestsAllowed, validateLogins } from "../request-logins";
import { resolveRole } from "../role-resolution";

/** Enhanced-flow credentials live one hour, as AWS documents. */
const CREDENTIALS_SECONDS = 3600;
/** The session name AWS uses for enhanced-flow sessions (`assumed-role/<Role>/CognitoIdentityCredentials`). */
const SESSION_NAME = "CognitoIdentityCredentials";

/**
 * Credentials for an identity in a role: by default a real AssumeRoleWithWebIdentity with a token
 * minted for the identity, so a role that does not trust the pool fails as in AWS. Guests get the
 * scope-down session policy.
 */
function issueCredentials(
  ctx: IdentityPoolContext,
  pool: IdentityPoolState,
  identity: IdentityState,
  roleArn: string,
): IssuedCredentials {
  const { sts } = ctx;
  const guest = identity.logins.size === 0;
  const sessionPolicy = guest ? GUEST_SESSION_POLICY : undefined;
  if (ctx.trustPolicies === "skip") {
    return sts.issueCredentials({
      roleArn,
      sessionName: SESSION_NAME,
      subject: identity.id,
      identityId: identity.id,
      cognitoIdentity: { identityPoolId: pool.IdentityPoolId, amr: amrFor(identity, pool) },
      durationSeconds: CREDENTIALS_SECONDS,
      ...(sessionPolicy !== undefined ? { sessionPolicy } : {}),
    });
  }
  const token = ctx.signer.mint({
    poolId: pool.IdentityPoolId,
    identityId: identity.id,
    amr: amrFor(identity, pool),
    lifetimeSeconds: OPENID_TOKEN_SECONDS,
    nowMs: ctx.now(),
  });
  const assume = () =>
    sts.assumeRoleWithWebIdentity({
      roleArn,
      roleSessionName: SESSION_NAME,
      webIdentityToken: token,
      durationSeconds: CREDENTIALS_SECONDS,
      ...(sessionPolicy !== undefined ? { policy: sessionPolicy } : {}),
    }).credentials;
  try {
    registerJwks(ctx);
    try {
      return assume();
    } catch (error) {
      // STS was reset on its own and forgot our key: register it again, once.
      if (!(error instanceof AwsServiceError) || error.code !== "InvalidIdentityToken") throw error;
      ctx.jwksRegistered = false;
      registerJwks(ctx);
      return assume();
    }
  } catch (error) {
    if (error instanceof AwsServiceError) {
      // What AWS reports when the role does not trust the pool (or cannot be assumed).
      throw new AwsServiceError(
        "InvalidIdentityPoolConfigurationException",
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
        { cause: error },
      );
    }
    throw error;
  }
}

function resolveRoleFor(
  ctx: IdentityPoolContext,
  pool: IdentityPoolState,
  identity: IdentityState,
  logins: RequestLogins,
  customRoleArn: string | undefined,
): string {
  const config = roleConfig(pool);
  const login = logins.userPool[0];
  const authenticated = identity.logins.size > 0 || login !== undefined;
  const resolution = resolveRole({
    config,
    providerKey: login?.roleMappingKey ?? pool.DeveloperProviderName ?? ctx.issuerProvider,
    // A developer-authenticated identity has no claims to map: it gets the default role.
    claims: login ? login.claims : authenticated ? {} : null,
    ...(customRoleArn !== undefined ? { customRoleArn } : {}),
  });
  if (resolution.decision === "deny") {
    throw new AwsServiceError(resolution.error, resolution.message);
  }
  return resolution.roleArn;
}

const getCredentialsForIdentity: Operation = async (ctx, input) => {
  const pool = requirePool(ctx, requireIdentity(ctx, input.IdentityId).poolId);
  usableIdentity(ctx, input.IdentityId);
  const logins = await validateLogins(ctx, pool, input.Logins);
  // Re-read after the await: a concurrent merge may have disabled it meanwhile.
  const identity = usableIdentity(ctx, input.IdentityId);
  if (identity.logins.size === 0 && logins.userPool.length === 0 && !logins.openId) {
    assertGuestsAllowed(pool);
  }
  const customRoleArn = typeof input.CustomRoleArn === "string" ? input.CustomRoleArn : undefined;
  // Check and resolve before linking, so a refused request changes nothing.
  ctx.linker.assertLoginsMatch(identity, logins);
  const roleArn = resolveRoleFor(ctx, pool, identity, logins, customRoleArn);
  const survivor = ctx.linker.identityForLogins(identity, logins);
  const credentials = issueCredentials(ctx, pool, survivor, roleArn);
  return {
    IdentityId: survivor.id,
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken,
      Expiration: Date.parse(credentials.expiration) / 1000,
    },
  };
};

const getOpenIdToken: Operation = async (ctx, input) => {
  const pool = requirePool(ctx, requireIdentity(ctx, input.IdentityId).poolId);
  usableIdentity(ctx, input.IdentityId);
  if (!pool.AllowClassicFlow) {
    throw new AwsServiceError("InvalidParameterException", Messages.CLASSIC_FLOW_DISABLED);
  }
  if (Object.keys(pool.RoleMappings).length > 0) {
    throw new AwsServiceError(
      "InvalidParameterException",
      Messages.CLASSIC_FLOW_WITH_ROLE_MAPPINGS,
    );
  }
  const logins = await validateLogins(ctx, pool, input.Logins);
  const identity = usableIdentity(ctx, input.IdentityId);
  if (identity.logins.size === 0 && logins.userPool.length === 0) assertGuestsAllowed(pool);
  const survivor = ctx.linker.identityForLogins(identity, logins);
  registerJwks(ctx);
  return {
    IdentityId: survivor.id,
    Token: ctx.signer.mint({
      poolId: pool.IdentityPoolId,
      identityId: survivor.id,
      amr: amrFor(survivor, pool),
      lifetimeSeconds: OPENID_TOKEN_SECONDS,
      nowMs: ctx.now(),
    }),
  };
};

export const credentialOperations: Record<string, Operation> = {
  GetCredentialsForIdentity: getCredentialsForIdentity,
  GetOpenIdToken: getOpenIdToken,
};
