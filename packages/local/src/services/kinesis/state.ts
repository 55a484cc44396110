/**
 * The streams in memory and their journal: every change is one record, written and fsynced by the
 * shared journal before it is applied, so an answer sent after a change survives kill -9.
 */
import { Journal } from "../../journal";
import {
  type KinesisJournalRecord,
  type StoredRecord,
  type StoredStream,
  streamNotFound,
} from "./model";

export class KinesisState {
  readonly #streams = new Map<string, StoredStream>();
  readonly #journal: Journal<KinesisJournalRecord>;

  readonly #now: () => number;
  /** The latest creation time handed out, deleted streams included (see `creationTime`). */
  #lastCreatedAt = 0;

  constructor(options: { dataDir?: string; compactAfter?: number; now?: () => number }) {
    this.#now = options.now ?? Date.now;
    this.#journal = Journal.open<KinesisJournalRecord>(
      {
        dataDir: options.dataDir,
        name: "kinesis",
        snapshot: () => this.#snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.#apply(record),
    );
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: KinesisJournalRecord): void {
    this.#journal.commit(record);
  }

  /**
   * A creation time later than any before it: a stream deleted and created again within one
   * millisecond still gets new sequence numbers, and the old stream's iterators stay stale.
   */
  creationTime(): number {
    return Math.max(this.#now(), this.#lastCreatedAt + 1);
  }

  find(region: string, name: string): StoredStream | undefined {
    return this.#streams.get(key(region, name));
  }

  get(region: string, name: string): StoredStream {
    const stream = this.find(region, name);
    if (!stream) throw streamNotFound(name);
    return stream;
  }

  streams(region: string): StoredStream[] {
    return [...this.#streams.values()]
      .filter((stream) => stream.region === region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Drops records older than the stream's retention period: Kinesis no longer returns them, and a
   * compaction no longer keeps them. Deterministic in the clock, so it needs no journal record.
   */
  trim(stream: StoredStream, now = this.#now()): void {
    const oldest = now - stream.retentionHours * 3_600_000;
    for (const shard of stream.shards) {
      let expired = 0;
      while (expired < shard.records.length && shard.records[expired]!.arrivedAt < oldest) {
        expired++;
      }
      if (expired > 0) shard.records.splice(0, expired);
    }
  }

  reset(): void {
    this.#journal.reset();
    this.#streams.clear();
  }

  close(): void {
    this.#journal.close();
  }

  #apply(record: KinesisJournalRecord): void {
    if (record.op === "stream") {
      this.#lastCreatedAt = Math.max(this.#lastCreatedAt, record.stream.createdAt);
      this.#streams.set(key(record.stream.region, record.stream.name), record.stream);
      return;
    }
    if (record.op === "delete") {
      this.#streams.delete(key(record.region, record.name));
      return;
    }
    const stream = this.#streams.get(key(record.region, record.name));
    // A record about a stream that is gone cannot be produced live; replay skips it likewise.
    if (!stream) return;
    switch (record.op) {
      case "put":
        for (const { shard, ...stored } of record.records) {
          stream.shards[shard]?.records.push(stored satisfies StoredRecord);
        }
        stream.counter = record.counter;
        return;
      case "reshard":
        for (const { shard, endingSequenceNumber } of record.close) {
          const closed = stream.shards[shard];
          if (closed) closed.endingSequenceNumber = endingSequenceNumber;
        }
        stream.shards.push(...record.open.map((shard) => ({ ...shard, records: [] })));
        stream.counter = record.counter;
        return;
      case "encryption":
        stream.encryption = record.encryption;
        return;
      case "retention":
        stream.retentionHours = record.hours;
        return;
    }
  }

  #snapshot(): KinesisJournalRecord[] {
    return [...this.#streams.values()].map((stream) => {
      this.trim(stream);
      return { op: "stream", stream };
    });
  }
}

function key(region: string, name: string): string {
  return `${region}\u0000${name}`;
}
