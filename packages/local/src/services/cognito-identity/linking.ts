/**
 * Linking and merging, the core of the identity pool's semantics (Amazon Cognito Developer Guide, "Identity pools (federated identities) authentication flow",
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html):
 *
 * - a login linked nowhere is linked to the identity the caller passes (same id, now
 *   authenticated);
 * - a login that already belongs to another identity merges the two: the login's owner survives
 *   as the parent and receives every login, the identity passed in is disabled, and the parent is
 *   returned ("the IdentityId returned may not match the one passed");
 * - one user per public provider; a developer provider may hold several users (after
 *   MergeDeveloperIdentities).
 *
 * Callers validate every login first (async), then call these synchronously, so a refused request
 * changes nothing and no await splits a decision from its journal record.
 */
import { AwsServiceError } from "../../protocol/errors";
import { Messages } from "./errors";
import {
  type IdentityState,
  type IdentityStore,
  type LoginRef,
  providersOf,
} from "./identity-store";
import type { ValidatedLogin } from "./login-tokens";
import type { IdentityPoolState } from "./pools";

/** The logins of one request, validated. */
export interface RequestLogins {
  userPool: ValidatedLogin[];
  /** Claims of a `cognito-identity.amazonaws.com` token (developer-authenticated flow). */
  openId?: Record<string, unknown>;
}

/** MergeDeveloperIdentities: "The number of linked logins is limited to 20." */
const MAX_LINKED_LOGINS = 20;

export function createLinker(store: IdentityStore) {
  const refs = (logins: readonly ValidatedLogin[]): LoginRef[] =>
    logins.map(({ provider, userId }) => ({ provider, userId }));

  /**
   * Links each login to `identity`, or merges `identity` into the identity that already owns the
   * login. Returns the surviving identity. Callers validated every login before.
   */
  function attachLogins(identity: IdentityState, logins: readonly LoginRef[]): IdentityState {
    let current = identity;
    for (const login of logins) {
      const owner = store.ownerOf(current.poolId, {
        provider: login.provider,
        userId: login.userId,
      });
      if (owner === current.id) continue;
      if (owner === undefined) {
        if (otherUserOf(current, login)) {
          throw new AwsServiceError("NotAuthorizedException", Messages.LOGINS_DO_NOT_MATCH);
        }
        store.link(current.id, login);
        continue;
      }
      const parent = store.identities.get(owner)!;
      assertMergeable(parent, current);
      store.merge(parent.id, current.id);
      current = parent;
    }
    return current;
  }

  function assertMergeable(parent: IdentityState, child: IdentityState): void {
    for (const login of child.logins.values()) {
      if (otherUserOf(parent, login)) {
        throw new AwsServiceError(
          "ResourceConflictException",
          `Identities cannot be merged: both have a login from ${login.provider}.`,
        );
      }
    }
    const total = new Set([...parent.logins.keys(), ...child.logins.keys()]).size;
    if (total > MAX_LINKED_LOGINS) {
      throw new AwsServiceError(
        "LimitExceededException",
        `An identity can have at most ${MAX_LINKED_LOGINS} linked logins.`,
      );
    }
  }

  /**
   * True when `identity` already has another user of `login`'s public provider: one login per
   * public provider. A developer provider may hold several users after MergeDeveloperIdentities.
   */
  function otherUserOf(identity: IdentityState, login: LoginRef): boolean {
    if (login.provider === store.pools.get(identity.poolId)?.DeveloperProviderName) return false;
    for (const linked of identity.logins.values()) {
      if (linked.provider === login.provider && linked.userId !== login.userId) return true;
    }
    return false;
  }

  /**
   * The identity a call with Logins acts on, after linking or merging: the common core of
   * GetCredentialsForIdentity, GetOpenIdToken and UnlinkIdentity's checks.
   */
  function identityForLogins(identity: IdentityState, logins: RequestLogins): IdentityState {
    assertLoginsMatch(identity, logins);
    if (logins.userPool.length === 0) return identity;
    return attachLogins(identity, refs(logins.userPool));
  }

  /**
   * The `Logins don't match` cases, checked before anything is linked or merged.
   *
   * "If you have an authenticated identity, you must pass at least one valid token for a login
   * already associated with that identity" (developer guide, "Identity pools authentication
   * flow", GetOpenIdToken; GetCredentialsForIdentity is "functionally equivalent to calling
   * GetOpenIdToken followed by AssumeRoleWithWebIdentity"). So the identity id of an
   * authenticated identity is not enough, and neither is someone else's login: a login new to
   * the pool would be linked to the victim's identity, a login of another identity would merge
   * the victim's into it. Only once the caller has proved one of the identity's own logins may
   * further logins link or merge. AWS's message names "this identity or identity pool"; we read
   * the documented rule strictly and accept a login new to the pool only for a guest identity.
   */
  function assertLoginsMatch(identity: IdentityState, logins: RequestLogins): void {
    const mismatch = () =>
      new AwsServiceError("NotAuthorizedException", Messages.LOGINS_DO_NOT_MATCH);
    if (logins.openId !== undefined && logins.openId.sub !== identity.id) throw mismatch();
    if (identity.logins.size > 0 && logins.openId === undefined) {
      const proven = logins.userPool.some(
        (login) =>
          store.ownerOf(identity.poolId, { provider: login.provider, userId: login.userId }) ===
          identity.id,
      );
      if (!proven) throw mismatch();
    }
    for (const login of logins.userPool) {
      const owner = store.ownerOf(identity.poolId, {
        provider: login.provider,
        userId: login.userId,
      });
      if (owner === undefined && otherUserOf(identity, login)) throw mismatch();
    }
  }

  return { attachLogins, assertMergeable, assertLoginsMatch, identityForLogins, refs };
}

/** `amr` of the pool's OpenID token for an identity. */
export function amrFor(identity: IdentityState, pool: IdentityPoolState): string[] {
  if (identity.logins.size === 0) return ["unauthenticated"];
  const amr = ["authenticated", ...providersOf(identity)];
  for (const { provider, userId } of identity.logins.values()) {
    amr.push(
      provider === pool.DeveloperProviderName
        ? `${provider}:${pool.IdentityPoolId}:${userId}`
        : `${provider}:CognitoSignIn:${userId}`,
    );
  }
  return amr;
}
