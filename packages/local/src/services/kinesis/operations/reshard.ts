/**
 * Resharding: SplitShard, MergeShards and UpdateShardCount (UNIFORM_SCALING), done at once. A
 * closed parent keeps its records; its children start above its last sequence number and name it
 * as ParentShardId/AdjacentParentShardId, so consumers finish a parent before its children
 * (https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-after-resharding.html).
 */
import { AwsServiceError } from "../../../protocol/errors";
import {
  invalidArgument,
  MAX_HASH_KEY,
  type StoredShard,
  type StoredStream,
  sequenceNumber,
  shardIndexOf,
  streamArn,
  validation,
} from "../model";
import { type Body, HASH_KEY, optionalInteger, requiredString, streamNameOf } from "./input";
import { type OperationContext, openShards } from "./streams";

/** The changes of one reshard, planned on a copy and journaled as one record. */
class ReshardPlan {
  counter: number;
  readonly close: { shard: number; endingSequenceNumber: string }[] = [];
  readonly open: StoredShard[] = [];
  #nextIndex: number;

  constructor(readonly stream: StoredStream) {
    this.counter = stream.counter;
    this.#nextIndex = stream.shards.length;
  }

  /** The shards open after the changes planned so far, in hash key order. */
  openShards(): StoredShard[] {
    const closed = new Set(this.close.map((entry) => entry.shard));
    return [...openShards(this.stream).filter((shard) => !closed.has(shard.index)), ...this.open]
      .filter((shard) => shard.endingSequenceNumber === undefined)
      .sort((a, b) => (BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? -1 : 1));
  }

  split(parent: StoredShard, newStartingHashKey: bigint): void {
    this.#retire([parent]);
    this.#create(parent.startingHashKey, (newStartingHashKey - 1n).toString(), parent.index);
    this.#create(newStartingHashKey.toString(), parent.endingHashKey, parent.index);
  }

  merge(shard: StoredShard, adjacent: StoredShard): void {
    const [low, high] =
      BigInt(shard.startingHashKey) < BigInt(adjacent.startingHashKey)
        ? [shard, adjacent]
        : [adjacent, shard];
    this.#retire([shard, adjacent]);
    this.#create(low.startingHashKey, high.endingHashKey, shard.index, adjacent.index);
  }

  commit(ctx: OperationContext): void {
    const { region, name } = this.stream;
    ctx.state.commit({
      op: "reshard",
      region,
      name,
      counter: this.counter,
      close: this.close,
      open: this.open,
    });
  }

  /** Closes shards at the current counter: every record they hold is at or below the end. */
  #retire(shards: StoredShard[]): void {
    this.counter++;
    for (const shard of shards) {
      const endingSequenceNumber = sequenceNumber(this.stream, this.counter, shard.index);
      const planned = this.open.find((created) => created.index === shard.index);
      if (planned) planned.endingSequenceNumber = endingSequenceNumber;
      else this.close.push({ shard: shard.index, endingSequenceNumber });
    }
  }

  #create(start: string, end: string, parentIndex: number, adjacentParentIndex?: number): void {
    const index = this.#nextIndex++;
    this.open.push({
      index,
      parentIndex,
      ...(adjacentParentIndex !== undefined ? { adjacentParentIndex } : {}),
      startingHashKey: start,
      endingHashKey: end,
      startingSequenceNumber: sequenceNumber(this.stream, this.counter, index),
      records: [],
    });
  }
}

function openShardNamed(stream: StoredStream, body: Body, member: string): StoredShard {
  const id = requiredString(body, member, { max: 128 });
  const index = shardIndexOf(id);
  const shard = index === undefined ? undefined : stream.shards[index];
  if (!shard) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `Could not find shard ${id} in stream ${stream.name} under account 000000000000.`,
    );
  }
  if (shard.endingSequenceNumber !== undefined) {
    throw new AwsServiceError(
      "ResourceInUseException",
      `Shard ${id} in stream ${stream.name} under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.`,
    );
  }
  return shard;
}

export function splitShard(ctx: OperationContext, body: Body): undefined {
  const stream = ctx.state.get(ctx.region, streamNameOf(body, ctx.region));
  const shard = openShardNamed(stream, body, "ShardToSplit");
  const key = BigInt(requiredString(body, "NewStartingHashKey", { max: 39, pattern: HASH_KEY }));
  if (key <= BigInt(shard.startingHashKey) || key > BigInt(shard.endingHashKey)) {
    throw invalidArgument(
      `NewStartingHashKey ${key} used in SplitShard() on shard ${body.ShardToSplit} in stream ${stream.name} under account 000000000000 is not both greater than one plus the shard's StartingHashKey ${shard.startingHashKey} and less than the shard's EndingHashKey ${shard.endingHashKey}.`,
    );
  }
  const plan = new ReshardPlan(stream);
  plan.split(shard, key);
  plan.commit(ctx);
  return undefined;
}

export function mergeShards(ctx: OperationContext, body: Body): undefined {
  const stream = ctx.state.get(ctx.region, streamNameOf(body, ctx.region));
  const shard = openShardNamed(stream, body, "ShardToMerge");
  const adjacent = openShardNamed(stream, body, "AdjacentShardToMerge");
  const touching =
    BigInt(shard.endingHashKey) + 1n === BigInt(adjacent.startingHashKey) ||
    BigInt(adjacent.endingHashKey) + 1n === BigInt(shard.startingHashKey);
  if (!touching) {
    throw invalidArgument(
      `Shards ${body.ShardToMerge} and ${body.AdjacentShardToMerge} in stream ${stream.name} under account 000000000000 are not an adjacent pair of shards eligible for merging`,
    );
  }
  const plan = new ReshardPlan(stream);
  plan.merge(shard, adjacent);
  plan.commit(ctx);
  return undefined;
}

/**
 * UNIFORM_SCALING by splits and merges, as Kinesis does it: up, the widest open shard is split in
 * half until there are enough; down, the narrowest adjacent pair is merged. Kinesis allows at most
 * double or half the current open shard count in one call.
 */
export function updateShardCount(ctx: OperationContext, body: Body) {
  const stream = ctx.state.get(ctx.region, streamNameOf(body, ctx.region));
  const target = optionalInteger(body, "TargetShardCount", 1, 10_000);
  if (target === undefined) throw validation("targetShardCount", target, "Member must not be null");
  if (body.ScalingType !== "UNIFORM_SCALING") {
    throw validation(
      "scalingType",
      body.ScalingType,
      "Member must satisfy enum value set: [UNIFORM_SCALING]",
    );
  }
  if (stream.mode === "ON_DEMAND") {
    throw invalidArgument(
      `UpdateShardCount is not supported for stream ${stream.name} in ON_DEMAND mode.`,
    );
  }
  const current = openShards(stream).length;
  if (target > current * 2 || target * 2 < current) {
    throw new AwsServiceError(
      "LimitExceededException",
      `UpdateShardCount cannot scale above double or below half the current open shard count (${current}) of stream ${stream.name}; requested ${target}.`,
    );
  }
  const plan = new ReshardPlan(stream);
  const width = (shard: StoredShard) => BigInt(shard.endingHashKey) - BigInt(shard.startingHashKey);
  for (let open = plan.openShards(); open.length < target; open = plan.openShards()) {
    const widest = open.reduce((best, shard) => (width(shard) > width(best) ? shard : best));
    plan.split(widest, BigInt(widest.startingHashKey) + (width(widest) + 1n) / 2n);
  }
  for (let open = plan.openShards(); open.length > target; open = plan.openShards()) {
    let pair = 0;
    for (let i = 1; i < open.length - 1; i++) {
      if (width(open[i]!) + width(open[i + 1]!) < width(open[pair]!) + width(open[pair + 1]!))
        pair = i;
    }
    plan.merge(open[pair]!, open[pair + 1]!);
  }
  // Sanity of the plan before it is kept: the open shards still cover every hash key once.
  const covered = plan.openShards();
  const contiguous = covered.every(
    (shard, i) =>
      i === 0 || BigInt(covered[i - 1]!.endingHashKey) + 1n === BigInt(shard.startingHashKey),
  );
  if (
    !contiguous ||
    covered[0]?.startingHashKey !== "0" ||
    covered.at(-1)?.endingHashKey !== MAX_HASH_KEY.toString()
  ) {
    throw new AwsServiceError("InternalFailure", "Resharding would leave hash keys uncovered", {
      status: 500,
    });
  }
  if (plan.open.length > 0) plan.commit(ctx);
  return {
    StreamName: stream.name,
    StreamARN: streamArn(stream.region, stream.name),
    CurrentShardCount: current,
    TargetShardCount: target,
  };
}
