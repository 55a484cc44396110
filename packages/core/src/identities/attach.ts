import { authenticatedCaller, type CallerIdentity } from "./caller";
import { IdentityMergedError, ProfileNotReadyError } from "./errors";
import { buildIdentityLinked } from "./events";
import { ensureIotPolicy, type IotAttachmentDeps, removeIotPolicy } from "./iot";
import { USER_POOL_PROVIDER_NAME } from "./link";
import type { IdentityGraph, ProfileReader } from "./ports";

export interface EnsureIotDeps extends IotAttachmentDeps {
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
 * signed-in caller is required. Idempotent.
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
  let newlyLinked = false;
  if (existing?.userSub !== caller.userSub) {
    const profile = await deps.profiles.get(caller.userSub);
    if (profile === null) throw new ProfileNotReadyError("The user's profile does not exist yet");
    const now = deps.now();
    const recorded = await deps.graph.recordAuthenticated({
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
    });
    newlyLinked = recorded.linked;
  }
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
