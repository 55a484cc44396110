import { InvalidEventError } from "../errors";
import {
  type BoardingPassEvent,
  buildEvent,
  type DeletionActor,
  EventSchemas,
  eventId,
  parseEvent,
} from "./catalogue";

/**
 * Events of the link/merge flow, as catalogued in `catalogue.ts` (the one source of their schemas
 * and natural keys; docs/events.md):
 *
 * - `boardingpass.identity.linked.v1`: an identity was associated with the user.
 * - `boardingpass.identity.merged.v2`: a guest identity was folded into the user's identity.
 *   `identity.merged.v1` cannot say this (its `mergedSub` is a user-pool sub; a guest has none).
 *
 * Both are ordinary catalogued events: `parseEvent` accepts them and the outbox relay carries them.
 */

const IDENTITY_LINKED = "boardingpass.identity.linked.v1" as const;
const IDENTITY_MERGED = "boardingpass.identity.merged.v2" as const;
export const USER_DELETED = "boardingpass.user.deleted.v1" as const;

/** The user-pool provider name in `identity.linked` (the catalogue's `providerName`). */
export const USER_POOL_PROVIDER_NAME = "Cognito";

/** The catalogue's envelope schema of `identity.merged.v2` (snapshotted with the others). */
export const IdentityMergedEvent = EventSchemas[IDENTITY_MERGED];
export type IdentityMergedEvent = BoardingPassEvent<typeof IDENTITY_MERGED>;

/** What the event sink and publisher carry: the link/merge events and the user's deletion. */
export type IdentityEvent = BoardingPassEvent<
  typeof IDENTITY_LINKED | typeof IDENTITY_MERGED | typeof USER_DELETED
>;

export function buildUserDeleted(input: {
  sub: string;
  tenant: string;
  actor?: DeletionActor;
  time: Date;
  source: string;
}): BoardingPassEvent<typeof USER_DELETED> {
  return buildEvent(USER_DELETED, {
    subject: input.sub,
    data: {
      sub: input.sub,
      tenant: input.tenant,
      ...(input.actor !== undefined ? { actor: input.actor } : {}),
    },
    time: input.time,
    source: input.source,
  });
}

/** Natural key (the catalogue's): a guest is merged once, into one survivor. */
export function identityMergedEventId(survivorId: string, guestId: string): string {
  return eventId(IDENTITY_MERGED, survivorId, guestId);
}

export function identityLinkedEventId(sub: string, identityId: string): string {
  return eventId(IDENTITY_LINKED, sub, identityId);
}

export function buildIdentityMerged(input: {
  sub: string;
  tenant: string;
  survivorId: string;
  guestId: string;
  time: Date;
  source: string;
}): IdentityMergedEvent {
  return buildEvent(IDENTITY_MERGED, {
    subject: input.sub,
    data: {
      sub: input.sub,
      tenant: input.tenant,
      identityId: input.survivorId,
      mergedIdentityId: input.guestId,
    },
    time: input.time,
    source: input.source,
  });
}

export function buildIdentityLinked(input: {
  sub: string;
  tenant: string;
  identityId: string;
  providerName: string;
  time: Date;
  source: string;
}): BoardingPassEvent<typeof IDENTITY_LINKED> {
  return buildEvent(IDENTITY_LINKED, {
    subject: input.sub,
    data: {
      sub: input.sub,
      tenant: input.tenant,
      identityId: input.identityId,
      providerName: input.providerName,
    },
    time: input.time,
    source: input.source,
  });
}

/** Parses either identity event back from its stored JSON (an outbox payload). */
export function parseIdentityEvent(json: string): IdentityEvent {
  const event = parseEvent(JSON.parse(json));
  if (
    event.type !== IDENTITY_LINKED &&
    event.type !== IDENTITY_MERGED &&
    event.type !== USER_DELETED
  ) {
    throw new InvalidEventError(`Not an identity event: ${event.type}`);
  }
  return event as IdentityEvent;
}
