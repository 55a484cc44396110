import { InvalidEmailError } from "../../errors";
import type { ItemKey } from "../../events/outbox";
import { canonicalizeEmail } from "../../sign-up/email";

/**
 * Every item key of the single identity table (stacks/Data.ts), in one place:
 *
 * | record          | pk                  | sk                   | gsi1pk / gsi1sk             |
 * |-----------------|---------------------|----------------------|-----------------------------|
 * | profile         | USER#<sub>          | PROFILE              |                             |
 * | federated link  | USER#<sub>          | LINK#<provider>      |                             |
 * | email claim     | EMAIL#<address>     | EMAIL                | EMAILOWNER#<owner> / its pk |
 * | identity        | IDENTITY#<id>       | IDENTITY             | USER#<sub> / IDENTITY#<id>  |
 * | guest data      | IDENTITY#<id>       | DATA#<name>          |                             |
 * | merge state     | IDENTITY#<guest id> | MERGE                |                             |
 * | proof counter   | IDENTITY#<id>       | THROTTLE#guest-proof |                             |
 * | user deletion   | DELETION#<sub>      | DELETION             |                             |
 * | (before ADR 10) | USER#<sub>          | DELETION             |                             |
 *
 * Items carrying a pending event also hold the sparse `outbox` index's keys (`outboxShard`,
 * `outboxAt`; see events/outbox.ts).
 */

/** The sparse index of pending events, by shard and write time. */
export const OUTBOX_INDEX = "outbox";
/** Identities by user (`USER#<sub>`) and email claims by owner (`EMAILOWNER#<username>`). */
export const USER_INDEX = "gsi1";

export function profileKey(sub: string): ItemKey {
  return { pk: `USER#${sub}`, sk: "PROFILE" };
}

export function federatedLinkKey(sub: string, providerName: string): ItemKey {
  return { pk: `USER#${sub}`, sk: `LINK#${providerName}` };
}

interface EmailUniquenessKey {
  pk: `EMAIL#${string}`;
  sk: "EMAIL";
}

/**
 * The key of the item that reserves a canonical address for one user. Refuses anything that is
 * not already canonical, so a raw address can never become a key that a case variant slips past.
 */
export function emailUniquenessKey(canonical: string): EmailUniquenessKey {
  if (canonicalizeEmail(canonical).canonical !== canonical) {
    throw new InvalidEmailError("not-canonical");
  }
  return { pk: `EMAIL#${canonical}`, sk: "EMAIL" };
}

/** `gsi1` keys of a claim: "which addresses does this owner hold" (deletion, email changes). */
export const CLAIM_OWNER_PREFIX = "EMAILOWNER#";
export const claimOwnerIndexKeys = (owner: string, canonicalEmail: string) => ({
  gsi1pk: `${CLAIM_OWNER_PREFIX}${owner}`,
  gsi1sk: emailUniquenessKey(canonicalEmail).pk,
});

export const identityKey = (identityId: string) => ({
  pk: `IDENTITY#${identityId}`,
  sk: "IDENTITY",
});
export const dataKey = (identityId: string, name: string) => ({
  pk: `IDENTITY#${identityId}`,
  sk: `DATA#${name}`,
});
export const mergeKey = (guestId: string) => ({ pk: `IDENTITY#${guestId}`, sk: "MERGE" });
/** The counter's key: under the identity, so a grant scoped to `IDENTITY#` leading keys covers it. */
export const guestProofQuotaKey = (identityId: string) => ({
  pk: `IDENTITY#${identityId}`,
  sk: "THROTTLE#guest-proof",
});
/**
 * Its own partition, apart from `USER#<sub>`: IAM can confine a function to key prefixes but not
 * to sort keys, and the account-deletion routes write this record but must never write the
 * profile beside it (ADR 0010).
 */
export const deletionKey = (sub: string) => ({ pk: `DELETION#${sub}`, sk: "DELETION" });
/** Where records written before ADR 0010 live; read (and carried forward) only. */
export const legacyDeletionKey = (sub: string) => ({ pk: `USER#${sub}`, sk: "DELETION" });
export const userIndexKey = (sub: string, identityId: string) => ({
  gsi1pk: `USER#${sub}`,
  gsi1sk: `IDENTITY#${identityId}`,
});
