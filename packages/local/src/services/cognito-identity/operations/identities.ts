/**
 * Identities: GetId (a guest, or the identity the logins are linked to), DescribeIdentity,
 * ListIdentities, UnlinkIdentity.
 */
import { AwsServiceError } from "../../../protocol/errors";
import {
  type IdentityPoolContext,
  type Operation,
  requireIdentity,
  requirePool,
  usableIdentity,
} from "../context";
import { Messages } from "../errors";
import { type IdentityState, providersOf } from "../identity-store";
import { decodeToken, encodeToken } from "../next-token";
import { configuredProviderFor } from "../provider-names";
import { assertGuestsAllowed, validateLogins } from "../request-logins";

function identityDescription(identity: IdentityState): Record<string, unknown> {
  return {
    IdentityId: identity.id,
    Logins: providersOf(identity),
    CreationDate: identity.created / 1000,
    LastModifiedDate: identity.lastModified / 1000,
  };
}

const getId: Operation = async (ctx, input) => {
  const { store } = ctx;
  const pool = requirePool(ctx, input.IdentityPoolId);
  const logins = await validateLogins(ctx, pool, input.Logins);
  if (logins.openId !== undefined) {
    return { IdentityId: usableIdentity(ctx, logins.openId.sub).id };
  }
  if (logins.userPool.length === 0) {
    assertGuestsAllowed(pool);
    return { IdentityId: store.createIdentity(pool.IdentityPoolId).id };
  }
  const owner = logins.userPool
    .map((l) => store.ownerOf(pool.IdentityPoolId, { provider: l.provider, userId: l.userId }))
    .find((id) => id !== undefined);
  const identity = owner ? store.identities.get(owner)! : store.createIdentity(pool.IdentityPoolId);
  return { IdentityId: ctx.linker.attachLogins(identity, ctx.linker.refs(logins.userPool)).id };
};

function listIdentities(ctx: IdentityPoolContext, input: Record<string, unknown>) {
  const pool = requirePool(ctx, input.IdentityPoolId);
  const max = Number(input.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 60) {
    throw new AwsServiceError("InvalidParameterException", "MaxResults must be between 1 and 60");
  }
  const all = [...ctx.store.identities.values()].filter(
    (i) => i.poolId === pool.IdentityPoolId && !(input.HideDisabled === true && i.disabled),
  );
  const start = decodeToken(input.NextToken);
  const page = all.slice(start, start + max);
  return {
    IdentityPoolId: pool.IdentityPoolId,
    Identities: page.map(identityDescription),
    ...(start + max < all.length ? { NextToken: encodeToken(start + max) } : {}),
  };
}

const unlinkIdentity: Operation = async (ctx, input) => {
  const { store } = ctx;
  const pool = requirePool(ctx, requireIdentity(ctx, input.IdentityId).poolId);
  usableIdentity(ctx, input.IdentityId);
  const logins = await validateLogins(ctx, pool, input.Logins);
  const identity = usableIdentity(ctx, input.IdentityId);
  const proven =
    logins.userPool.length > 0 &&
    logins.userPool.every(
      (l) =>
        store.ownerOf(pool.IdentityPoolId, { provider: l.provider, userId: l.userId }) ===
        identity.id,
    );
  if (!proven) {
    throw new AwsServiceError("NotAuthorizedException", Messages.LOGINS_DO_NOT_MATCH);
  }
  const names = Array.isArray(input.LoginsToRemove) ? input.LoginsToRemove : [];
  const known = [
    ...pool.CognitoIdentityProviders.map((p) => p.ProviderName),
    ...(pool.DeveloperProviderName ? [pool.DeveloperProviderName] : []),
  ];
  for (const name of names) {
    const provider =
      typeof name === "string" ? (configuredProviderFor(name, known) ?? name) : undefined;
    if (provider !== undefined && providersOf(identity).includes(provider)) {
      store.unlinkProvider(identity.id, provider);
    }
  }
  // "Removing the last linked login will make this identity inaccessible."
  if (identity.logins.size === 0) {
    store.disable(identity.id);
  }
  return {};
};

export const identityOperations: Record<string, Operation> = {
  GetId: getId,
  DescribeIdentity: (ctx, input) => identityDescription(requireIdentity(ctx, input.IdentityId)),
  ListIdentities: listIdentities,
  UnlinkIdentity: unlinkIdentity,
};
