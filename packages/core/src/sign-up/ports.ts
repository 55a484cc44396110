import type { BoardingPassEvent } from "../events/catalogue";
import type { ItemKey } from "../events/outbox";

/** Ports of the sign-up concept; adapters in adapters/dynamodb/ and adapters/cognito-user-pool. */

/** A stored claim, as the takeover rule reads it. */
export interface EmailClaim {
  owner: string;
  /** ISO time of the first claim by this owner (a retry by the same owner keeps it). */
  claimedAt: string;
  /** Epoch seconds; set while the owner's sign-up is unconfirmed. */
  expiresAt?: number;
}

/**
 * Port: the `EMAIL#<address>` items that make one mailbox one account. `canonicalEmail` is the
 * claim address: canonical, with provider aliases folded when the stage's policy says so
 * (mailbox.ts). Each claim also carries its owner as an index key (`gsi1`), so a user's claims can
 * be found by owner.
 */
export interface EmailClaimStore {
  /**
   * Reserves the address for `owner` unless another owner holds it. Idempotent for the same owner
   * (a retried sign-up is not a conflict, and keeps the first `claimedAt`). Without `expiresAt`
   * the claim is permanent (an owner's expiring claim becomes permanent).
   */
  claim(input: {
    canonicalEmail: string;
    owner: string;
    now: Date;
    expiresAt?: Date;
    signal?: AbortSignal;
  }): Promise<"claimed" | "taken">;
  /** The stored claim (strongly consistent), or null. */
  get(canonicalEmail: string, options?: { signal?: AbortSignal }): Promise<EmailClaim | null>;
  /** The username holding the address, if anyone does. */
  ownerOf(canonicalEmail: string, options?: { signal?: AbortSignal }): Promise<string | null>;
  /**
   * Replaces `previous` (exactly: same owner and `claimedAt`) by a claim of `owner`, in one
   * conditional write: of two sign-ups taking over the same stale claim, one wins. False when the
   * claim changed meanwhile.
   */
  takeOver(input: {
    canonicalEmail: string;
    previous: EmailClaim;
    owner: string;
    now: Date;
    expiresAt?: Date;
    signal?: AbortSignal;
  }): Promise<boolean>;
  /** Makes `owner`'s claim permanent; false when the claim is not (or no longer) theirs. */
  confirm(input: { canonicalEmail: string; owner: string; signal?: AbortSignal }): Promise<boolean>;
  /** Deletes the claim if `owner` holds it; false when it is not (or no longer) theirs. */
  release(input: { canonicalEmail: string; owner: string; signal?: AbortSignal }): Promise<boolean>;
  /**
   * The addresses `owner` holds, from the owner index (eventually consistent: a claim written a
   * moment ago may be missing, which every caller tolerates).
   */
  ownedBy(
    owner: string,
    options?: { signal?: AbortSignal },
  ): Promise<Array<{ canonicalEmail: string; permanent: boolean }>>;
}

export interface DirectoryUser {
  username: string;
  sub?: string;
  email?: string;
  emailVerified?: string;
  /** Cognito UserStatus, e.g. `CONFIRMED`, `EXTERNAL_PROVIDER`. */
  status?: string;
}

/** Port: the user pool's admin API, as far as sign-up needs it. */
export interface UserDirectory {
  /** Exact match on the stored attribute. */
  findUsersByEmail(email: string, options?: { signal?: AbortSignal }): Promise<DirectoryUser[]>;
  findUserByUsername(
    username: string,
    options?: { signal?: AbortSignal },
  ): Promise<DirectoryUser | null>;
  /** The user's `UserStatus` (`UNCONFIRMED`, `CONFIRMED`, ...), or null when there is no such user. */
  userStatus(username: string, options?: { signal?: AbortSignal }): Promise<string | null>;
  /** `already-linked`: this provider identity is linked to a user already (AliasExistsException). */
  linkProviderToUser(
    input: { nativeUsername: string; providerName: string; providerUserId: string },
    options?: { signal?: AbortSignal },
  ): Promise<"linked" | "already-linked">;
}

/** Port: the record of a federated link, carrying `user.federated-linked` in its outbox. */
export interface FederatedLinkStore {
  /** Writes the link record with its pending event unless it exists; `recorded: false` if it did. */
  recordLink(
    input: { sub: string; providerName: string; event: BoardingPassEvent; writtenAt: Date },
    options?: { signal?: AbortSignal },
  ): Promise<{ recorded: boolean; key: ItemKey }>;
  /** Undoes `recordLink` when the link itself failed, if its event is still unpublished. */
  discardLink(key: ItemKey, eventId: string): Promise<void>;
}
