import { IdentityMergedError, ProfileNotReadyError, UserDeletedError } from "../errors";
import { buildIdentityLinked, USER_POOL_PROVIDER_NAME } from "../events/identity-events";
import { type AuthenticatedCaller, authenticatedCaller, type CallerIdentity } from "./caller";
import { ensureIotPolicy, type IotAttachmentDeps, removeIotPolicy } from "./iot";
import type { IdentityRecord } from "./model";
import type { IdentityGraph, ProfileReader, UserDeletionStore } from "./ports";

export interface RecordCallerDeps {
  graph: Pick<IdentityGraph, "recordAuthenticated" | "markUserDeleted">;
  profiles: ProfileReader;
  deletions: Pick<UserDeletionStore, "get" | "eraseIdentityData">;
  source: string;
  now: () => Date;
}

/**
 * Records the user on a signed-in caller's identity the first time a route sees the pair in
 * API Gateway's request context, so the user index (gsi1) lists every identity that holds anything
 * of the user's before it holds it. No AWS API lists a user's identities ("DescribeIdentity" and
 * "ListIdentities" name providers, never users), so this index is what the deletion walks
 * (ADR 0007), and a user recorded on an identity is what makes it no guest (ADR 0006).
 *
 * Cheap when already known (`record` is read by the route anyway): no write. The first time, one
 * conditional write sets the user with `identity.linked` in the item's outbox (once per identity:
 * later calls, `/identity/link` included, find it recorded and emit nothing new). Then the user's
 * deletion record is read: an identity first seen after (or while) its user was deleted is marked
 * and its data erased on the spot (410). Recording first, reading the deletion second: a deletion
 * that starts after the read finds the identity in the index.
 */
export async function recordSignedInCaller(
  caller: AuthenticatedCaller,
  record: IdentityRecord | null,
  deps: RecordCallerDeps,
): Promise<{ linked: boolean }> {
  if (record?.userDeletedAt !== undefined) {
    throw new UserDeletedError(`The user of identity ${caller.identityId} was deleted`);
  }
  if (record?.userSub === caller.userSub) return { linked: false };
  const now = deps.now();
  const profile = await deps.profiles.get(caller.userSub);
  let linked = false;
  if (profile !== null) {
    ({ linked } = await deps.graph.recordAuthenticated({
      identityId: caller.identityId,
      userSub: caller.userSub,
      logins: caller.logins,
      event: buildIdentityLinked({
        sub: caller.userSub,
        tenant: profile.tenant,
        identityId: caller.identityId,
        providerName: USER_POOL_PROVIDER_NAME,
        time: now,
        source: deps.source,
      }),
      now,
    }));
  }
  if ((await deps.deletions.get(caller.userSub)) !== null) {
    await deps.graph.markUserDeleted(caller.identityId, caller.userSub, now);
    await deps.deletions.eraseIdentityData(caller.identityId, now);
    throw new UserDeletedError(`The user of identity ${caller.identityId} was deleted`);
  }
  if (profile === null) {
    throw new ProfileNotReadyError("The user's profile does not exist yet; retry shortly");
  }
  return { linked };
}

export interface EnsureIotDeps extends IotAttachmentDeps, RecordCallerDeps {
  graph: IdentityGraph;
  profiles: ProfileReader;
  identityPoolId: string;
  iotPolicyName: string;
  source: string;
  now: () => Date;
}

/**
 * `POST /identity/iot`: after sign-in, make sure the caller's identity id holds our IoT policy,
 * and keep the graph current (identity → user, with `identity.linked` in the item's outbox the
 * first time; the relay publishes it). Guests get IoT only from the unauthenticated role, so a
 * signed-in caller is required. Idempotent. A deleted user's identity gets nothing (410).
 */
export async function ensureCallerIot(
  input: { caller: CallerIdentity },
  deps: EnsureIotDeps,
): Promise<{ identityId: string; policyName: string; newlyLinked: boolean }> {
  const caller = authenticatedCaller(input.caller, deps.identityPoolId);
  const existing = await deps.graph.get(caller.identityId);
  if (existing?.mergedInto !== undefined) {
    throw new IdentityMergedError(caller.identityId, existing.mergedInto);
  }
  const { linked: newlyLinked } = await recordSignedInCaller(caller, existing, deps);
  await ensureIotPolicy(caller.identityId, deps.iotPolicyName, deps);
  return { identityId: caller.identityId, policyName: deps.iotPolicyName, newlyLinked };
}

/** `GET /admin/users/{sub}`: the user's profile and identity links (gsi1). */
export async function describeUser(
  sub: string,
  deps: { graph: IdentityGraph; profiles: ProfileReader },
) {
  const [profile, identities] = await Promise.all([
    deps.profiles.get(sub),
    deps.graph.identitiesOfUser(sub),
  ]);
  return { profile, identities };
}

/**
 * On user deletion: for every identity of the user (gsi1), mark it first (`userDeletedAt`: no
 * policy can be recorded on it any more, so a concurrent `POST /identity/iot` takes its own
 * attachment back), then detach our IoT policies (the recorded ones and `iotPolicyName`), so a
 * deleted user's devices lose IoT access even while their credentials last. Idempotent; called by
 * `deleteUser` before the Cognito user is deleted.
 */
export async function releaseUserIdentities(
  sub: string,
  deps: IotAttachmentDeps & { graph: IdentityGraph; iotPolicyName?: string; now?: () => Date },
): Promise<{ released: Array<{ identityId: string; policies: string[] }> }> {
  const released: Array<{ identityId: string; policies: string[] }> = [];
  for (const identity of await deps.graph.identitiesOfUser(sub)) {
    // gsi1 is eventually consistent: the (strongly read) record decides.
    if (identity.userSub !== sub) continue;
    await deps.graph.markUserDeleted(identity.identityId, sub, deps.now?.() ?? new Date());
    const current = await deps.graph.get(identity.identityId);
    if (current?.userSub !== sub) continue;
    const policies = current.iotPolicies;
    const toDetach = new Set(policies);
    if (deps.iotPolicyName !== undefined) toDetach.add(deps.iotPolicyName);
    for (const policy of toDetach) await removeIotPolicy(identity.identityId, policy, deps);
    released.push({ identityId: identity.identityId, policies });
  }
  return { released };
}
