/**
 * The emulated Kinesis (services/kinesis) through the real SDK client: iterators, resharding,
 * stream settings, AWS's error classes, bad input that must change nothing, and the journal
 * (replay and compaction keep every acknowledged record with its sequence number).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type ShardIteratorType,
  SplitShardCommand,
  StartStreamEncryptionCommand,
  ValidationException,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKinesisService, type KinesisService } from "../../src/services/kinesis";
import { clientConfig, type Served, serve } from "./serve";

let clock = Date.parse("2026-12-01T10:00:00Z");
let dataDir: string;
let service: KinesisService;
let served: Served;
let kinesis: KinesisClient;

async function open(options: { compactAfter?: number } = {}) {
  service = createKinesisService({ region: "us-east-1", dataDir, now: () => clock, ...options });
  served = await serve(service);
  // The served test endpoint speaks HTTP/1.1 only (the edge's h2c is covered by kinesis.test.ts).
  kinesis = new KinesisClient({
    ...clientConfig(served.endpoint),
    requestHandler: new NodeHttpHandler(),
  });
}

async function shutdown() {
  kinesis.destroy();
  await served.close();
  await service.close();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-kinesis-"));
  await open();
});
afterAll(async () => {
  await shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});
afterEach(() => {
  clock += 1_000;
});

async function createStream(shards: number): Promise<string> {
  const name = `s-${crypto.randomUUID()}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  return name;
}

async function put(stream: string, key: string, data: string) {
  return kinesis.send(
    new PutRecordCommand({ StreamName: stream, PartitionKey: key, Data: Buffer.from(data) }),
  );
}

async function iterator(
  stream: string,
  type: ShardIteratorType,
  extra: { StartingSequenceNumber?: string; Timestamp?: Date; ShardId?: string } = {},
) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: "shardId-000000000000",
      ShardIteratorType: type,
      ...extra,
    }),
  );
  return ShardIterator!;
}

async function read(shardIterator: string) {
  const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: shardIterator }));
  return {
    data: (response.Records ?? []).map((record) => Buffer.from(record.Data!).toString()),
    response,
  };
}

describe("shard iterators", () => {
  it("read from the right place for each iterator type", async () => {
    // Prepare
    const stream = await createStream(1);
    const first = await put(stream, "k", "one");
    clock += 10_000;
    const second = await put(stream, "k", "two");
    const latest = await iterator(stream, "LATEST");
    await put(stream, "k", "three");

    // Act
    const reads = {
      trimHorizon: (await read(await iterator(stream, "TRIM_HORIZON"))).data,
      latest: (await read(latest)).data,
      at: (
        await read(
          await iterator(stream, "AT_SEQUENCE_NUMBER", {
            StartingSequenceNumber: second.SequenceNumber,
          }),
        )
      ).data,
      after: (
        await read(
          await iterator(stream, "AFTER_SEQUENCE_NUMBER", {
            StartingSequenceNumber: first.SequenceNumber,
          }),
        )
      ).data,
      atTimestamp: (
        await read(await iterator(stream, "AT_TIMESTAMP", { Timestamp: new Date(clock - 5_000) }))
      ).data,
    };

    // Assess
    expect(reads).toEqual({
      trimHorizon: ["one", "two", "three"],
      latest: ["three"],
      at: ["two", "three"],
      after: ["two", "three"],
      atTimestamp: ["two", "three"],
    });
    expect(BigInt(second.SequenceNumber!)).toBeGreaterThan(BigInt(first.SequenceNumber!));
    expect(first.SequenceNumber).toMatch(/^\d{56}$/);
  });

  it("pages with Limit and reports caught up with MillisBehindLatest 0", async () => {
    const stream = await createStream(1);
    for (const data of ["a", "b", "c"]) await put(stream, "k", data);

    const page = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: await iterator(stream, "TRIM_HORIZON"), Limit: 2 }),
    );
    const rest = await read(page.NextShardIterator!);

    expect(page.Records?.map((record) => Buffer.from(record.Data!).toString())).toEqual(["a", "b"]);
    expect(page.MillisBehindLatest).toBeGreaterThan(0);
    expect(rest.data).toEqual(["c"]);
    expect(rest.response.MillisBehindLatest).toBe(0);
    expect(rest.response.NextShardIterator).toBeDefined();
  });

  it("expire five minutes after they are handed out (ExpiredIteratorException)", async () => {
    const stream = await createStream(1);
    const shardIterator = await iterator(stream, "TRIM_HORIZON");
    clock += 5 * 60_000 + 1;

    await expect(read(shardIterator)).rejects.toBeInstanceOf(ExpiredIteratorException);
  });

  it("refuse a forged iterator, and one of a stream deleted and created again under its name", async () => {
    // Prepare
    const stream = await createStream(1);
    const stale = await iterator(stream, "TRIM_HORIZON");
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream }));
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await put(stream, "k", "the new stream's record");
    const forged = Buffer.from(JSON.stringify([1, "us-east-1", stream, 0, 0, "0", clock])).toString(
      "base64",
    );

    // Act + Assess
    await expect(read("not-an-iterator")).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(read(stale)).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(read(forged)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("refuse a sequence number of another shard, and a shard the stream does not have", async () => {
    const stream = await createStream(2);
    const records = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 20 }, (_, i) => ({
          PartitionKey: `k${i}`,
          Data: Buffer.from("x"),
        })),
      }),
    );
    const onShard1 = records.Records!.find((record) => record.ShardId === "shardId-000000000001")!;

    await expect(
      iterator(stream, "AT_SEQUENCE_NUMBER", { StartingSequenceNumber: onShard1.SequenceNumber }),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(iterator(stream, "AT_SEQUENCE_NUMBER")).rejects.toBeInstanceOf(
      InvalidArgumentException,
    );
    await expect(
      iterator(stream, "TRIM_HORIZON", { ShardId: "shardId-000000000007" }),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("resharding", () => {
  it("splits and merges: parents close, children name them, GetRecords ends a parent with ChildShards", async () => {
    // Prepare
    const stream = await createStream(1);
    await put(stream, "k", "before");
    const parentIterator = await iterator(stream, "TRIM_HORIZON");

    // Act
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: "shardId-000000000000",
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    const split = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const parentRead = await read(parentIterator);
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: stream,
        ShardToMerge: "shardId-000000000001",
        AdjacentShardToMerge: "shardId-000000000002",
      }),
    );
    const merged = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const after = await put(stream, "k", "after");

    // Assess
    expect(
      split.Shards?.map((shard) => [
        shard.ShardId,
        shard.ParentShardId,
        shard.HashKeyRange?.StartingHashKey,
      ]),
    ).toEqual([
      ["shardId-000000000000", undefined, "0"],
      ["shardId-000000000001", "shardId-000000000000", "0"],
      ["shardId-000000000002", "shardId-000000000000", (2n ** 127n).toString()],
    ]);
    expect(split.Shards?.[0]?.SequenceNumberRange?.EndingSequenceNumber).toBeDefined();
    expect(parentRead.data).toEqual(["before"]);
    expect(parentRead.response.NextShardIterator).toBeUndefined();
    expect(parentRead.response.ChildShards?.map((child) => child.ShardId)).toEqual([
      "shardId-000000000001",
      "shardId-000000000002",
    ]);
    const child = merged.Shards?.at(-1);
    expect([child?.ShardId, child?.ParentShardId, child?.AdjacentParentShardId]).toEqual([
      "shardId-000000000003",
      "shardId-000000000001",
      "shardId-000000000002",
    ]);
    expect(after.ShardId).toBe("shardId-000000000003");
    expect(BigInt(after.SequenceNumber!)).toBeGreaterThan(
      BigInt(split.Shards![0]!.SequenceNumberRange!.EndingSequenceNumber!),
    );
  });

  it("refuses to split a closed shard or merge shards that are not adjacent", async () => {
    const stream = await createStream(3);
    await expect(
      kinesis.send(
        new MergeShardsCommand({
          StreamName: stream,
          ShardToMerge: "shardId-000000000000",
          AdjacentShardToMerge: "shardId-000000000002",
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: stream,
        ShardToMerge: "shardId-000000000000",
        AdjacentShardToMerge: "shardId-000000000001",
      }),
    );
    await expect(
      kinesis.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: "shardId-000000000000",
          NewStartingHashKey: "5",
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceInUseException);
  });
});

describe("streams", () => {
  it("describes a stream as Kinesis does, with the encryption it was given", async () => {
    const stream = await createStream(2);
    await kinesis.send(
      new StartStreamEncryptionCommand({
        StreamName: stream,
        EncryptionType: "KMS",
        KeyId: "alias/aws/kinesis",
      }),
    );

    const { StreamDescription } = await kinesis.send(
      new DescribeStreamCommand({ StreamName: stream, Limit: 1 }),
    );
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamARN: StreamDescription?.StreamARN }),
    );
    const written = await put(stream, "k", "x");

    expect(StreamDescription).toMatchObject({
      StreamName: stream,
      StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`,
      StreamStatus: "ACTIVE",
      StreamModeDetails: { StreamMode: "PROVISIONED" },
      RetentionPeriodHours: 24,
      EncryptionType: "KMS",
      KeyId: "alias/aws/kinesis",
      HasMoreShards: true,
    });
    expect(StreamDescription?.Shards).toHaveLength(1);
    expect(StreamDescriptionSummary?.OpenShardCount).toBe(2);
    expect(written.EncryptionType).toBe("KMS");
  });

  it("pages ListShards and ListStreams with NextToken", async () => {
    const stream = await createStream(3);

    const first = await kinesis.send(new ListShardsCommand({ StreamName: stream, MaxResults: 2 }));
    const second = await kinesis.send(new ListShardsCommand({ NextToken: first.NextToken }));
    const streams = await kinesis.send(new ListStreamsCommand({ Limit: 1 }));

    expect(first.Shards?.map((shard) => shard.ShardId)).toEqual([
      "shardId-000000000000",
      "shardId-000000000001",
    ]);
    expect(second.Shards?.map((shard) => shard.ShardId)).toEqual(["shardId-000000000002"]);
    expect(second.NextToken).toBeUndefined();
    expect(streams.StreamNames).toHaveLength(1);
    expect(streams.HasMoreStreams).toBe(true);
    await expect(
      kinesis.send(new ListShardsCommand({ StreamName: stream, NextToken: first.NextToken })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
  });

  it("refuses a second stream of the same name and an ON_DEMAND UpdateShardCount-free default", async () => {
    const stream = await createStream(1);
    const onDemand = `od-${crypto.randomUUID()}`;
    await kinesis.send(
      new CreateStreamCommand({
        StreamName: onDemand,
        StreamModeDetails: { StreamMode: "ON_DEMAND" },
      }),
    );

    await expect(
      kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: onDemand }));
    expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(4);
    expect(summary.StreamDescriptionSummary?.StreamModeDetails?.StreamMode).toBe("ON_DEMAND");
  });
});

describe("bad input changes nothing", () => {
  async function recordCount(stream: string) {
    return (await service.readRecords(stream)).length;
  }

  it("refuses an oversized record, an over-long partition key and a bad explicit hash key", async () => {
    const stream = await createStream(1);
    const send = (
      input: Partial<{ PartitionKey: string; Data: Uint8Array; ExplicitHashKey: string }>,
    ) =>
      kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: "k",
          Data: Buffer.from("x"),
          ...input,
        }),
      );

    await expect(send({ Data: Buffer.alloc(1024 * 1024) })).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(send({ PartitionKey: "k".repeat(257) })).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(send({ PartitionKey: "" })).rejects.toBeInstanceOf(ValidationException);
    await expect(send({ ExplicitHashKey: (2n ** 128n).toString() })).rejects.toBeInstanceOf(
      InvalidArgumentException,
    );
    await expect(send({ PartitionKey: "line\nbreak".repeat(30) })).rejects.toBeInstanceOf(
      ValidationException,
    );
    expect(await recordCount(stream)).toBe(0);
  });

  it("refuses a whole PutRecords batch when one entry is bad or there are more than 500", async () => {
    const stream = await createStream(1);
    const entry = { PartitionKey: "k", Data: Buffer.from("x") };

    await expect(
      kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [entry, { ...entry, PartitionKey: "k".repeat(300) }],
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: 501 }, () => entry),
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
    expect(await recordCount(stream)).toBe(0);
  });

  it("answers a missing stream with ResourceNotFoundException, by name or ARN", async () => {
    const name = `missing-${crypto.randomUUID()}`;
    await expect(
      kinesis.send(
        new PutRecordCommand({ StreamName: name, PartitionKey: "k", Data: Buffer.from("x") }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      kinesis.send(
        new DescribeStreamSummaryCommand({
          StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`,
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("the journal", () => {
  it("keeps every acknowledged record, its sequence number and the shard layout across compaction and reopening", async () => {
    // Prepare: a small compaction threshold, so the reopened state comes from a snapshot + tail.
    await shutdown();
    await open({ compactAfter: 5 });
    const stream = await createStream(2);
    const written = [];
    for (let i = 0; i < 12; i++) written.push(await put(stream, `k${i % 4}`, `r${i}`));
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: "shardId-000000000000",
        NewStartingHashKey: "1000",
      }),
    );
    written.push(await put(stream, "k0", "after the split"));
    const before = await service.readRecords(stream);
    const shardsBefore = await kinesis.send(new ListShardsCommand({ StreamName: stream }));

    // Act
    await shutdown();
    await open();

    // Assess
    const after = await service.readRecords(stream);
    expect(after).toEqual(before);
    expect(after.map((record) => record.sequenceNumber).sort()).toEqual(
      written.map((result) => result.SequenceNumber).sort(),
    );
    expect(await kinesis.send(new ListShardsCommand({ StreamName: stream }))).toMatchObject({
      Shards: shardsBefore.Shards,
    });
    const next = await put(stream, "k0", "after reopening");
    expect(BigInt(next.SequenceNumber!)).toBeGreaterThan(BigInt(written.at(-1)!.SequenceNumber!));
  });
});
