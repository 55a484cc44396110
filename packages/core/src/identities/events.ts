import { z } from "zod";
import { InvalidEventError } from "../errors";
import {
  type BoardingPassEvent,
  buildEvent,
  EVENT_SOURCE_PATTERN,
  type EventType,
  eventId,
  parseEvent,
} from "../events";
import { Profile } from "../profile";
import { IdentityId } from "./model";

/**
 * Events of the link/merge flow.
 *
 * - `boardingpass.identity.linked.v1` (catalogued in docs/events.md) fits as is.
 * - A guest merge cannot be told with `boardingpass.identity.merged.v1`: its data is user-level
 *   (`mergedSub` must be a user-pool sub) and a guest has no sub. Changing a field is a new
 *   version, so this module defines `boardingpass.identity.merged.v2` with identity ids, in the
 *   same CloudEvents envelope and with the same deterministic id scheme (`eventId`). Until
 *   `events.ts` adopts it (then `parseEvent` accepts it and the outbox relay can carry it), the
 *   merge state record is its outbox: see ADR 0006.
 */

export const IDENTITY_LINKED = "boardingpass.identity.linked.v1" as const;
export const IDENTITY_MERGED = "boardingpass.identity.merged.v2" as const;

export const IdentityMergedData = z.strictObject({
  /** The user the surviving identity is authenticated as. */
  sub: Profile.shape.sub,
  tenant: Profile.shape.tenant,
  /** The surviving identity. */
  identityId: IdentityId,
  /** The guest identity folded into it (disabled by Cognito, tombstoned here). */
  mergedIdentityId: IdentityId,
});

export const IdentityMergedEvent = z.object({
  specversion: z.literal("1.0"),
  id: z.uuid(),
  source: z.string().regex(EVENT_SOURCE_PATTERN),
  type: z.literal(IDENTITY_MERGED),
  time: z.iso.datetime(),
  subject: Profile.shape.sub,
  datacontenttype: z.literal("application/json"),
  partitionkey: Profile.shape.sub,
  data: IdentityMergedData,
});
export type IdentityMergedEvent = z.infer<typeof IdentityMergedEvent>;

/** What the event sink and publisher carry: the catalogued events plus the merged v2. */
export type IdentityEvent = BoardingPassEvent<typeof IDENTITY_LINKED> | IdentityMergedEvent;

/** Natural key: a guest is merged once, into one survivor. */
export function identityMergedEventId(survivorId: string, guestId: string): string {
  // `eventId` hashes the type string; the cast only widens its compile-time union.
  return eventId(IDENTITY_MERGED as unknown as EventType, survivorId, guestId);
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
  const candidate = {
    specversion: "1.0",
    id: identityMergedEventId(input.survivorId, input.guestId),
    source: input.source,
    type: IDENTITY_MERGED,
    time: input.time.toISOString(),
    subject: input.sub,
    datacontenttype: "application/json",
    partitionkey: input.sub,
    data: {
      sub: input.sub,
      tenant: input.tenant,
      identityId: input.survivorId,
      mergedIdentityId: input.guestId,
    },
  };
  const parsed = IdentityMergedEvent.safeParse(candidate);
  if (!parsed.success) {
    throw new InvalidEventError(
      `Invalid ${IDENTITY_MERGED} event:\n${z.prettifyError(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
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
  const value = JSON.parse(json) as { type?: unknown };
  if (value.type === IDENTITY_MERGED) return IdentityMergedEvent.parse(value);
  const event = parseEvent(value);
  if (event.type !== IDENTITY_LINKED) {
    throw new InvalidEventError(`Not an identity event: ${event.type}`);
  }
  return event as BoardingPassEvent<typeof IDENTITY_LINKED>;
}
