import type { IdentityEvent } from "../events/identity-events";
import type { ItemKey } from "../events/outbox";
import type { DataItem, IdentityRecord, MergeState, MergeStep } from "./model";

/**
 * Ports of the identity concept. Adapters (packages/core/src/adapters: dynamodb/, iot.ts,
 * jwt-verifier.ts, cognito-*.ts) implement them against DynamoDB, IoT, Cognito and aws-jwt-verify;
 * tests may wrap those adapters to inject faults.
 */

/** What a verified OpenID token of the identity pool says (signature, issuer, audience, expiry). */
export interface VerifiedOpenIdToken {
  sub: string;
  aud: string[];
  amr: string[];
  exp: number;
}

/**
 * Verifies a `GetOpenIdToken` JWT's signature, issuer, audience (our identity pool) and expiry.
 * Throws `GuestProofRejectedError`. The guest-specific checks (amr, sub) are core's
 * (`checkGuestProof`), so they are the same whatever verifies the signature.
 */
export interface OpenIdTokenVerifier {
  verify(token: string): Promise<VerifiedOpenIdToken>;
}

/** The identity graph: identity records and merge state records. */
export interface IdentityGraph {
  get(identityId: string): Promise<IdentityRecord | null>;
  /** Identities authenticated as this user (gsi1; eventually consistent). */
  identitiesOfUser(sub: string): Promise<IdentityRecord[]>;
  /**
   * Records that `identityId` is authenticated as `userSub`. Only the first time (no user yet)
   * does it store `event` in the item's outbox (`linked: true`). Adding `mergedFrom` and
   * `logins` is idempotent. Throws `IdentityMergedError` on a tombstoned identity.
   */
  recordAuthenticated(input: {
    identityId: string;
    userSub: string;
    logins: readonly string[];
    wasGuest?: boolean;
    mergedFrom?: string;
    event: IdentityEvent;
    now: Date;
  }): Promise<{ linked: boolean; key: ItemKey; pendingEvent?: IdentityEvent }>;
  /**
   * Adds (or removes) an IoT policy name on the identity's record; idempotent. Adding throws
   * `UserDeletedError` once the identity is marked with `markUserDeleted`.
   */
  recordIotPolicy(identityId: string, policyName: string, attached: boolean): Promise<void>;
  /**
   * Marks the identity as belonging to a deleted user (`userDeletedAt`), if it is authenticated
   * as `sub` or no user is recorded on it yet (then `sub` is recorded with the mark: an identity
   * first seen after its user's deletion); idempotent. From then on no IoT policy can be recorded
   * on it and no data written to it.
   */
  markUserDeleted(identityId: string, sub: string, now: Date): Promise<void>;
  /**
   * Tombstones the guest: `mergedInto = survivorId`, creating the record if absent, only while no
   * user is recorded on it (one conditional write: the check and the fence cannot race).
   * Idempotent for the same survivor. Not fenced: `merged-elsewhere` (with the other survivor) or
   * `has-user` (the identity signed in: it is no guest any more, ADR 0006).
   */
  fence(
    guestId: string,
    survivorId: string,
    now: Date,
  ): Promise<
    | { fenced: true }
    | { fenced: false; reason: "merged-elsewhere"; mergedInto: string }
    | { fenced: false; reason: "has-user" }
  >;

  getMerge(guestId: string): Promise<MergeState | null>;
  /** Creates the state record unless one exists; returns whichever is stored. */
  startMerge(state: MergeState): Promise<MergeState>;
  /**
   * Moves the merge from `from` to `to` only if it is still at `from`; `pendingEvent` is stored
   * with the transition (the event and the state change are one write). False: someone else moved.
   */
  advanceMerge(
    guestId: string,
    from: MergeStep,
    to: MergeStep,
    options: { now: Date; pendingEvent?: IdentityEvent },
  ): Promise<boolean>;
  /** The event still pending on an item, if any. */
  pendingEvent(key: ItemKey): Promise<IdentityEvent | null>;
  /** The events still pending on `guestId`'s merge record, then on `survivorId`'s record. */
  pendingMergeEvents(
    guestId: string,
    survivorId: string,
  ): Promise<Array<{ key: ItemKey; event: IdentityEvent }>>;
}

export interface StoredDataItem extends DataItem {
  /** Optimistic-locking counter; 0 for an item that does not exist. */
  version: number;
  /** Set on a guest's item after its merge: late writers are redirected there. */
  mergedInto?: string;
  /** Set when the item was erased with its user (ADR 0007): nothing is written to it again. */
  userDeletedAt?: string;
}

/** Per-identity data items (`DATA#<name>`). */
export interface IdentityDataStore {
  get(identityId: string, name: string): Promise<StoredDataItem | null>;
  /** Every data item of the identity, tombstones included. */
  list(identityId: string): Promise<StoredDataItem[]>;
  /**
   * Writes the item if its version is still `expectedVersion` ("any": whatever it is) and it is no
   * tombstone. `conflict`: the version moved. Throws `IdentityMergedError` on a merge tombstone,
   * `UserDeletedError` on an erased item (the condition is part of the write: no race).
   */
  write(input: {
    identityId: string;
    name: string;
    document: Record<string, unknown>;
    mergedFrom?: readonly string[];
    expectedVersion: number | "any";
    now: Date;
  }): Promise<"written" | "conflict">;
  /**
   * Replaces the item by a tombstone pointing at `survivorId`, only if its version is still
   * `expectedVersion` (0: only if absent). False when the version moved.
   */
  tombstone(input: {
    identityId: string;
    name: string;
    survivorId: string;
    expectedVersion: number;
    now: Date;
  }): Promise<boolean>;
}

/** Attaching our IoT policy to identity ids. Adapters map IoT errors to the domain's. */
export interface IotPolicyAttachments {
  /** Idempotent: already attached is success. Throws `IotPolicyLimitError`, `IotThrottledError`. */
  attach(policyName: string, identityId: string): Promise<void>;
  /** Idempotent: not attached is success. Throws `IotThrottledError`. */
  detach(policyName: string, identityId: string): Promise<void>;
}

/** The profile read the identity routes need (the profile store of the triggers implements it). */
export interface ProfileReader {
  get(sub: string): Promise<{ sub: string; tenant: string; plan: string; roles: string[] } | null>;
}

/** Progress of a user's deletion (`DELETION#<sub>` / `DELETION`); holds no personal data. */
export interface UserDeletion {
  sub: string;
  /** From the profile when the deletion started; the event needs it after the profile is gone. */
  tenant: string;
  step: "started" | "done";
  startedAt: string;
  finishedAt?: string;
}

/** The table side of a user's deletion. */
export interface UserDeletionStore {
  get(sub: string): Promise<UserDeletion | null>;
  /** The event still pending on the user's deletion record, if any. */
  pendingEvent(sub: string): Promise<{ key: ItemKey; event: IdentityEvent } | null>;
  /** Creates the record (step `started`) unless one exists; returns whichever is stored. */
  start(input: { sub: string; tenant: string; now: Date }): Promise<UserDeletion>;
  /** Deletes the email-uniqueness claim of `canonicalEmail` if `owner` (a username) holds it. */
  releaseEmailClaim(canonicalEmail: string, owner: string): Promise<void>;
  /**
   * Deletes every email claim `owner` holds (earlier addresses, alias forms), found through the
   * claims' owner index; each only if still theirs.
   */
  releaseEmailClaimsOwnedBy(owner: string): Promise<void>;
  /** Deletes the user's items (profile, federated links): everything under `USER#<sub>`. */
  eraseUserItems(sub: string): Promise<void>;
  /**
   * Erases the identity's data items (`DATA#*`: documents the user wrote): each becomes an empty
   * tombstone (`userDeletedAt`, no document), the known names too, so a writer holding credentials
   * issued before the deletion cannot write them back (its write is conditional on no tombstone).
   */
  eraseIdentityData(identityId: string, now?: Date): Promise<void>;
  /**
   * Moves the record to `done` with `event` in its outbox, in one conditional write, unless it is
   * done already. `finished: false`: it was (an earlier call wrote the event).
   */
  finish(input: {
    sub: string;
    event: IdentityEvent;
    now: Date;
  }): Promise<{ finished: boolean; key: ItemKey }>;
}

/** The user pool's accounts, as the deletion needs them. */
export interface UserAccounts {
  /** The user with this `sub`, or null when there is none (deleted already). */
  findBySub(sub: string): Promise<{ username: string; email?: string } | null>;
  /** AdminDeleteUser; a user that is gone already is success. */
  delete(username: string): Promise<void>;
}

/**
 * The user pool's view of a session. API Gateway's JWT authorizer verifies tokens offline, so it
 * still accepts an access token after `GlobalSignOut` or `RevokeToken`; only the pool knows.
 */
export interface LiveSessions {
  /**
   * The `sub` of the user whose access token this is, when the pool still accepts it (Cognito's
   * `GetUser`). `null` when the pool refuses it (revoked, expired, user disabled or deleted).
   * Throws for anything else (throttling, network): not knowing is not "signed out".
   */
  userOf(accessToken: string): Promise<{ sub: string } | null>;
}

/**
 * The identity pool's own view of an identity (`DescribeIdentity`): the provider names of its
 * logins. The only authority on whether an identity is still a guest, whatever the credentials
 * a caller holds say (they were fixed when they were issued, up to an hour ago).
 */
export interface IdentityPoolDirectory {
  /** Provider names of the identity's logins (`[]`: a guest); null when the pool has no such identity. */
  loginsOf(identityId: string): Promise<string[] | null>;
}

/** A per-identity counter of guest proofs in a fixed window (`IDENTITY#<id>` / `THROTTLE#guest-proof`). */
export interface GuestProofQuotaStore {
  /**
   * Counts one proof for the identity if its window has room (a window older than
   * `windowSeconds` starts over). Refused: the start of the full window, epoch seconds.
   */
  take(input: {
    identityId: string;
    limit: number;
    windowSeconds: number;
    nowSeconds: number;
  }): Promise<{ taken: true } | { taken: false; windowStart: number }>;
}
