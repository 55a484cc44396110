/**
 * A Lambda event-source mapping for a Kinesis stream: polls every shard of the stream through
 * the plane's real Kinesis API (an unmodified SDK v3 client), one batch in flight per shard so
 * records of a partition key arrive in order, and applies Lambda's failure handling: bisect on
 * function error, `ReportBatchItemFailures` (resume from the lowest failed sequence number), a
 * retry cap, a maximum record age, then an AWS-shaped on-failure record and the next records
 * ("Retain discarded batch records for a Kinesis Data Streams event source in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
 *
 * Progress is checkpointed per shard (the last sequence number handled, successfully or sent to
 * on-failure) under `checkpointDir`, written then renamed, so a restart resumes after the last
 * finished batch: a batch in flight at a crash is delivered again (at-least-once).
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import type { InvokeResult, LambdaInvoker } from "./contracts";

type StartingPosition = "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP";

interface KinesisEventSourceOptions {
  /** The plane's endpoint (a client is made for it), or a ready client. */
  endpoint?: string;
  kinesis?: KinesisClient;
  region: string;
  streamArn: string;
  functionArn: string;
  invoker: LambdaInvoker;
  /** Records per invocation; Lambda's default is 100, at most 10,000. */
  batchSize?: number;
  startingPosition: StartingPosition;
  startingPositionTimestamp?: Date;
  /** Wait up to this long to fill a batch (default 0: invoke with what one poll returns). */
  maximumBatchingWindowSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
  /** -1 (Lambda's default) retries until the records expire. */
  maximumRetryAttempts?: number;
  /** -1 (Lambda's default) keeps records until the stream trims them. */
  maximumRecordAgeInSeconds?: number;
  reportBatchItemFailures?: boolean;
  /** The on-failure destination; a record it refuses three times is logged and dropped. */
  onFailure?: (record: KinesisOnFailureRecord) => Promise<void>;
  checkpointDir?: string;
  /** The execution role shown as `invokeIdentityArn` in each record. */
  invokeIdentityArn?: string;
  /** Pause of a caught-up shard before its next GetRecords; Lambda polls once a second. */
  pollIntervalMs?: number;
  /** First delay before retrying a failed batch, doubled each retry up to 30 s; default 500 ms. */
  retryBaseDelayMs?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: "1.0";
    partitionKey: string;
    sequenceNumber: string;
    data: string;
    approximateArrivalTimestamp: number;
  };
  eventSource: "aws:kinesis";
  eventVersion: "1.0";
  eventID: string;
  eventName: "aws:kinesis:record";
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

type FailureCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

export interface KinesisOnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: FailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: "1.0";
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface KinesisEventSource {
  /** Stops polling; resolves once every shard's batch in flight has finished. */
  stop(): Promise<void>;
  /**
   * Resolves once every shard has been read up to the end of the stream by a poll that started
   * after this call, with nothing left to deliver (bounded by `timeoutMs`, default 30 s).
   */
  idle(timeoutMs?: number): Promise<void>;
}

const MAX_RETRY_DELAY_MS = 30_000;
const SHARD_REFRESH_MS = 10_000;
const ON_FAILURE_ATTEMPTS = 3;

/** A run of consecutive records of one shard with its retry state. */
interface Batch {
  records: KinesisRecord[];
  /** Retries already spent on these records (bisecting does not count, as in Lambda). */
  retries: number;
  invokeCount: number;
  lastResponse?: InvokeResult;
}

interface ShardState {
  shard: Shard;
  done: Promise<void>;
  /** Start time of the latest poll that found the shard drained; 0 while there is work. */
  drainedPollStartedAt: number;
  closed: boolean;
  /** Found after start (a reshard's child): read from its first record, whatever the mapping's
   * starting position, as Lambda does, so nothing written to it before it was seen is skipped. */
  fromTrimHorizon: boolean;
}

function streamNameOf(streamArn: string): string {
  const match = /^arn:aws[a-zA-Z-]*:kinesis:[^:]*:\d{12}:stream\/(.+)$/.exec(streamArn);
  if (!match?.[1]) throw new Error(`Not a Kinesis stream ARN: ${streamArn}`);
  return match[1];
}

function toEventRecord(
  record: KinesisRecord,
  shardId: string,
  context: { region: string; streamArn: string; invokeIdentityArn: string },
): KinesisEventRecord {
  const arrival = record.ApproximateArrivalTimestamp ?? new Date();
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: record.PartitionKey ?? "",
      sequenceNumber: record.SequenceNumber ?? "",
      data: Buffer.from(record.Data ?? new Uint8Array()).toString("base64"),
      approximateArrivalTimestamp: arrival.getTime() / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: context.invokeIdentityArn,
    awsRegion: context.region,
    eventSourceARN: context.streamArn,
  };
}

/**
 * What a response with `ReportBatchItemFailures` asks for: `success`, a retry from the lowest
 * failed record (`retryFrom`), or `all` (an identifier Lambda cannot use fails the whole batch).
 */
function partialFailure(
  payload: unknown,
  records: KinesisRecord[],
): { kind: "success" } | { kind: "all" } | { kind: "retryFrom"; index: number } {
  if (payload === null || payload === undefined || typeof payload !== "object") {
    return { kind: "success" };
  }
  const failures = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: "success" };
  if (!Array.isArray(failures)) return { kind: "all" };
  if (failures.length === 0) return { kind: "success" };
  let lowest: number | undefined;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index =
      typeof id === "string" && id !== ""
        ? records.findIndex((record) => record.SequenceNumber === id)
        : -1;
    if (index < 0) return { kind: "all" };
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return { kind: "retryFrom", index: lowest ?? 0 };
}

/** Per-shard positions of one mapping (stream + function), in one small JSON file. */
class Checkpoints {
  private readonly file: string | undefined;
  private positions: Record<string, string> = {};
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string | undefined,
    private readonly streamArn: string,
    private readonly functionArn: string,
  ) {
    const key = createHash("sha256").update(`${streamArn}\n${functionArn}`).digest("hex");
    this.file = dir ? join(dir, `kinesis-${key.slice(0, 20)}.json`) : undefined;
  }

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const saved = JSON.parse(await readFile(this.file, "utf8")) as {
        shards?: Record<string, string>;
      };
      this.positions = saved.shards ?? {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  get(shardId: string): string | undefined {
    return this.positions[shardId];
  }

  /** Written then renamed (and fsynced), one write at a time, in call order. */
  set(shardId: string, sequenceNumber: string): Promise<void> {
    this.positions[shardId] = sequenceNumber;
    const file = this.file;
    const dir = this.dir;
    if (!file || !dir) return Promise.resolve();
    const { streamArn, functionArn } = this;
    const body = JSON.stringify({ streamArn, functionArn, shards: this.positions });
    this.writing = this.writing.then(async () => {
      await mkdir(dir, { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      const handle = await open(temporary, "w");
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    });
    return this.writing;
  }
}

export async function startKinesisEventSource(
  options: KinesisEventSourceOptions,
): Promise<KinesisEventSource> {
  const streamName = streamNameOf(options.streamArn);
  const ownClient = !options.kinesis;
  const kinesis =
    options.kinesis ??
    new KinesisClient({
      region: options.region,
      endpoint: options.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 100, 10_000));
  const windowMs = (options.maximumBatchingWindowSeconds ?? 0) * 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
  const maxRetries = options.maximumRetryAttempts ?? -1;
  const maxAgeMs = (options.maximumRecordAgeInSeconds ?? -1) * 1000;
  const recordContext = {
    region: options.region,
    streamArn: options.streamArn,
    invokeIdentityArn:
      options.invokeIdentityArn ?? `arn:aws:iam::${options.streamArn.split(":")[4]}:role/local`,
  };
  const log = options.log ?? (() => undefined);
  const checkpoints = new Checkpoints(
    options.checkpointDir,
    options.streamArn,
    options.functionArn,
  );
  await checkpoints.load();

  const shards = new Map<string, ShardState>();
  let stopping = false;
  const wakers = new Map<() => void, "poll" | "backoff">();
  let lastShardRefresh = 0;

  /**
   * A pause that `stop()` cuts short; `idle()` also cuts short the pauses of caught-up shards
   * (`poll`), never a retry's backoff.
   */
  function pause(ms: number, kind: "poll" | "backoff"): Promise<void> {
    if (stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.set(wake, kind);
    });
  }
  function wake(kinds: Array<"poll" | "backoff">) {
    for (const [waker, kind] of [...wakers]) if (kinds.includes(kind)) waker();
  }

  async function listShards(): Promise<Shard[]> {
    const all: Shard[] = [];
    let token: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const response = await kinesis.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }),
      );
      all.push(...(response.Shards ?? []));
      token = response.NextToken;
      if (!token) break;
    }
    lastShardRefresh = Date.now();
    return all;
  }

  function track(shard: Shard, fromTrimHorizon: boolean) {
    const shardId = shard.ShardId!;
    if (shards.has(shardId)) return;
    const parents = [shard.ParentShardId, shard.AdjacentParentShardId]
      .map((id) => (id ? shards.get(id) : undefined))
      .filter((parent): parent is ShardState => parent !== undefined);
    const state: ShardState = {
      shard,
      drainedPollStartedAt: 0,
      closed: false,
      fromTrimHorizon,
      done: Promise.resolve(),
    };
    // After a reshard, a child's records follow its parents': finish the parents first.
    state.done = Promise.all(parents.map((parent) => parent.done)).then(() => pollShard(state));
    shards.set(shardId, state);
  }

  async function refreshShards() {
    try {
      for (const shard of await listShards()) track(shard, true);
    } catch (error) {
      log("listing shards failed", { error: String(error) });
    }
  }

  async function iteratorFor(state: ShardState): Promise<string | undefined> {
    const shardId = state.shard.ShardId!;
    const after = checkpoints.get(shardId);
    const type: ShardIteratorType = after
      ? "AFTER_SEQUENCE_NUMBER"
      : state.fromTrimHorizon
        ? "TRIM_HORIZON"
        : (options.startingPosition as ShardIteratorType);
    const response = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(after ? { StartingSequenceNumber: after } : {}),
        ...(type === "AT_TIMESTAMP" ? { Timestamp: options.startingPositionTimestamp } : {}),
      }),
    );
    return response.ShardIterator;
  }

  async function pollShard(state: ShardState): Promise<void> {
    const shardId = state.shard.ShardId!;
    let iterator: string | undefined;
    let failures = 0;
    while (!stopping) {
      const pollStartedAt = Date.now();
      try {
        iterator ??= await iteratorFor(state);
        if (!iterator) {
          state.closed = true;
          state.drainedPollStartedAt = pollStartedAt;
          return;
        }
        const read = await readBatch(iterator);
        iterator = read.next;
        failures = 0;
        if (read.records.length > 0) {
          state.drainedPollStartedAt = 0;
          await deliver(shardId, read.records);
        }
        if (!iterator) {
          // A closed shard (after a reshard) is finished once its last records are delivered;
          // its children are listed now rather than at the next periodic refresh.
          await refreshShards();
          state.closed = true;
          state.drainedPollStartedAt = pollStartedAt;
          return;
        }
        if (read.records.length === 0 && read.caughtUp) {
          state.drainedPollStartedAt = pollStartedAt;
          if (Date.now() - lastShardRefresh > SHARD_REFRESH_MS) void refreshShards();
          await pause(pollIntervalMs, "poll");
        }
      } catch (error) {
        // Expired iterators, a restarted plane, a deleted stream: start again from the checkpoint.
        iterator = undefined;
        failures++;
        if (!(error instanceof ExpiredIteratorException)) {
          log("polling failed", { shardId, error: String(error) });
        }
        await pause(
          Math.min(retryBaseDelayMs * 2 ** Math.min(failures, 10), MAX_RETRY_DELAY_MS),
          "backoff",
        );
      }
    }
  }

  /** Up to `batchSize` records, waiting up to the batching window to fill the batch. */
  async function readBatch(
    iterator: string,
  ): Promise<{ records: KinesisRecord[]; next: string | undefined; caughtUp: boolean }> {
    const records: KinesisRecord[] = [];
    let next: string | undefined = iterator;
    let caughtUp = false;
    const windowEnds = Date.now() + windowMs;
    for (let polls = 0; next && records.length < batchSize && polls < 10_000; polls++) {
      const response: GetRecordsCommandOutput = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: next, Limit: batchSize - records.length }),
      );
      records.push(...(response.Records ?? []));
      next = response.NextShardIterator;
      caughtUp = (response.MillisBehindLatest ?? 0) === 0;
      const remaining = windowEnds - Date.now();
      if (windowMs === 0 || remaining <= 0 || stopping) break;
      if (caughtUp) await pause(Math.min(pollIntervalMs, remaining), "poll");
    }
    return { records, next, caughtUp };
  }

  /** Handles one polled batch to the end: success, or retried and bisected, or sent on. */
  async function deliver(shardId: string, records: KinesisRecord[]) {
    const queue: Batch[] = [{ records, retries: 0, invokeCount: 0 }];
    for (let steps = 0; queue.length > 0 && steps < 1_000_000; steps++) {
      if (stopping) return; // not checkpointed: delivered again after a restart
      const batch = queue[0]!;
      const expired = maxAgeMs >= 0 ? countExpired(batch.records) : 0;
      if (expired > 0) {
        // Lambda drops records past the maximum age before invoking, and reports them.
        await sendOnFailure(
          shardId,
          { ...batch, records: batch.records.slice(0, expired) },
          "RecordAgeExceeded",
        );
        await checkpoints.set(shardId, batch.records[expired - 1]!.SequenceNumber!);
        batch.records = batch.records.slice(expired);
        if (batch.records.length === 0) queue.shift();
        continue;
      }
      const Records = batch.records.map((record) => toEventRecord(record, shardId, recordContext));
      const result = await options.invoker.invoke(
        options.functionArn,
        { Records },
        { source: "kinesis" },
      );
      batch.invokeCount++;
      batch.lastResponse = result;
      if (stopping && !result.ok) return;

      let retryFrom: number | undefined;
      if (!result.ok) {
        if (options.bisectBatchOnFunctionError && batch.records.length > 1) {
          const half = Math.ceil(batch.records.length / 2);
          queue.splice(
            0,
            1,
            { ...batch, records: batch.records.slice(0, half) },
            { ...batch, records: batch.records.slice(half) },
          );
          continue;
        }
        retryFrom = 0;
      } else if (options.reportBatchItemFailures) {
        const verdict = partialFailure(result.payload, batch.records);
        if (verdict.kind === "all") retryFrom = 0;
        if (verdict.kind === "retryFrom") retryFrom = verdict.index;
      }

      if (retryFrom === undefined) {
        await checkpoints.set(shardId, batch.records.at(-1)!.SequenceNumber!);
        queue.shift();
        continue;
      }
      if (retryFrom > 0) {
        // Everything before the lowest failed record succeeded: move past it for good.
        await checkpoints.set(shardId, batch.records[retryFrom - 1]!.SequenceNumber!);
        batch.records = batch.records.slice(retryFrom);
      }
      if (maxRetries >= 0 && batch.retries >= maxRetries) {
        await sendOnFailure(shardId, batch, "RetryAttemptsExhausted");
        await checkpoints.set(shardId, batch.records.at(-1)!.SequenceNumber!);
        queue.shift();
        continue;
      }
      batch.retries++;
      await pause(
        Math.min(retryBaseDelayMs * 2 ** (batch.retries - 1), MAX_RETRY_DELAY_MS),
        "backoff",
      );
    }
  }

  function countExpired(records: KinesisRecord[]): number {
    const oldest = Date.now() - maxAgeMs;
    let count = 0;
    while (
      count < records.length &&
      (records[count]!.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) < oldest
    ) {
      count++;
    }
    return count;
  }

  async function sendOnFailure(shardId: string, batch: Batch, condition: FailureCondition) {
    const first = batch.records[0]!;
    const last = batch.records.at(-1)!;
    const response = batch.lastResponse;
    const record: KinesisOnFailureRecord = {
      requestContext: {
        requestId: response?.requestId ?? randomUUID(),
        functionArn: options.functionArn,
        condition,
        approximateInvokeCount: batch.invokeCount,
      },
      responseContext: {
        statusCode:
          response && !response.ok && response.errorType === "TooManyRequestsException" ? 429 : 200,
        executedVersion: "$LATEST",
        ...(response && !response.ok ? { functionError: "Unhandled" } : {}),
      },
      version: "1.0",
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.SequenceNumber!,
        endSequenceNumber: last.SequenceNumber!,
        approximateArrivalOfFirstRecord: (
          first.ApproximateArrivalTimestamp ?? new Date()
        ).toISOString(),
        approximateArrivalOfLastRecord: (
          last.ApproximateArrivalTimestamp ?? new Date()
        ).toISOString(),
        batchSize: batch.records.length,
        streamArn: options.streamArn,
      },
    };
    log("batch sent to on-failure", { shardId, condition, batchSize: batch.records.length });
    if (!options.onFailure) return;
    for (let attempt = 1; attempt <= ON_FAILURE_ATTEMPTS; attempt++) {
      try {
        await options.onFailure(record);
        return;
      } catch (error) {
        if (attempt === ON_FAILURE_ATTEMPTS) {
          log("on-failure destination refused the record; dropped", {
            error: String(error),
            record,
          });
        } else {
          await pause(retryBaseDelayMs * attempt, "backoff");
        }
      }
    }
  }

  for (const shard of await listShards()) track(shard, false);

  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      wake(["poll", "backoff"]);
      await Promise.all([...shards.values()].map((state) => state.done.catch(() => undefined)));
      if (ownClient) kinesis.destroy();
    },
    async idle(timeoutMs = 30_000) {
      const since = Date.now();
      wake(["poll"]);
      const deadline = since + timeoutMs;
      for (;;) {
        const states = [...shards.values()];
        if (states.every((state) => state.closed || state.drainedPollStartedAt > since)) return;
        if (stopping) return;
        if (Date.now() > deadline)
          throw new Error(`Kinesis event source not idle after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        wake(["poll"]);
      }
    },
  };
}
