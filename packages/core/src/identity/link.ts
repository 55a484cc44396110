import {
  GuestAlreadyMergedError,
  IdentityMergedError,
  NotAGuestError,
  ProfileNotReadyError,
  UserDeletedError,
} from "../errors";
import {
  buildIdentityLinked,
  buildIdentityMerged,
  type IdentityEvent,
  identityLinkedEventId,
  identityMergedEventId,
  USER_POOL_PROVIDER_NAME,
} from "../events/identity-events";
import { deliverPending, type ItemKey, type OutboxStore } from "../events/outbox";
import type { EventPublisher } from "../events/publisher";
import { recordSignedInCaller } from "./attach";
import { authenticatedCaller, type CallerIdentity } from "./caller";
import { foldDocuments, overflowName } from "./data";
import { verifyGuestProof } from "./guest-proof";
import { assertStillAGuest } from "./guest-status";
import { ensureIotPolicy, type IotAttachmentDeps, removeIotPolicy } from "./iot";
import { KNOWN_DATA_NAMES, type MergeState, type MergeStep, nextStep } from "./model";
import type {
  IdentityDataStore,
  IdentityGraph,
  IdentityPoolDirectory,
  OpenIdTokenVerifier,
  ProfileReader,
  UserDeletionStore,
} from "./ports";

/**
 * Link and merge (ADR 0006). Cognito links a login to the guest identity the app passes (same id,
 * now authenticated) or merges that guest into the identity already holding the login (another
 * id), and tells only the client. The client then calls us with its new credentials and a proof
 * that it held the guest; this makes everything keyed by the guest follow.
 */

export interface LinkDeps extends IotAttachmentDeps {
  graph: IdentityGraph;
  data: IdentityDataStore;
  /** Where the merge's events go once stored on their records (the relay retries the rest). */
  publisher: EventPublisher;
  outbox: OutboxStore;
  profiles: ProfileReader;
  verifier: OpenIdTokenVerifier;
  /** The identity pool's view of the guest: a merge takes only identities without logins. */
  identityPool: IdentityPoolDirectory;
  /** Deletion records: nothing is linked or merged into a deleted user's identity. */
  deletions: Pick<UserDeletionStore, "get" | "eraseIdentityData">;
  identityPoolId: string;
  iotPolicyName: string;
  /** CloudEvents `source`, from `eventSource(stage, "link-identity")`. */
  source: string;
  now: () => Date;
}

interface LinkInput {
  caller: CallerIdentity;
  guestProof: string;
  /** Optional: the guest the client believes it was; must match the proof's `sub`. */
  guestIdentityId?: string;
}

interface LinkResult {
  outcome: "linked" | "merged";
  identityId: string;
  guestIdentityId: string;
  /** True when this call found the work already done (a retry or a replayed proof). */
  alreadyDone: boolean;
  /** Events of this link or merge, with whether they are published yet (else the outbox has them). */
  events: Array<{ id: string; type: string; published: boolean }>;
}

export async function linkIdentity(input: LinkInput, deps: LinkDeps): Promise<LinkResult> {
  const caller = authenticatedCaller(input.caller, deps.identityPoolId);
  const { guestIdentityId } = await verifyGuestProof(input.guestProof, deps, input.guestIdentityId);
  const profile = await deps.profiles.get(caller.userSub);
  if (profile === null) {
    if ((await deps.deletions.get(caller.userSub)) !== null) {
      throw new UserDeletedError("The caller's user was deleted");
    }
    throw new ProfileNotReadyError("The user's profile does not exist yet; retry shortly");
  }
  const context = { ...caller, tenant: profile.tenant };
  if (guestIdentityId === caller.identityId) return linkInPlace(context, deps);
  return merge({ ...context, guestId: guestIdentityId }, deps);
}

interface Context {
  identityId: string;
  userSub: string;
  logins: string[];
  tenant: string;
}

async function linkInPlace(context: Context, deps: LinkDeps): Promise<LinkResult> {
  const now = deps.now();
  const event = buildIdentityLinked({
    sub: context.userSub,
    tenant: context.tenant,
    identityId: context.identityId,
    providerName: USER_POOL_PROVIDER_NAME,
    time: now,
    source: deps.source,
  });
  const recorded = await deps.graph.recordAuthenticated({
    identityId: context.identityId,
    userSub: context.userSub,
    logins: context.logins,
    wasGuest: true,
    event,
    now,
  });
  await ensureIotPolicy(context.identityId, deps.iotPolicyName, deps);
  const pending = recorded.linked ? event : recorded.pendingEvent;
  const events = await deliver(
    pending ? [{ key: recorded.key, event: pending }] : [],
    [{ id: event.id, type: event.type }],
    deps,
  );
  return {
    outcome: "linked",
    identityId: context.identityId,
    guestIdentityId: context.identityId,
    alreadyDone: !recorded.linked,
    events,
  };
}

async function merge(context: Context & { guestId: string }, deps: LinkDeps): Promise<LinkResult> {
  const { guestId, identityId: survivorId } = context;
  // The survivor is recorded as the user's before anything moves into it, so the user's deletion
  // finds it (ADR 0007); a survivor whose user was deleted is refused here (410).
  const survivor = await deps.graph.get(survivorId);
  if (survivor?.mergedInto !== undefined) {
    throw new IdentityMergedError(survivorId, survivor.mergedInto);
  }
  await recordSignedInCaller(context, survivor, deps);
  let state = await deps.graph.getMerge(guestId);
  if (state === null) {
    const guest = await deps.graph.get(guestId);
    if (guest?.mergedInto !== undefined && guest.mergedInto !== survivorId) {
      throw new GuestAlreadyMergedError("This guest identity was merged into another identity");
    }
    // A proof minted while the identity was a guest stays valid for ten minutes after someone
    // signed in on it (Cognito links the login in place): an identity with a user recorded here or
    // a login in the identity pool is no guest, and its data stays with its user (ADR 0006).
    await assertStillAGuest(guestId, guest, deps);
    const now = deps.now().toISOString();
    state = await deps.graph.startMerge({
      guestId,
      survivorId,
      userSub: context.userSub,
      step: "started",
      startedAt: now,
      updatedAt: now,
      guestIotPolicies: guest?.iotPolicies ?? [],
      eventIds: {
        merged: identityMergedEventId(survivorId, guestId),
        linked: identityLinkedEventId(context.userSub, survivorId),
      },
    });
  }
  // Whoever created the state record first decided the survivor: one consistent result.
  if (state.survivorId !== survivorId || state.userSub !== context.userSub) {
    throw new GuestAlreadyMergedError("This guest identity was merged into another identity");
  }
  const alreadyDone = state.step === "done";
  let finishedHere = false;
  // Bounded: at most one pass per step, plus re-reads after losing a race.
  for (let round = 0; round < 20 && state.step !== "done"; round++) {
    await runStep(state, context, deps);
    const from: MergeStep = state.step;
    const to = nextStep(from);
    const pendingEvent =
      to === "done"
        ? buildIdentityMerged({
            sub: context.userSub,
            tenant: context.tenant,
            survivorId,
            guestId,
            time: deps.now(),
            source: deps.source,
          })
        : undefined;
    const moved = await deps.graph.advanceMerge(guestId, from, to, {
      now: deps.now(),
      ...(pendingEvent ? { pendingEvent } : {}),
    });
    if (moved && to === "done") finishedHere = true;
    const current: MergeState | null = moved
      ? { ...state, step: to }
      : await deps.graph.getMerge(guestId);
    if (current === null) throw new Error("merge state vanished");
    state = current;
  }
  if (state.step !== "done") throw new Error("merge did not converge");

  // Publish what is still pending: the call that finished the merge, or a later call (a replay
  // re-sends what a crash left behind, under the same ids). A concurrent call that lost the final
  // transition leaves it to the winner, which keeps duplicates (same id, deduped) rare.
  const entries: Array<{ key: ItemKey; event: IdentityEvent }> = [];
  const publishes = finishedHere || alreadyDone;
  for (const entry of await deps.graph.pendingMergeEvents(guestId, survivorId)) {
    if (entry.event.id === state.eventIds.merged || entry.event.id === state.eventIds.linked) {
      entries.push(entry);
    }
  }
  const expected = [
    { id: state.eventIds.merged, type: "boardingpass.identity.merged.v2" },
    { id: state.eventIds.linked, type: "boardingpass.identity.linked.v1" },
  ];
  const events = publishes
    ? await deliver(entries, expected, deps)
    : expected.map(({ id, type }) => ({
        id,
        type,
        published: !entries.some((entry) => entry.event.id === id),
      }));
  return {
    outcome: "merged",
    identityId: survivorId,
    guestIdentityId: guestId,
    alreadyDone,
    events,
  };
}

/** One step's work; every step is idempotent, so a resumed or concurrent run may repeat it. */
async function runStep(
  state: MergeState,
  context: Context & { guestId: string },
  deps: LinkDeps,
): Promise<void> {
  const { guestId, survivorId } = state;
  switch (state.step) {
    case "started": {
      // Asked again right before the fence: a merge resumed later, or one that raced a sign-in
      // on the guest's device. The fence itself refuses an identity with a user recorded, in the
      // same write, so a link recorded after this question still stops it.
      await assertStillAGuest(guestId, null, deps);
      await assertSurvivorLive(state, deps);
      const fenced = await deps.graph.fence(guestId, survivorId, deps.now());
      if (!fenced.fenced && fenced.reason === "has-user") {
        throw new NotAGuestError(
          "This identity belongs to a signed-in user; it is no guest any more",
        );
      }
      if (!fenced.fenced) {
        throw new GuestAlreadyMergedError("This guest identity was merged into another identity");
      }
      return;
    }
    case "fenced": {
      await assertSurvivorLive(state, deps);
      await moveData(guestId, survivorId, deps);
      // A deletion that marked the survivor while the data moved erased what it found; what this
      // merge wrote after that is erased here (the deletion marks before it erases, so one of the
      // two sees the other), and the merge stops.
      try {
        await assertSurvivorLive(state, deps);
      } catch (error) {
        if (error instanceof UserDeletedError) {
          await deps.deletions.eraseIdentityData(survivorId, deps.now());
        }
        throw error;
      }
      return;
    }
    case "data-moved": {
      const policies = new Set([...state.guestIotPolicies, deps.iotPolicyName]);
      for (const policy of policies) {
        await ensureIotPolicy(survivorId, policy, deps);
        await removeIotPolicy(guestId, policy, deps);
      }
      return;
    }
    case "iot-moved": {
      const now = deps.now();
      await deps.graph.recordAuthenticated({
        identityId: survivorId,
        userSub: context.userSub,
        logins: context.logins,
        mergedFrom: guestId,
        event: buildIdentityLinked({
          sub: context.userSub,
          tenant: context.tenant,
          identityId: survivorId,
          providerName: USER_POOL_PROVIDER_NAME,
          time: now,
          source: deps.source,
        }),
        now,
      });
      return;
    }
    case "linked":
    case "done":
      return;
  }
}

/**
 * The survivor must be live: its user not deleted (no deletion record, no mark on its identity).
 * Checked before the fence and around the data move; the survivor's data writes are conditional
 * on no erasure tombstone besides.
 */
async function assertSurvivorLive(state: MergeState, deps: LinkDeps): Promise<void> {
  const [survivor, deletion] = await Promise.all([
    deps.graph.get(state.survivorId),
    deps.deletions.get(state.userSub),
  ]);
  if (survivor?.userDeletedAt !== undefined || deletion !== null) {
    throw new UserDeletedError(
      "The identity this guest would merge into belongs to a deleted user",
    );
  }
}

/**
 * Folds every live guest data item into the survivor, then tombstones it; also tombstones the
 * known names the guest never wrote, so a late writer cannot create them behind the merge.
 * Each tombstone is conditional on the version that was folded: a write that slipped in between
 * makes the loop fold again.
 */
async function moveData(guestId: string, survivorId: string, deps: LinkDeps): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const items = await deps.data.list(guestId);
    const seen = new Set(items.map((item) => item.name));
    let settled = true;
    for (const item of items) {
      if (item.mergedInto !== undefined || item.userDeletedAt !== undefined) continue;
      await foldInto(survivorId, guestId, item.name, item.document, deps);
      const tombstoned = await deps.data.tombstone({
        identityId: guestId,
        name: item.name,
        survivorId,
        expectedVersion: item.version,
        now: deps.now(),
      });
      if (!tombstoned) settled = false;
    }
    for (const name of KNOWN_DATA_NAMES) {
      if (seen.has(name)) continue;
      const tombstoned = await deps.data.tombstone({
        identityId: guestId,
        name,
        survivorId,
        expectedVersion: 0,
        now: deps.now(),
      });
      if (!tombstoned) settled = false;
    }
    if (settled) return;
  }
  throw new Error("guest data kept changing during the merge");
}

async function foldInto(
  survivorId: string,
  guestId: string,
  name: string,
  guestDocument: Record<string, unknown>,
  deps: LinkDeps,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await deps.data.get(survivorId, name);
    if (current?.mergedFrom.includes(guestId)) return; // folded by an earlier or concurrent run
    const folded = foldDocuments(current?.document, guestDocument);
    const mergedFrom = [...(current?.mergedFrom ?? []), guestId];
    if (folded.overflow) {
      // Keep the guest's document whole beside the survivor's, then mark the survivor's item.
      await deps.data.write({
        identityId: survivorId,
        name: overflowName(name, guestId),
        document: guestDocument,
        expectedVersion: "any",
        now: deps.now(),
      });
    }
    const result = await deps.data.write({
      identityId: survivorId,
      name,
      document: folded.document,
      mergedFrom,
      expectedVersion: current?.version ?? 0,
      now: deps.now(),
    });
    if (result === "written") return;
  }
  throw new Error(`could not fold ${name}: the survivor's item kept changing`);
}

async function deliver(
  entries: ReadonlyArray<{ key: ItemKey; event: IdentityEvent }>,
  expected: ReadonlyArray<{ id: string; type: string }>,
  deps: LinkDeps,
): Promise<LinkResult["events"]> {
  const { pending } = await deliverPending(entries, {
    publisher: deps.publisher,
    store: deps.outbox,
  });
  const stillPending = new Set(pending);
  return expected.map(({ id, type }) => ({ id, type, published: !stillPending.has(id) }));
}
