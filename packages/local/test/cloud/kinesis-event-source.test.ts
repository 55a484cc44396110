import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
  UpdateShardCountCommand,
} from "@aws-sdk/client-kinesis";
import { loadEvent } from "@boarding-pass/testing";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { InvokeResult, LambdaInvoker } from "../../src/cloud/contracts";
import {
  type KinesisEventRecord,
  type KinesisEventSource,
  type KinesisOnFailureRecord,
  startKinesisEventSource,
} from "../../src/cloud/kinesis-event-source";
import { Bundles, testRuntime } from "../lambda/bundles";

const FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:consumer";

type Behaviour = (
  records: KinesisEventRecord[],
) => InvokeResult["ok"] | { batchItemFailures: { itemIdentifier: string }[] };

/** A function in the test: records every batch it is given and answers as `behaviour` says. */
function recordingInvoker(behaviour: Behaviour = () => true) {
  const batches: KinesisEventRecord[][] = [];
  const invoker: LambdaInvoker = {
    async invoke(name, event, options) {
      expect(name).toBe(FUNCTION_ARN);
      expect(options?.source).toBe("kinesis");
      const records = (event as { Records: KinesisEventRecord[] }).Records;
      batches.push(records);
      const requestId = randomUUID();
      const verdict = behaviour(records);
      if (verdict === false) {
        return {
          ok: false,
          errorType: "Error",
          errorMessage: "poison",
          requestId,
          durationMs: 1,
          timedOut: false,
        };
      }
      return { ok: true, payload: verdict === true ? null : verdict, requestId, durationMs: 1 };
    },
  };
  return { invoker, batches };
}

/** Bounded wait for an effect of the poller (the reshard is noticed when the parent closes). */
async function eventually(check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const text = (record: KinesisEventRecord) =>
  Buffer.from(record.kinesis.data, "base64").toString("utf8");

describe("Kinesis event source against the local plane's real stream", () => {
  const endpoint = inject("localAwsEndpoint");
  const kinesis = new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const sources: KinesisEventSource[] = [];
  let checkpointDir: string;

  beforeAll(() => {
    checkpointDir = mkdtempSync(join(tmpdir(), "kinesis-checkpoints-"));
  });
  afterAll(async () => {
    await Promise.all(sources.map((source) => source.stop()));
    kinesis.destroy();
    rmSync(checkpointDir, { recursive: true, force: true });
  });

  async function createStream(shards: number): Promise<string> {
    const name = `esm-${randomUUID()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return summary.StreamDescriptionSummary!.StreamARN!;
  }

  async function put(streamArn: string, entries: Array<[key: string, data: string]>) {
    const response = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamArn.split("/")[1],
        Records: entries.map(([key, data]) => ({ PartitionKey: key, Data: Buffer.from(data) })),
      }),
    );
    expect(response.FailedRecordCount ?? 0).toBe(0);
    return response.Records!.map((record) => record.SequenceNumber!);
  }

  async function start(
    options: Partial<Parameters<typeof startKinesisEventSource>[0]> & {
      streamArn: string;
      invoker: LambdaInvoker;
    },
  ) {
    const source = await startKinesisEventSource({
      endpoint,
      region: "us-east-1",
      functionArn: FUNCTION_ARN,
      startingPosition: "TRIM_HORIZON",
      batchSize: 10,
      pollIntervalMs: 50,
      retryBaseDelayMs: 5,
      ...options,
    });
    sources.push(source);
    return source;
  }

  it("delivers every record once, in order per partition key, in Lambda's event shape", async () => {
    // Arrange
    const streamArn = await createStream(2);
    const entries = Array.from(
      { length: 30 },
      (_, i) => [`user-${i % 3}`, `event-${i}`] as [string, string],
    );
    const [firstSequence] = await put(streamArn, entries);
    const { invoker, batches } = recordingInvoker();

    // Act
    const source = await start({
      streamArn,
      invoker,
      invokeIdentityArn: "arn:aws:iam::000000000000:role/consumer",
    });
    await source.idle();

    // Assess
    const delivered = batches.flat();
    expect(delivered).toHaveLength(30);
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(10);
    for (const key of ["user-0", "user-1", "user-2"]) {
      const expected = entries.filter(([k]) => k === key).map(([, data]) => data);
      expect(delivered.filter((record) => record.kinesis.partitionKey === key).map(text)).toEqual(
        expected,
      );
    }
    const first = delivered.find((record) => record.kinesis.sequenceNumber === firstSequence)!;
    expect(first).toEqual({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: "user-0",
        sequenceNumber: firstSequence,
        data: Buffer.from("event-0").toString("base64"),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: expect.stringMatching(new RegExp(`^shardId-\\d{12}:${firstSequence}$`)),
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::000000000000:role/consumer",
      awsRegion: "us-east-1",
      eventSourceARN: streamArn,
    });
    expect(first.kinesis.approximateArrivalTimestamp).toBeGreaterThan(Date.now() / 1000 - 600);
    // The same fields, no more and no fewer, as a real Kinesis batch (test/events/kinesis).
    const aws = loadEvent<KinesisStreamEvent>("kinesis", "records").Records[0]!;
    expect(Object.keys(first).sort()).toEqual(Object.keys(aws).sort());
    expect(Object.keys(first.kinesis).sort()).toEqual(Object.keys(aws.kinesis).sort());
  });

  it("with ReportBatchItemFailures, resumes from the lowest failed record and keeps those before it", async () => {
    // Arrange
    const streamArn = await createStream(1);
    const sequences = await put(
      streamArn,
      Array.from({ length: 6 }, (_, i) => ["k", `r${i}`] as [string, string]),
    );
    let failedOnce = false;
    const { invoker, batches } = recordingInvoker((records) => {
      const target = records.find((record) => text(record) === "r3");
      if (!target || failedOnce) return true;
      failedOnce = true;
      const r5 = records.find((record) => text(record) === "r5")!;
      // Reported out of order on purpose: Lambda takes the lowest.
      return {
        batchItemFailures: [
          { itemIdentifier: r5.kinesis.sequenceNumber },
          { itemIdentifier: target.kinesis.sequenceNumber },
        ],
      };
    });

    // Act
    const source = await start({ streamArn, invoker, reportBatchItemFailures: true });
    await source.idle();

    // Assess
    expect(batches.map((batch) => batch.map(text))).toEqual([
      ["r0", "r1", "r2", "r3", "r4", "r5"],
      ["r3", "r4", "r5"],
    ]);
    expect(batches[1]![0]!.kinesis.sequenceNumber).toBe(sequences[3]);
  });

  it("bisects a batch around a poison record, sends only that record to on-failure, and moves on", async () => {
    // Arrange
    const streamArn = await createStream(1);
    const data = ["a", "b", "c", "poison", "d", "e", "f", "g"];
    const sequences = await put(
      streamArn,
      data.map((item) => ["k", item] as [string, string]),
    );
    const failures: KinesisOnFailureRecord[] = [];
    const { invoker, batches } = recordingInvoker(
      (records) => !records.some((record) => text(record) === "poison"),
    );

    // Act
    const source = await start({
      streamArn,
      invoker,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
      onFailure: async (record) => {
        failures.push(record);
      },
    });
    await source.idle();

    // Assess
    const succeeded = batches.filter((batch) => !batch.some((record) => text(record) === "poison"));
    expect(succeeded.flat().map(text)).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    // 8 → 4 → 2 → 1 (three failing invokes while bisecting), then two retries of the single record.
    const poisonCalls = batches.filter((batch) =>
      batch.some((record) => text(record) === "poison"),
    );
    expect(poisonCalls.map((batch) => batch.length)).toEqual([8, 4, 2, 1, 1, 1]);
    expect(failures).toEqual([
      {
        requestContext: {
          requestId: expect.any(String),
          functionArn: FUNCTION_ARN,
          condition: "RetryAttemptsExhausted",
          approximateInvokeCount: 6,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: "$LATEST",
          functionError: "Unhandled",
        },
        version: "1.0",
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        KinesisBatchInfo: {
          shardId: "shardId-000000000000",
          startSequenceNumber: sequences[3],
          endSequenceNumber: sequences[3],
          approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
          approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
          batchSize: 1,
          streamArn,
        },
      },
    ]);
  });

  it("sends records older than the maximum record age to on-failure without invoking", async () => {
    // Arrange
    const streamArn = await createStream(1);
    await put(streamArn, [
      ["k", "old-1"],
      ["k", "old-2"],
    ]);
    const failures: KinesisOnFailureRecord[] = [];
    const { invoker, batches } = recordingInvoker();
    // Bounded wait so that both records are certainly older than one second.
    await new Promise((resolve) => setTimeout(resolve, 1200));

    // Act
    const source = await start({
      streamArn,
      invoker,
      maximumRecordAgeInSeconds: 1,
      onFailure: async (record) => {
        failures.push(record);
      },
    });
    await source.idle();

    // Assess
    expect(batches).toEqual([]);
    expect(
      failures.map((failure) => [
        failure.requestContext.condition,
        failure.KinesisBatchInfo.batchSize,
      ]),
    ).toEqual([["RecordAgeExceeded", 2]]);
  });

  it("resumes after the last finished batch when restarted with the same checkpoint directory", async () => {
    // Arrange
    const streamArn = await createStream(1);
    await put(streamArn, [
      ["k", "before-1"],
      ["k", "before-2"],
    ]);
    const first = recordingInvoker();
    const before = await start({ streamArn, invoker: first.invoker, checkpointDir });
    await before.idle();
    await before.stop();
    await put(streamArn, [["k", "after-1"]]);

    // Act
    const second = recordingInvoker();
    const after = await start({ streamArn, invoker: second.invoker, checkpointDir });
    await after.idle();

    // Assess
    expect(first.batches.flat().map(text)).toEqual(["before-1", "before-2"]);
    expect(second.batches.flat().map(text)).toEqual(["after-1"]);
  });

  it("after a reshard, delivers a key's records from the parent shard before its child's", async () => {
    // Arrange
    const streamArn = await createStream(1);
    const { invoker, batches } = recordingInvoker();
    // LATEST: the children must still be read from their start, or "after-*" would be skipped.
    const source = await start({ streamArn, invoker, startingPosition: "LATEST" });
    await source.idle(); // its LATEST iterator is taken before anything is written
    await put(streamArn, [
      ["k", "before-1"],
      ["k", "before-2"],
    ]);
    await kinesis.send(
      new UpdateShardCountCommand({
        StreamName: streamArn.split("/")[1],
        TargetShardCount: 2,
        ScalingType: "UNIFORM_SCALING",
      }),
    );

    // Act
    await put(streamArn, [
      ["k", "after-1"],
      ["k", "after-2"],
    ]);
    await eventually(() => batches.flat().length >= 4);
    await source.idle();

    // Assess
    expect(batches.flat().map(text)).toEqual(["before-1", "before-2", "after-1", "after-2"]);
    expect(new Set(batches.flat().map((record) => record.eventID.split(":")[0])).size).toBe(2);
  });

  it("drives a bundled handler in the Lambda runtime, which reports a partial batch failure", async () => {
    // Arrange
    const streamArn = await createStream(1);
    await put(streamArn, [
      ["k", "ok-1"],
      ["k", "bad"],
      ["k", "ok-2"],
    ]);
    const bundles = new Bundles();
    const runtime = testRuntime();
    const fn = bundles.fn(
      "consumer",
      `const seen = new Set();
export const handler = async (event) => {
  const failures = [];
  for (const record of event.Records) {
    const data = Buffer.from(record.kinesis.data, "base64").toString("utf8");
    console.log("record", data);
    if (data === "bad" && !seen.has(record.kinesis.sequenceNumber)) {
      seen.add(record.kinesis.sequenceNumber);
      failures.push({ itemIdentifier: record.kinesis.sequenceNumber });
    }
  }
  return { batchItemFailures: failures };
};`,
    );
    runtime.register(fn);

    try {
      // Act
      const source = await start({
        streamArn,
        invoker: runtime,
        functionArn: fn.arn,
        reportBatchItemFailures: true,
      });
      await source.idle();
      await source.stop();

      // Assess
      const calls = runtime.invocations({ functionName: "consumer" }).reverse();
      expect(calls.map((call) => [call.source, call.ok])).toEqual([
        ["kinesis", true],
        ["kinesis", true],
      ]);
      const logged = calls.map((call) =>
        call.logs
          .filter((line) => line.includes("\tINFO\trecord "))
          .map((line) => line.split("record ")[1]),
      );
      expect(logged).toEqual([
        ["ok-1", "bad", "ok-2"],
        ["bad", "ok-2"],
      ]);
    } finally {
      await runtime.close();
      bundles.cleanup();
    }
  });
});
