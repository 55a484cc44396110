import { createHash } from "node:crypto";
import type { BoardingPassEvent } from "./catalogue";
import type { EventPublisher } from "./publisher";

/**
 * The outbox of ADR 0004: a pending event lives on the item whose change it reports, written by
 * the same conditional write, with the sparse `outbox` index keys set. It is published inline
 * within a budget and then cleared (only if it is still the same event); the relay publishes what
 * is left.
 */

/** Partitions of the sparse index; the relay reads each. A handful spreads writes, keeps reads few. */
const OUTBOX_SHARD_COUNT = 4;

/**
 * The relay leaves events younger than this alone: their writer may still be publishing them
 * inline, and publishing them twice is harmless but noisy. Longer than any trigger's lifetime.
 */
const DEFAULT_RELAY_GRACE_MS = 30_000;

export interface ItemKey {
  pk: string;
  sk: string;
}

/** The attributes a conditional write sets next to its state change. */
interface OutboxAttributes {
  pendingEvent: string;
  pendingEventId: string;
  outboxShard: string;
  outboxAt: string;
}

function outboxShardOf(eventId: string): string {
  const digest = createHash("sha256").update(eventId).digest();
  return `OUTBOX#${(digest[0] ?? 0) % OUTBOX_SHARD_COUNT}`;
}

const OUTBOX_SHARDS: readonly string[] = Array.from(
  { length: OUTBOX_SHARD_COUNT },
  (_, shard) => `OUTBOX#${shard}`,
);

/** `outboxAt` sorts by write time; the id makes equal times distinct and the key self-describing. */
export function outboxAttributes(event: BoardingPassEvent, writtenAt: Date): OutboxAttributes {
  return {
    pendingEvent: JSON.stringify(event),
    pendingEventId: event.id,
    outboxShard: outboxShardOf(event.id),
    outboxAt: `${writtenAt.toISOString()}#${event.id}`,
  };
}

export interface PendingEntry {
  key: ItemKey;
  event: BoardingPassEvent;
}

export interface PendingPage {
  entries: PendingEntry[];
  /** Items whose pending event no longer parses: reported, never published, never cleared. */
  corrupt: ItemKey[];
  /** Opaque cursor for the next page of the same shard, if any. */
  cursor?: string;
}

/** Port: the outbox side of the table. */
export interface OutboxStore {
  listPending(input: {
    shard: string;
    /** Only entries written before this instant. */
    writtenBefore: Date;
    limit: number;
    cursor?: string;
  }): Promise<PendingPage>;
  /** Removes the pending event if it is still `eventId`; false when it was not (already cleared). */
  clearPending(key: ItemKey, eventId: string): Promise<boolean>;
}

interface DeliveryResult {
  delivered: string[];
  /** Left in the outbox for the relay. */
  pending: string[];
}

/**
 * Publishes events that are already safe in the outbox, then clears those that went out.
 * Never throws: whatever fails stays pending, and the relay owns it from there.
 */
export async function deliverPending(
  entries: readonly PendingEntry[],
  deps: { publisher: EventPublisher; store: OutboxStore; signal?: AbortSignal },
): Promise<DeliveryResult> {
  if (entries.length === 0) return { delivered: [], pending: [] };
  let published: Set<string>;
  try {
    const outcome = await deps.publisher.publish(
      entries.map((entry) => entry.event),
      deps.signal ? { signal: deps.signal } : {},
    );
    published = new Set(outcome.published);
  } catch {
    published = new Set();
  }
  const delivered: string[] = [];
  const pending: string[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      if (!published.has(entry.event.id)) {
        pending.push(entry.event.id);
        return;
      }
      // A clear that fails leaves a published event pending: the relay sends it again under the
      // same id, which consumers dedupe. Losing the clear is cheaper than losing the event.
      try {
        await deps.store.clearPending(entry.key, entry.event.id);
        delivered.push(entry.event.id);
      } catch {
        pending.push(entry.event.id);
      }
    }),
  );
  return { delivered, pending };
}

export interface RelaySummary {
  relayed: number;
  stillPending: number;
  corrupt: number;
  /** True when the page bound stopped the tick before the outbox was drained. */
  truncated: boolean;
}

interface RelayOptions {
  now: Date;
  graceMs?: number;
  /** Entries per query (and per publish call). */
  pageSize?: number;
  /** Bound on queries per shard in one tick. */
  maxPagesPerShard?: number;
}

/** One relay tick: every shard, oldest first, bounded. Idempotent: run it as often as you like. */
export async function relayOutbox(
  deps: { store: OutboxStore; publisher: EventPublisher },
  options: RelayOptions,
): Promise<RelaySummary> {
  const writtenBefore = new Date(
    options.now.getTime() - (options.graceMs ?? DEFAULT_RELAY_GRACE_MS),
  );
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPagesPerShard ?? 10;
  const summary: RelaySummary = { relayed: 0, stillPending: 0, corrupt: 0, truncated: false };
  for (const shard of OUTBOX_SHARDS) {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const result = await deps.store.listPending({
        shard,
        writtenBefore,
        limit: pageSize,
        ...(cursor !== undefined ? { cursor } : {}),
      });
      summary.corrupt += result.corrupt.length;
      const delivery = await deliverPending(result.entries, deps);
      summary.relayed += delivery.delivered.length;
      summary.stillPending += delivery.pending.length;
      cursor = result.cursor;
      if (cursor === undefined) break;
      if (page === maxPages - 1) summary.truncated = true;
    }
  }
  return summary;
}
