/**
 * The identity graph's records: identities, guest data, merge states and user deletions (their
 * keys in the single table: adapters/dynamodb/keys.ts).
 *
 * The identity record carries the edges: `userSub` (identity → user, and user → identities
 * through gsi1), `logins` (providers it was obtained with), `iotPolicies` (IoT attachments we
 * made), `mergedFrom` (guests folded into it) and, on a guest that was merged away, `mergedInto`
 * (the tombstone that redirects late writers).
 */

/** Cognito identity-pool IdentityId, `<region>:<uuid>`: the routes' contract spells it. */
export { IdentityId } from "@boarding-pass/contracts/routes";

export interface IdentityRecord {
  identityId: string;
  /** The user-pool `sub` this identity is authenticated as; absent while it is a guest. */
  userSub?: string;
  /** Login providers seen on this identity (identity-pool provider names, no tokens). */
  logins: string[];
  /** Our IoT policies attached to this identity id. */
  iotPolicies: string[];
  /** Guest identities merged into this one. */
  mergedFrom: string[];
  /** Tombstone: this (guest) identity was merged into that one. */
  mergedInto?: string;
  /** True when this identity started as a guest and later became authenticated in place. */
  wasGuest?: boolean;
  linkedAt?: string;
  mergedAt?: string;
  /**
   * The user this identity is authenticated as was deleted (set before its IoT policies are
   * detached): no policy may be attached to it again.
   */
  userDeletedAt?: string;
}

/** Data names the merge fences even when the guest never wrote them (see ADR 0006). */
export const KNOWN_DATA_NAMES = ["preferences"] as const;

export interface DataItem {
  name: string;
  document: Record<string, unknown>;
  updatedAt: string;
  /** Guests whose copy of this item was folded into it (per-item idempotency of the merge). */
  mergedFrom: string[];
}

/** Steps of a merge, in order. Each transition is a conditional write from the previous step. */
const MERGE_STEPS = ["started", "fenced", "data-moved", "iot-moved", "linked", "done"] as const;
export type MergeStep = (typeof MERGE_STEPS)[number];

export interface MergeState {
  guestId: string;
  survivorId: string;
  userSub: string;
  step: MergeStep;
  startedAt: string;
  updatedAt: string;
  /** Our IoT policies that were attached to the guest when the merge started. */
  guestIotPolicies: string[];
  /** Ids of the events this merge emits; fixed when it starts, so every retry uses the same. */
  eventIds: { merged: string; linked: string };
  /** Id of the event still to publish, if any (cleared once delivered). */
  pendingEventId?: string;
}

export const nextStep = (step: MergeStep): MergeStep => {
  const index = MERGE_STEPS.indexOf(step);
  return MERGE_STEPS[Math.min(index + 1, MERGE_STEPS.length - 1)]!;
};
