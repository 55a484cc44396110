/**
 * Developer-authenticated identities: GetOpenIdTokenForDeveloperIdentity (a backend, with its
 * developer provider name, gets a token for one of its users) and MergeDeveloperIdentities.
 */
import { AwsServiceError } from "../../../protocol/errors";
import { type Operation, registerJwks, requirePool, usableIdentity } from "../context";
import { Messages } from "../errors";
import type { IdentityState } from "../identity-store";
import { amrFor } from "../linking";
import { validateLogins } from "../request-logins";

/** GetOpenIdTokenForDeveloperIdentity: default 15 minutes, at most 24 hours. */
const DEVELOPER_TOKEN_DEFAULT_SECONDS = 900;
const DEVELOPER_TOKEN_MAX_SECONDS = 86_400;

const getOpenIdTokenForDeveloperIdentity: Operation = async (ctx, input) => {
  const { store } = ctx;
  const pool = requirePool(ctx, input.IdentityPoolId);
  const developer = pool.DeveloperProviderName;
  const all = (input.Logins ?? {}) as Record<string, unknown>;
  const userIdentifier = developer !== undefined ? all[developer] : undefined;
  if (developer === undefined || typeof userIdentifier !== "string" || userIdentifier === "") {
    throw new AwsServiceError(
      "InvalidParameterException",
      "Logins must contain the identity pool's developer provider name.",
    );
  }
  const duration =
    input.TokenDuration === undefined
      ? DEVELOPER_TOKEN_DEFAULT_SECONDS
      : Number(input.TokenDuration);
  if (!Number.isInteger(duration) || duration < 1 || duration > DEVELOPER_TOKEN_MAX_SECONDS) {
    throw new AwsServiceError(
      "InvalidParameterException",
      `TokenDuration must be between 1 and ${DEVELOPER_TOKEN_MAX_SECONDS} seconds.`,
    );
  }
  const { [developer]: _developer, ...publicLogins } = all;
  const logins = await validateLogins(ctx, pool, publicLogins);
  const owner = store.ownerOf(pool.IdentityPoolId, {
    provider: developer,
    userId: userIdentifier,
  });
  let identity: IdentityState;
  if (typeof input.IdentityId === "string") {
    identity = usableIdentity(ctx, input.IdentityId);
    if (identity.poolId !== pool.IdentityPoolId) {
      throw new AwsServiceError(
        "ResourceNotFoundException",
        Messages.identityNotFound(identity.id),
      );
    }
    if (owner !== undefined && owner !== identity.id) {
      throw new AwsServiceError(
        "DeveloperUserAlreadyRegisteredException",
        Messages.DEVELOPER_USER_TAKEN,
      );
    }
  } else {
    identity = owner ? usableIdentity(ctx, owner) : store.createIdentity(pool.IdentityPoolId);
  }
  const survivor = ctx.linker.attachLogins(identity, [
    { provider: developer, userId: userIdentifier },
    ...ctx.linker.refs(logins.userPool),
  ]);
  const extra: Record<string, unknown> = {};
  if (input.PrincipalTags && typeof input.PrincipalTags === "object") {
    extra["https://aws.amazon.com/tags"] = {
      principal_tags: Object.fromEntries(
        Object.entries(input.PrincipalTags as Record<string, string>).map(([k, v]) => [k, [v]]),
      ),
    };
  }
  registerJwks(ctx);
  return {
    IdentityId: survivor.id,
    Token: ctx.signer.mint({
      poolId: pool.IdentityPoolId,
      identityId: survivor.id,
      amr: amrFor(survivor, pool),
      lifetimeSeconds: duration,
      nowMs: ctx.now(),
      extra,
    }),
  };
};

const mergeDeveloperIdentities: Operation = (ctx, input) => {
  const { store } = ctx;
  const pool = requirePool(ctx, input.IdentityPoolId);
  if (input.DeveloperProviderName !== pool.DeveloperProviderName) {
    throw new AwsServiceError(
      "InvalidParameterException",
      "DeveloperProviderName does not match the identity pool's developer provider.",
    );
  }
  const developer = pool.DeveloperProviderName!;
  const find = (userId: unknown) => {
    const id =
      typeof userId === "string"
        ? store.ownerOf(pool.IdentityPoolId, { provider: developer, userId: userId })
        : undefined;
    if (id === undefined) {
      throw new AwsServiceError(
        "ResourceNotFoundException",
        `Developer user '${String(userId)}' not found.`,
      );
    }
    return store.identities.get(id)!;
  };
  const source = find(input.SourceUserIdentifier);
  const destination = find(input.DestinationUserIdentifier);
  if (source.id !== destination.id) {
    ctx.linker.assertMergeable(destination, source);
    store.merge(destination.id, source.id);
  }
  return { IdentityId: destination.id };
};

export const developerIdentityOperations: Record<string, Operation> = {
  GetOpenIdTokenForDeveloperIdentity: getOpenIdTokenForDeveloperIdentity,
  MergeDeveloperIdentities: mergeDeveloperIdentities,
};
