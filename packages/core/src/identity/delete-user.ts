import { UserNotFoundError } from "../errors";
import { type DeletionActor, eventId } from "../events/catalogue";
import { buildUserDeleted, type IdentityEvent, USER_DELETED } from "../events/identity-events";
import { deliverPending, type ItemKey, type OutboxStore } from "../events/outbox";
import type { EventPublisher } from "../events/publisher";
import { canonicalizeEmail } from "../sign-up/email";
import { releaseUserIdentities } from "./attach";
import type { IotAttachmentDeps } from "./iot";
import type { IdentityGraph, ProfileReader, UserAccounts, UserDeletionStore } from "./ports";

export interface DeleteUserDeps extends IotAttachmentDeps {
  graph: IdentityGraph;
  profiles: ProfileReader;
  deletions: UserDeletionStore;
  accounts: UserAccounts;
  /** Where `user.deleted` goes once stored on the deletion record (the relay retries the rest). */
  publisher: EventPublisher;
  outbox: OutboxStore;
  iotPolicyName: string;
  /** Tenant of the event when the user never got a profile. */
  defaultTenant: string;
  source: string;
  now: () => Date;
}

interface DeleteUserResult {
  sub: string;
  /** `deleted`: this call finished it; `already-deleted`: an earlier call had. */
  outcome: "deleted" | "already-deleted";
  /** Identities whose IoT policies were detached (by this call). */
  released: Array<{ identityId: string; policies: string[] }>;
  /** Id of `boardingpass.user.deleted.v1`, and whether it is published (else the relay will). */
  event: { id: string; published: boolean };
}

/**
 * Deletes a user (`DELETE /identity/me`, `DELETE /admin/users/{sub}`; ADR 0007). Cognito has no
 * deletion trigger, so the backend owns deletion, in an order where every step is idempotent and
 * a failure at any point leaves a state the next call completes:
 *
 * 1. the deletion record (`DELETION#<sub>` / `DELETION`, step `started`, with the tenant the event
 *    needs once the profile is gone); nothing personal in it;
 * 2. every identity of the user is marked and its IoT policies detached, and its data items
 *    erased, **before** the Cognito user goes: a failure here leaves a live user to retry with,
 *    never a deleted user with attached policies;
 * 3. the email-uniqueness claims are released (the current address's, then every claim the user
 *    still owns, by the claims' owner index), then the Cognito user is deleted (`AdminDeleteUser`;
 *    an absent user is success);
 * 4. the profile and the user's other items are erased (an identity linked meanwhile is released
 *    by a second pass; after this a new link finds no profile and is refused);
 * 5. the record moves to `done` with `boardingpass.user.deleted.v1` in its outbox (one write), and
 *    the event is published inline, else by the relay.
 *
 * A call after step 5 answers `already-deleted` (and republishes the event if it is still pending).
 */
export async function deleteUser(
  input: { sub: string; actor?: DeletionActor },
  deps: DeleteUserDeps,
): Promise<DeleteUserResult> {
  const { sub } = input;
  const existing = await deps.deletions.get(sub);
  if (existing?.step === "done") {
    const id = eventId(USER_DELETED, sub);
    const published = await redeliver(sub, id, deps);
    return { sub, outcome: "already-deleted", released: [], event: { id, published } };
  }

  const [profile, account] = await Promise.all([
    deps.profiles.get(sub),
    deps.accounts.findBySub(sub),
  ]);
  if (existing === null && profile === null && account === null) {
    throw new UserNotFoundError(`No user ${sub}`);
  }
  const deletion =
    existing ??
    (await deps.deletions.start({
      sub,
      tenant: profile?.tenant ?? deps.defaultTenant,
      now: deps.now(),
    }));

  const { released } = await releaseUserIdentities(sub, deps);
  for (const identity of released) {
    await deps.deletions.eraseIdentityData(identity.identityId, deps.now());
  }

  if (account !== null) {
    if (account.email !== undefined) {
      const canonical = safeCanonical(account.email);
      if (canonical !== undefined) {
        await deps.deletions.releaseEmailClaim(canonical, account.username);
      }
    }
    await deps.deletions.releaseEmailClaimsOwnedBy(account.username);
    await deps.accounts.delete(account.username);
  } else {
    // The Cognito user is gone (deleted elsewhere, or by an earlier attempt): in this pool a
    // native user's username is its sub, so its claims are still found by owner.
    await deps.deletions.releaseEmailClaimsOwnedBy(sub);
  }
  await deps.deletions.eraseUserItems(sub);
  // An identity linked while the steps above ran (its profile was still there) is released too;
  // from here on a new link finds no profile and is refused.
  const late = await releaseUserIdentities(sub, deps);
  for (const identity of late.released) {
    if (!released.some((known) => known.identityId === identity.identityId)) {
      await deps.deletions.eraseIdentityData(identity.identityId, deps.now());
      released.push(identity);
    }
  }

  const now = deps.now();
  const event = buildUserDeleted({
    sub,
    tenant: deletion.tenant,
    ...(input.actor !== undefined ? { actor: input.actor } : {}),
    time: now,
    source: deps.source,
  });
  const { finished, key } = await deps.deletions.finish({ sub, event, now });
  const published = await redeliver(sub, event.id, deps, finished ? { key, event } : undefined);
  return {
    sub,
    outcome: finished ? "deleted" : "already-deleted",
    released,
    event: { id: event.id, published },
  };
}

/** Publishes the record's pending event, if it still has one; true when nothing is left pending. */
async function redeliver(
  sub: string,
  eventId: string,
  deps: DeleteUserDeps,
  known?: { key: ItemKey; event: IdentityEvent },
): Promise<boolean> {
  const pending = known ?? (await deps.deletions.pendingEvent(sub));
  if (pending === null || pending.event.id !== eventId) return true;
  const { delivered } = await deliverPending([pending], {
    publisher: deps.publisher,
    store: deps.outbox,
  });
  return delivered.includes(eventId);
}

/** The claim key of the address; an address that does not canonicalize never had a claim. */
function safeCanonical(email: string): string | undefined {
  try {
    return canonicalizeEmail(email).canonical;
  } catch {
    return undefined;
  }
}
