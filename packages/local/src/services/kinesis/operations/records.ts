/**
 * The data plane: PutRecord, PutRecords, GetShardIterator, GetRecords. A put is journaled (fsynced)
 * before it is answered; throughput quotas are not enforced, so no entry of a PutRecords fails.
 */
import { AwsServiceError } from "../../../protocol/errors";
import {
  decodeIterator,
  encodeIterator,
  firstRecordAtOrAfter,
  hashKeyOf,
  ITERATOR_LIFETIME_MS,
  invalidArgument,
  MAX_GET_RECORDS_LIMIT,
  MAX_HASH_KEY,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_ENTRIES,
  MAX_RECORD_BYTES,
  type StoredRecord,
  type StoredShard,
  type StoredStream,
  sequenceNumber,
  shardId,
  shardIndexOf,
  shardIndexOfSequence,
  streamNotFound,
  validation,
} from "../model";
import {
  type Body,
  HASH_KEY,
  optionalInteger,
  requiredString,
  SEQUENCE_NUMBER,
  streamNameOf,
} from "./input";
import { type OperationContext, openShards } from "./streams";

/** GetRecords returns at most 10 MiB per call. */
const MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024;

interface Entry {
  partitionKey: string;
  data: Buffer;
  hashKey: bigint;
}

function readEntry(body: Body, prefix = ""): Entry {
  const partitionKey = requiredString(body, "PartitionKey", { max: 256 });
  if (typeof body.Data !== "string")
    throw validation(`${prefix}data`, body.Data, "Member must not be null");
  const data = Buffer.from(body.Data, "base64");
  if (data.length + Buffer.byteLength(partitionKey) > MAX_RECORD_BYTES) {
    throw validation(
      `${prefix}data`,
      `<${data.length} bytes>`,
      `Member must have length less than or equal to ${MAX_RECORD_BYTES}`,
    );
  }
  let hashKey = hashKeyOf(partitionKey);
  if (body.ExplicitHashKey !== undefined) {
    const explicit = body.ExplicitHashKey;
    if (
      typeof explicit !== "string" ||
      !HASH_KEY.test(explicit) ||
      BigInt(explicit) > MAX_HASH_KEY
    ) {
      throw invalidArgument(
        `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, ${MAX_HASH_KEY}]. Specified value was ${String(explicit)}`,
      );
    }
    hashKey = BigInt(explicit);
  }
  return { partitionKey, data, hashKey };
}

function shardFor(stream: StoredStream, hashKey: bigint): StoredShard {
  const shard = openShards(stream).find(
    (open) => BigInt(open.startingHashKey) <= hashKey && hashKey <= BigInt(open.endingHashKey),
  );
  // The open shards always cover the whole key space; this would be a bug in a reshard.
  if (!shard)
    throw new AwsServiceError("InternalFailure", "No open shard covers the hash key", {
      status: 500,
    });
  return shard;
}

/** Journals the entries as one record and answers each one's shard and sequence number. */
function append(ctx: OperationContext, stream: StoredStream, entries: Entry[]) {
  const arrivedAt = ctx.now();
  let counter = stream.counter;
  const records = entries.map((entry) => {
    const shard = shardFor(stream, entry.hashKey);
    counter++;
    return {
      shard: shard.index,
      sequenceNumber: sequenceNumber(stream, counter, shard.index),
      partitionKey: entry.partitionKey,
      data: entry.data.toString("base64"),
      arrivedAt,
    };
  });
  ctx.state.commit({ op: "put", region: stream.region, name: stream.name, counter, records });
  return records.map((record) => ({
    ShardId: shardId(record.shard),
    SequenceNumber: record.sequenceNumber,
  }));
}

export function putRecord(ctx: OperationContext, body: Body) {
  const stream = ctx.state.get(ctx.region, streamNameOf(body, ctx.region));
  if (body.SequenceNumberForOrdering !== undefined) {
    // Accepted and needless: sequence numbers here always grow with arrival within a shard.
    requiredString(body, "SequenceNumberForOrdering", { max: 129, pattern: SEQUENCE_NUMBER });
  }
  const [result] = append(ctx, stream, [readEntry(body)]);
  return { ...result, EncryptionType: stream.encryption.type };
}

export function putRecords(ctx: OperationContext, body: Body) {
  const stream = ctx.state.get(ctx.region, streamNameOf(body, ctx.region));
  const entries = body.Records;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PUT_RECORDS_ENTRIES) {
    throw validation(
      "records",
      Array.isArray(entries) ? `<${entries.length} entries>` : entries,
      `Member must have length between 1 and ${MAX_PUT_RECORDS_ENTRIES}`,
    );
  }
  const read = entries.map((entry, index) =>
    readEntry((entry ?? {}) as Body, `records.${index + 1}.member.`),
  );
  const total = read.reduce(
    (sum, entry) => sum + entry.data.length + Buffer.byteLength(entry.partitionKey),
    0,
  );
  if (total > MAX_PUT_RECORDS_BYTES) {
    throw invalidArgument(`Records size exceeds ${MAX_PUT_RECORDS_BYTES / 1024 / 1024} MB limit`);
  }
  return {
    FailedRecordCount: 0,
    Records: append(ctx, stream, read),
    EncryptionType: stream.encryption.type,
  };
}

const ITERATOR_TYPES = [
  "AT_SEQUENCE_NUMBER",
  "AFTER_SEQUENCE_NUMBER",
  "TRIM_HORIZON",
  "LATEST",
  "AT_TIMESTAMP",
] as const;

/** A position past every record written so far and at or before every later one, in any shard. */
function tipOf(stream: StoredStream): bigint {
  return BigInt(sequenceNumber(stream, stream.counter + 1, 0));
}

export function getShardIterator({ state, region, now }: OperationContext, body: Body) {
  const stream = state.get(region, streamNameOf(body, region));
  const id = requiredString(body, "ShardId", { max: 128 });
  const index = shardIndexOf(id);
  const shard = index === undefined ? undefined : stream.shards[index];
  if (!shard) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `Shard ${id} in stream ${stream.name} under account 000000000000 does not exist`,
    );
  }
  const type = body.ShardIteratorType;
  if (!ITERATOR_TYPES.includes(type as (typeof ITERATOR_TYPES)[number])) {
    throw validation(
      "shardIteratorType",
      type,
      `Member must satisfy enum value set: [${ITERATOR_TYPES.join(", ")}]`,
    );
  }
  state.trim(stream, now());
  let from: bigint;
  if (type === "AT_SEQUENCE_NUMBER" || type === "AFTER_SEQUENCE_NUMBER") {
    if (body.StartingSequenceNumber === undefined) {
      throw invalidArgument(
        `StartingSequenceNumber must be provided for ShardIteratorType ${type}`,
      );
    }
    const given = requiredString(body, "StartingSequenceNumber", {
      max: 129,
      pattern: SEQUENCE_NUMBER,
    });
    const sequence = BigInt(given);
    if (
      shardIndexOfSequence(sequence) !== shard.index ||
      sequence < BigInt(shard.startingSequenceNumber)
    ) {
      throw invalidArgument(
        `Invalid StartingSequenceNumber. It encodes ${shardId(shardIndexOfSequence(sequence))}, while it was used in a call to a shard with ${shardId(shard.index)} of stream ${stream.name}`,
      );
    }
    from = type === "AT_SEQUENCE_NUMBER" ? sequence : sequence + 1n;
  } else if (type === "TRIM_HORIZON") {
    from = BigInt(shard.startingSequenceNumber);
  } else if (type === "LATEST") {
    from = tipOf(stream);
  } else {
    if (typeof body.Timestamp !== "number") {
      throw invalidArgument("Timestamp must be provided for ShardIteratorType AT_TIMESTAMP");
    }
    const at = body.Timestamp * 1000;
    const first = shard.records.find((record) => record.arrivedAt >= at);
    from = first ? BigInt(first.sequenceNumber) : tipOf(stream);
  }
  return {
    ShardIterator: encodeIterator({
      region,
      stream: stream.name,
      createdAt: stream.createdAt,
      shard: shard.index,
      from: from.toString(),
      issuedAt: now(),
    }),
  };
}

export function getRecords({ state, region, now: clock }: OperationContext, body: Body) {
  const iterator = requiredString(body, "ShardIterator", { max: 512 });
  const limit = optionalInteger(body, "Limit", 1, MAX_GET_RECORDS_LIMIT) ?? MAX_GET_RECORDS_LIMIT;
  const position = decodeIterator(iterator);
  const stream = state.find(position.region, position.stream);
  if (position.region !== region || !stream || stream.createdAt !== position.createdAt) {
    throw streamNotFound(position.stream);
  }
  const shard = stream.shards[position.shard];
  if (!shard) throw invalidArgument(`Invalid ShardIterator: ${iterator.slice(0, 64)}`);
  const now = clock();
  if (now - position.issuedAt > ITERATOR_LIFETIME_MS) {
    throw new AwsServiceError(
      "ExpiredIteratorException",
      `Iterator expired. The iterator was created at time ${new Date(position.issuedAt).toUTCString()} while right now it is ${new Date(now).toUTCString()} which is further in the future than the tolerated delay of ${ITERATOR_LIFETIME_MS} milliseconds.`,
    );
  }
  state.trim(stream, now);
  const start = firstRecordAtOrAfter(shard.records, BigInt(position.from));
  const records: StoredRecord[] = [];
  let bytes = 0;
  for (let i = start; i < shard.records.length && records.length < limit; i++) {
    const record = shard.records[i]!;
    const size = (record.data.length * 3) / 4;
    if (records.length > 0 && bytes + size > MAX_GET_RECORDS_BYTES) break;
    bytes += size;
    records.push(record);
  }
  const next =
    records.length > 0 ? BigInt(records.at(-1)!.sequenceNumber) + 1n : BigInt(position.from);
  const remaining = shard.records.length - start - records.length;
  const closed = shard.endingSequenceNumber !== undefined;
  const exhausted = closed && remaining === 0;
  return {
    Records: records.map((record) => ({
      SequenceNumber: record.sequenceNumber,
      ApproximateArrivalTimestamp: record.arrivedAt / 1000,
      Data: record.data,
      PartitionKey: record.partitionKey,
      EncryptionType: stream.encryption.type,
    })),
    // 0 once the response reaches the tip of the shard: consumers read that as "caught up".
    MillisBehindLatest:
      remaining > 0 ? Math.max(1, now - shard.records[start + records.length]!.arrivedAt) : 0,
    ...(exhausted
      ? { ChildShards: childShards(stream, shard) }
      : {
          NextShardIterator: encodeIterator({ ...position, from: next.toString(), issuedAt: now }),
        }),
  };
}

/** A closed shard's children, as GetRecords reports them once the shard is read to its end. */
function childShards(stream: StoredStream, parent: StoredShard) {
  return stream.shards
    .filter(
      (shard) => shard.parentIndex === parent.index || shard.adjacentParentIndex === parent.index,
    )
    .map((shard) => ({
      ShardId: shardId(shard.index),
      ParentShards: [shard.parentIndex, shard.adjacentParentIndex]
        .filter((index): index is number => index !== undefined)
        .map(shardId),
      HashKeyRange: { StartingHashKey: shard.startingHashKey, EndingHashKey: shard.endingHashKey },
    }));
}
