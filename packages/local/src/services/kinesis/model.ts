/**
 * The emulated Kinesis Data Streams' stored shapes, its journal records, and the pure arithmetic of
 * hash keys, sequence numbers and shard iterators.
 */

import { createHash } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";
import { JSON_1_1, type JsonErrorDialect } from "../../protocol/json";
import { LOCAL_ACCOUNT_ID } from "../../types";

export interface StoredRecord {
  sequenceNumber: string;
  partitionKey: string;
  /** The payload, base64 (as on the wire). */
  data: string;
  /** Arrival, epoch milliseconds. */
  arrivedAt: number;
}

export interface StoredShard {
  /** Position in the stream's shard list: `shardId-<index, 12 digits>`. */
  index: number;
  parentIndex?: number;
  adjacentParentIndex?: number;
  /** Decimal 128-bit hash keys, inclusive. */
  startingHashKey: string;
  endingHashKey: string;
  startingSequenceNumber: string;
  /** Set once the shard is closed by a reshard. */
  endingSequenceNumber?: string;
  records: StoredRecord[];
}

export interface StoredStream {
  region: string;
  name: string;
  createdAt: number;
  mode: "PROVISIONED" | "ON_DEMAND";
  retentionHours: number;
  encryption: { type: "NONE" } | { type: "KMS"; keyId: string };
  /** The last record counter handed out in this stream (see `sequenceNumber`). */
  counter: number;
  shards: StoredShard[];
}

/**
 * Journal records. Each carries what it computed (sequence numbers, arrival times, new shards), so
 * replay rebuilds exactly what was acknowledged instead of computing it again.
 */
export type KinesisJournalRecord =
  /** A whole stream: CreateStream, and every stream of a compaction snapshot. */
  | { op: "stream"; stream: StoredStream }
  | { op: "delete"; region: string; name: string }
  | {
      op: "put";
      region: string;
      name: string;
      counter: number;
      records: (StoredRecord & { shard: number })[];
    }
  | {
      op: "reshard";
      region: string;
      name: string;
      counter: number;
      close: { shard: number; endingSequenceNumber: string }[];
      open: StoredShard[];
    }
  | { op: "encryption"; region: string; name: string; encryption: StoredStream["encryption"] }
  | { op: "retention"; region: string; name: string; hours: number };

export const MAX_HASH_KEY = (1n << 128n) - 1n;
/** Kinesis Data Streams quotas (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html). */
export const MAX_RECORD_BYTES = 1024 * 1024;
export const MAX_PUT_RECORDS_ENTRIES = 500;
export const MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024;
export const MAX_GET_RECORDS_LIMIT = 10_000;
/** A shard iterator expires five minutes after it is returned (GetShardIterator API reference). */
export const ITERATOR_LIFETIME_MS = 5 * 60_000;
/** An on-demand stream starts with four shards' worth of capacity. */
export const ON_DEMAND_SHARDS = 4;

/**
 * Kinesis errors (JSON 1.1): `__type` and `x-amzn-ErrorType`. No message header: a message may
 * quote the caller's input (a partition key with a line break), which a header cannot carry.
 */
export const KINESIS_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_1,
  headers: ["x-amzn-errortype"],
};

export const invalidArgument = (message: string) =>
  new AwsServiceError("InvalidArgumentException", message);

export const validation = (field: string, value: unknown, constraint: string) =>
  new AwsServiceError(
    "ValidationException",
    `1 validation error detected: Value '${String(value).slice(0, 256)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export const streamNotFound = (name: string) =>
  new AwsServiceError(
    "ResourceNotFoundException",
    `Stream ${name} under account ${LOCAL_ACCOUNT_ID} not found.`,
  );

export function streamArn(region: string, name: string): string {
  return `arn:aws:kinesis:${region}:${LOCAL_ACCOUNT_ID}:stream/${name}`;
}

export function shardId(index: number): string {
  return `shardId-${String(index).padStart(12, "0")}`;
}

/** `shardId-000000000003` (or a bare `3`, which Kinesis also accepts) to 3; undefined otherwise. */
export function shardIndexOf(id: string): number | undefined {
  const match = /^(?:shardId-)?(\d{1,12})$/.exec(id);
  return match ? Number(match[1]) : undefined;
}

/** The partition key's MD5 as an unsigned 128-bit integer: how Kinesis maps a key to a shard. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
}

/**
 * A 56-digit sequence number: "49", the stream's creation time (13 digits of milliseconds), the
 * stream-wide record counter (29 digits) and the shard's index (12 digits). Within a shard it grows
 * with every record; a shard created after a record was written starts above it; a stream
 * re-created under the same name never repeats an old number; and the shard is readable back
 * from the number (AT_SEQUENCE_NUMBER on the wrong shard is refused, as Kinesis does).
 */
export function sequenceNumber(stream: StoredStream, counter: number, shardIndex: number): string {
  return (
    49n * 10n ** 54n +
    BigInt(stream.createdAt) * 10n ** 41n +
    BigInt(counter) * 10n ** 12n +
    BigInt(shardIndex)
  ).toString();
}

export function shardIndexOfSequence(sequence: bigint): number {
  return Number(sequence % 10n ** 12n);
}

/** Splits the whole 128-bit key space into `count` contiguous ranges, as CreateStream does. */
export function uniformRanges(count: number, start = 0n, end = MAX_HASH_KEY): [bigint, bigint][] {
  const width = (end - start + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => {
    const low = start + width * BigInt(i);
    return [low, i === count - 1 ? end : low + width - 1n];
  });
}

/** Where an iterator reads from: the first record at or above `from` in one shard. */
interface IteratorPosition {
  region: string;
  stream: string;
  /** The stream's creation time: an iterator of a deleted and re-created stream is stale. */
  createdAt: number;
  shard: number;
  from: string;
  issuedAt: number;
}

/** Iterators are opaque to clients; this one is the position itself, base64-encoded. */
export function encodeIterator(position: IteratorPosition): string {
  const { region, stream, createdAt, shard, from, issuedAt } = position;
  return Buffer.from(
    JSON.stringify([1, region, stream, createdAt, shard, from, issuedAt]),
  ).toString("base64");
}

export function decodeIterator(iterator: string): IteratorPosition {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(iterator, "base64").toString("utf8"));
  } catch {
    fields = undefined;
  }
  if (
    !Array.isArray(fields) ||
    fields.length !== 7 ||
    fields[0] !== 1 ||
    typeof fields[1] !== "string" ||
    typeof fields[2] !== "string" ||
    !Number.isSafeInteger(fields[3]) ||
    !Number.isSafeInteger(fields[4]) ||
    typeof fields[5] !== "string" ||
    !/^\d{1,129}$/.test(fields[5]) ||
    !Number.isSafeInteger(fields[6])
  ) {
    throw invalidArgument(`Invalid ShardIterator: ${iterator.slice(0, 64)}`);
  }
  const [, region, stream, createdAt, shard, from, issuedAt] = fields as [
    1,
    string,
    string,
    number,
    number,
    string,
    number,
  ];
  return { region, stream, createdAt, shard, from, issuedAt };
}

/** Index of the first record whose sequence number is at or above `from` (records are sorted). */
export function firstRecordAtOrAfter(records: readonly StoredRecord[], from: bigint): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (BigInt(records[middle]!.sequenceNumber) < from) low = middle + 1;
    else high = middle;
  }
  return low;
}
