import { type BudgetPolicy, budgetFrom, withDeadline } from "../deadline";
import { type BoardingPassEvent, buildEvent } from "../events/catalogue";
import { deliverPending, type ItemKey, type OutboxStore } from "../events/outbox";
import type { EventPublisher } from "../events/publisher";
import type { Profile } from "./schema";

/**
 * Profiles: created exactly once, with their event in the same conditional write (ADR 0004).
 *
 * - Post confirmation creates the profile and `user.confirmed`.
 * - Pre token generation reads it (one GetItem, under a deadline) and, when it is missing (users
 *   made with AdminCreateUser, for whom post confirmation never fires, or a post confirmation that
 *   failed), creates it with `profile.repaired`.
 * - Whoever loses the conditional write publishes nothing: the winner publishes inline, and if it
 *   dies first the relay does. So concurrent duplicates produce one event, with one id.
 */

/** What a new profile holds before anyone edits it. Server-side configuration, never user input. */
export interface ProfileDefaults {
  tenant: string;
  plan: string;
  roles: string[];
}

function newProfile(sub: string, defaults: ProfileDefaults, now: Date): Profile {
  return {
    sub,
    tenant: defaults.tenant,
    plan: defaults.plan,
    roles: [...defaults.roles],
    createdAt: now.toISOString(),
    version: 1,
  };
}

/** Port: profile items. */
export interface ProfileStore {
  /** The stored profile, unvalidated (the claims builder validates), or null when there is none. */
  get(
    sub: string,
    options?: { signal?: AbortSignal; consistent?: boolean },
  ): Promise<Profile | null>;
  /**
   * Writes the profile with `event` pending in its outbox, only if no profile exists.
   * `created: false` means another invocation won; nothing was written.
   */
  createOnce(
    profile: Profile,
    event: BoardingPassEvent,
    options: { writtenAt: Date; signal?: AbortSignal },
  ): Promise<{ created: boolean; key: ItemKey }>;
}

interface ProfileServiceDeps {
  profiles: ProfileStore;
  outbox: OutboxStore;
  publisher: EventPublisher;
  defaults: ProfileDefaults;
  /** Milliseconds the Lambda has left (`context.getRemainingTimeInMillis`). */
  remainingMs: () => number;
}

/** Budgets inside Cognito's 5 s: each call gets at most `maxMs`, and `reserveMs` is never spent. */
const BUDGETS = {
  /** The hot-path read of pre token generation. */
  profileRead: { reserveMs: 1500, maxMs: 1000 },
  profileWrite: { reserveMs: 1500, maxMs: 1500 },
  /** Inline publish after the write; what does not make it is relayed. */
  inlinePublish: { reserveMs: 1000, maxMs: 1500 },
} as const satisfies Record<string, BudgetPolicy>;

async function publishInline(
  key: ItemKey,
  event: BoardingPassEvent,
  deps: ProfileServiceDeps,
): Promise<boolean> {
  const budget = budgetFrom(deps.remainingMs(), BUDGETS.inlinePublish);
  if (budget === 0) return false;
  try {
    const result = await withDeadline(budget, (signal) =>
      deliverPending([{ key, event }], { publisher: deps.publisher, store: deps.outbox, signal }),
    );
    return result.delivered.includes(event.id);
  } catch {
    return false;
  }
}

interface ConfirmUserResult {
  outcome: "created" | "already-exists";
  eventId: string;
  /** Published inline and cleared; false means the relay will publish it. */
  published: boolean;
}

/** Post confirmation: the profile and `user.confirmed`, exactly once however often it runs. */
export async function confirmUser(
  input: { sub: string; now: Date; source: string },
  deps: ProfileServiceDeps,
): Promise<ConfirmUserResult> {
  const profile = newProfile(input.sub, deps.defaults, input.now);
  const event = buildEvent("boardingpass.user.confirmed.v1", {
    subject: input.sub,
    data: { sub: input.sub, tenant: profile.tenant, plan: profile.plan },
    time: input.now,
    source: input.source,
  });
  const budget = budgetFrom(deps.remainingMs(), BUDGETS.profileWrite);
  const { created, key } = await withDeadline(budget, (signal) =>
    deps.profiles.createOnce(profile, event, { writtenAt: input.now, signal }),
  );
  if (!created) return { outcome: "already-exists", eventId: event.id, published: false };
  const published = await publishInline(key, event, deps);
  return { outcome: "created", eventId: event.id, published };
}

type TokenProfile =
  | { outcome: "found"; profile: Profile }
  | { outcome: "repaired"; profile: Profile; eventId: string; published: boolean }
  | { outcome: "repaired-elsewhere"; profile: Profile | null }
  | { outcome: "degraded"; profile: null; stage: "read" | "repair"; error: unknown };

/**
 * Pre token generation's view of the profile. Never throws: when DynamoDB fails or is slow the
 * result is `degraded` and the caller issues base claims with the default role.
 */
export async function profileForToken(
  input: { sub: string; now: Date; source: string },
  deps: ProfileServiceDeps,
): Promise<TokenProfile> {
  let stored: Profile | null;
  try {
    stored = await withDeadline(budgetFrom(deps.remainingMs(), BUDGETS.profileRead), (signal) =>
      deps.profiles.get(input.sub, { signal }),
    );
  } catch (error) {
    return { outcome: "degraded", profile: null, stage: "read", error };
  }
  if (stored !== null) return { outcome: "found", profile: stored };

  const profile = newProfile(input.sub, deps.defaults, input.now);
  try {
    const event = buildEvent("boardingpass.profile.repaired.v1", {
      subject: input.sub,
      data: {
        sub: input.sub,
        tenant: profile.tenant,
        plan: profile.plan,
        profileVersion: profile.version,
        repair: "created",
      },
      time: input.now,
      source: input.source,
    });
    const { created, key } = await withDeadline(
      budgetFrom(deps.remainingMs(), BUDGETS.profileWrite),
      (signal) => deps.profiles.createOnce(profile, event, { writtenAt: input.now, signal }),
    );
    if (created) {
      const published = await publishInline(key, event, deps);
      return { outcome: "repaired", profile, eventId: event.id, published };
    }
    // A concurrent sign-in (or a late post confirmation) created it: use theirs.
    const theirs = await withDeadline(
      budgetFrom(deps.remainingMs(), BUDGETS.profileRead),
      (signal) => deps.profiles.get(input.sub, { signal, consistent: true }),
    );
    return { outcome: "repaired-elsewhere", profile: theirs };
  } catch (error) {
    return { outcome: "degraded", profile: null, stage: "repair", error };
  }
}
