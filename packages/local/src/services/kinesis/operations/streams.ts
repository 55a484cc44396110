/**
 * Stream and shard management: CreateStream, DeleteStream, DescribeStream(Summary), ListStreams,
 * ListShards, Start/StopStreamEncryption, Increase/DecreaseStreamRetentionPeriod.
 * Streams are ACTIVE at once: a local cloud gains nothing from AWS's provisioning delays.
 */
import { AwsServiceError } from "../../../protocol/errors";
import {
  invalidArgument,
  ON_DEMAND_SHARDS,
  type StoredShard,
  type StoredStream,
  sequenceNumber,
  shardId,
  shardIndexOf,
  streamArn,
  uniformRanges,
  validation,
} from "../model";
import type { KinesisState } from "../state";
import { type Body, optionalInteger, requiredString, streamNameOf } from "./input";

export interface OperationContext {
  state: KinesisState;
  region: string;
  /** Epoch milliseconds (tests move it to expire iterators and records). */
  now: () => number;
}

/** Open shards a region may hold (the default account quota in the larger Regions). */
const SHARD_QUOTA = 500;
const MIN_RETENTION_HOURS = 24;
const MAX_RETENTION_HOURS = 8760;

export function createStream({ state, region }: OperationContext, body: Body): undefined {
  const name = requiredString(body, "StreamName", { max: 128, pattern: /^[a-zA-Z0-9_.-]+$/ });
  const modeDetails = body.StreamModeDetails as { StreamMode?: unknown } | undefined;
  const mode = modeDetails?.StreamMode ?? "PROVISIONED";
  if (mode !== "PROVISIONED" && mode !== "ON_DEMAND") {
    throw validation(
      "streamModeDetails.streamMode",
      mode,
      "Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]",
    );
  }
  const requested = optionalInteger(body, "ShardCount", 1, 10_000);
  if (mode === "PROVISIONED" && requested === undefined) {
    throw invalidArgument("ShardCount is required for a stream in PROVISIONED mode.");
  }
  const shardCount = requested ?? ON_DEMAND_SHARDS;
  if (state.find(region, name)) {
    throw new AwsServiceError(
      "ResourceInUseException",
      `Stream ${name} under account 000000000000 already exists.`,
    );
  }
  const open = state.streams(region).reduce((sum, stream) => sum + openShards(stream).length, 0);
  if (open + shardCount > SHARD_QUOTA) {
    throw new AwsServiceError(
      "LimitExceededException",
      `This request would exceed the shard limit for the account 000000000000 in ${region}. Current shard count for the account: ${open}. Limit: ${SHARD_QUOTA}.`,
    );
  }
  const stream: StoredStream = {
    region,
    name,
    createdAt: state.creationTime(),
    mode,
    retentionHours: MIN_RETENTION_HOURS,
    encryption: { type: "NONE" },
    counter: 0,
    shards: [],
  };
  stream.shards = uniformRanges(shardCount).map(
    ([low, high], index): StoredShard => ({
      index,
      startingHashKey: low.toString(),
      endingHashKey: high.toString(),
      startingSequenceNumber: sequenceNumber(stream, 0, index),
      records: [],
    }),
  );
  state.commit({ op: "stream", stream });
  return undefined;
}

export function deleteStream({ state, region }: OperationContext, body: Body): undefined {
  const name = streamNameOf(body, region);
  state.get(region, name);
  state.commit({ op: "delete", region, name });
  return undefined;
}

export function describeStream({ state, region }: OperationContext, body: Body) {
  const stream = state.get(region, streamNameOf(body, region));
  const limit = optionalInteger(body, "Limit", 1, 10_000) ?? 100;
  const after = exclusiveStart(body.ExclusiveStartShardId);
  const shards = stream.shards.filter((shard) => shard.index > after);
  return {
    StreamDescription: {
      ...streamFields(stream),
      Shards: shards.slice(0, limit).map((shard) => shardShape(shard)),
      HasMoreShards: shards.length > limit,
    },
  };
}

export function describeStreamSummary({ state, region }: OperationContext, body: Body) {
  const stream = state.get(region, streamNameOf(body, region));
  return {
    StreamDescriptionSummary: {
      ...streamFields(stream),
      OpenShardCount: openShards(stream).length,
      ConsumerCount: 0,
    },
  };
}

export function listStreams({ state, region }: OperationContext, body: Body) {
  const limit = optionalInteger(body, "Limit", 1, 10_000) ?? 100;
  let start = body.ExclusiveStartStreamName;
  if (body.NextToken !== undefined) start = decodeToken(body.NextToken, "streams");
  const streams = state
    .streams(region)
    .filter((stream) => typeof start !== "string" || stream.name > start);
  const page = streams.slice(0, limit);
  const more = streams.length > limit;
  return {
    StreamNames: page.map((stream) => stream.name),
    HasMoreStreams: more,
    StreamSummaries: page.map((stream) => ({
      StreamName: stream.name,
      StreamARN: streamArn(stream.region, stream.name),
      StreamStatus: "ACTIVE",
      StreamModeDetails: { StreamMode: stream.mode },
      StreamCreationTimestamp: stream.createdAt / 1000,
    })),
    ...(more ? { NextToken: encodeToken("streams", page.at(-1)!.name) } : {}),
  };
}

export function listShards({ state, region }: OperationContext, body: Body) {
  let name: string;
  let after: number;
  if (body.NextToken !== undefined) {
    if (body.StreamName !== undefined || body.StreamARN !== undefined) {
      throw invalidArgument("NextToken and StreamName cannot be provided together.");
    }
    const token = decodeToken(body.NextToken, "shards");
    const separator = token.lastIndexOf("/");
    name = token.slice(0, separator);
    after = Number(token.slice(separator + 1));
  } else {
    name = streamNameOf(body, region);
    after = exclusiveStart(body.ExclusiveStartShardId);
  }
  const stream = state.get(region, name);
  const limit = optionalInteger(body, "MaxResults", 1, 10_000) ?? 1000;
  const filter = body.ShardFilter as { Type?: unknown; ShardId?: unknown } | undefined;
  if (filter?.Type === "AFTER_SHARD_ID") after = Math.max(after, exclusiveStart(filter.ShardId));
  const shards = stream.shards.filter(
    (shard) =>
      shard.index > after &&
      (filter?.Type !== "AT_LATEST" || shard.endingSequenceNumber === undefined),
  );
  const page = shards.slice(0, limit);
  return {
    Shards: page.map((shard) => shardShape(shard)),
    ...(shards.length > limit
      ? { NextToken: encodeToken("shards", `${name}/${page.at(-1)!.index}`) }
      : {}),
  };
}

export function startStreamEncryption({ state, region }: OperationContext, body: Body): undefined {
  const name = streamNameOf(body, region);
  state.get(region, name);
  if (body.EncryptionType !== "KMS") {
    throw validation(
      "encryptionType",
      body.EncryptionType,
      "Member must satisfy enum value set: [KMS]",
    );
  }
  const keyId = requiredString(body, "KeyId", { max: 2048 });
  state.commit({ op: "encryption", region, name, encryption: { type: "KMS", keyId } });
  return undefined;
}

export function stopStreamEncryption({ state, region }: OperationContext, body: Body): undefined {
  const name = streamNameOf(body, region);
  state.get(region, name);
  state.commit({ op: "encryption", region, name, encryption: { type: "NONE" } });
  return undefined;
}

export function changeRetention(direction: "increase" | "decrease") {
  return ({ state, region }: OperationContext, body: Body): undefined => {
    const name = streamNameOf(body, region);
    const stream = state.get(region, name);
    const hours = optionalInteger(body, "RetentionPeriodHours", 1, 8760);
    if (hours === undefined) {
      throw validation("retentionPeriodHours", hours, "Member must not be null");
    }
    if (hours < MIN_RETENTION_HOURS || hours > MAX_RETENTION_HOURS) {
      throw invalidArgument(
        `Minimum allowed retention period is ${MIN_RETENTION_HOURS} hours. Maximum allowed retention period is ${MAX_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is out of range.`,
      );
    }
    if (direction === "increase" ? hours < stream.retentionHours : hours > stream.retentionHours) {
      throw invalidArgument(
        `Requested retention period (${hours} hours) for stream ${name} can not be ${direction === "increase" ? "shorter" : "longer"} than existing retention period (${stream.retentionHours} hours). Use ${direction === "increase" ? "DecreaseStreamRetentionPeriod" : "IncreaseStreamRetentionPeriod"} API.`,
      );
    }
    state.commit({ op: "retention", region, name, hours });
    return undefined;
  };
}

export function openShards(stream: StoredStream): StoredShard[] {
  return stream.shards.filter((shard) => shard.endingSequenceNumber === undefined);
}

function streamFields(stream: StoredStream) {
  return {
    StreamName: stream.name,
    StreamARN: streamArn(stream.region, stream.name),
    StreamStatus: "ACTIVE",
    StreamModeDetails: { StreamMode: stream.mode },
    RetentionPeriodHours: stream.retentionHours,
    StreamCreationTimestamp: stream.createdAt / 1000,
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: stream.encryption.type,
    ...(stream.encryption.type === "KMS" ? { KeyId: stream.encryption.keyId } : {}),
  };
}

function shardShape(shard: StoredShard) {
  return {
    ShardId: shardId(shard.index),
    ...(shard.parentIndex !== undefined ? { ParentShardId: shardId(shard.parentIndex) } : {}),
    ...(shard.adjacentParentIndex !== undefined
      ? { AdjacentParentShardId: shardId(shard.adjacentParentIndex) }
      : {}),
    HashKeyRange: { StartingHashKey: shard.startingHashKey, EndingHashKey: shard.endingHashKey },
    SequenceNumberRange: {
      StartingSequenceNumber: shard.startingSequenceNumber,
      ...(shard.endingSequenceNumber !== undefined
        ? { EndingSequenceNumber: shard.endingSequenceNumber }
        : {}),
    },
  };
}

function exclusiveStart(value: unknown): number {
  if (value === undefined || value === null) return -1;
  const index = typeof value === "string" ? shardIndexOf(value) : undefined;
  if (index === undefined) {
    throw validation(
      "exclusiveStartShardId",
      value,
      "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    );
  }
  return index;
}

/** Pagination tokens are opaque to clients: the kind and the position, base64-encoded. */
function encodeToken(kind: string, position: string): string {
  return Buffer.from(JSON.stringify([kind, position])).toString("base64");
}

function decodeToken(token: unknown, kind: string): string {
  try {
    const [tokenKind, position] = JSON.parse(Buffer.from(String(token), "base64").toString("utf8"));
    if (tokenKind === kind && typeof position === "string") return position;
  } catch {
    // answered below
  }
  throw invalidArgument(`Invalid NextToken: ${String(token).slice(0, 64)}`);
}
