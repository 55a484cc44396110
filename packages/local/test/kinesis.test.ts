import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KinesisRecordView, type LocalAws, startLocalAws } from "../src/index";

describe("Kinesis through the edge (default SDK client, h2c)", () => {
  let aws: LocalAws;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    aws = await startLocalAws({ port: 0 });
    // Deliberately no requestHandler: the SDK's default speaks HTTP/2 to http:// endpoints.
    kinesis = new KinesisClient({
      endpoint: aws.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  });
  afterAll(async () => {
    kinesis?.destroy();
    await aws?.stop();
  });

  async function createStream(shards: number): Promise<string> {
    const name = `events-${crypto.randomUUID()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    return name;
  }

  async function readBack(stream: string): Promise<KinesisRecordView[]> {
    const response = await fetch(
      `${aws.endpoint}/_local/kinesis/records?stream=${encodeURIComponent(stream)}`,
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as { records: KinesisRecordView[] }).records;
  }

  it("creates an ACTIVE stream at once and lists its shards", async () => {
    // Act
    const stream = await createStream(2);
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));

    // Assess
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe("ACTIVE");
    expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(2);
    expect(shards.Shards?.map((shard) => shard.ShardId)).toEqual([
      "shardId-000000000000",
      "shardId-000000000001",
    ]);
  });

  it("reads back a PutRecord with GetShardIterator and GetRecords", async () => {
    // Prepare
    const stream = await createStream(1);
    const payload = JSON.stringify({ id: crypto.randomUUID(), type: "user.created" });

    // Act
    const put = await kinesis.send(
      new PutRecordCommand({
        StreamName: stream,
        PartitionKey: "user-1",
        Data: Buffer.from(payload),
      }),
    );
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: put.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));

    // Assess
    expect(Records).toHaveLength(1);
    expect(Records?.[0]?.SequenceNumber).toBe(put.SequenceNumber);
    expect(Buffer.from(Records?.[0]?.Data ?? []).toString()).toBe(payload);
  });

  it("accepts PutRecords batches and the control API decodes printable payloads", async () => {
    const stream = await createStream(1);
    const binary = Buffer.from([0, 1, 2, 255]);

    const result = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [
          { PartitionKey: "a", Data: Buffer.from("first") },
          { PartitionKey: "a", Data: binary },
        ],
      }),
    );
    const records = await readBack(stream);

    expect(result.FailedRecordCount).toBe(0);
    expect(records.map((record) => [record.data, record.dataBase64])).toEqual([
      ["first", Buffer.from("first").toString("base64")],
      [null, binary.toString("base64")],
    ]);
  });

  it("has no listener of its own: a foreign page's PutRecord is refused at the edge and writes nothing", async () => {
    // Prepare
    const stream = await createStream(1);

    // Act: what a page on another site could send from a browser.
    const response = await fetch(aws.endpoint, {
      method: "POST",
      headers: {
        origin: "https://evil.example",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "Kinesis_20131202.PutRecord",
        authorization:
          "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify({ StreamName: stream, PartitionKey: "k", Data: "aGk=" }),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(await readBack(stream)).toEqual([]);
  });

  it("raises ResourceNotFoundException for a missing stream", async () => {
    const put = kinesis.send(
      new PutRecordCommand({
        StreamName: `missing-${crypto.randomUUID()}`,
        PartitionKey: "k",
        Data: Buffer.from("x"),
      }),
    );

    await expect(put).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("answers the control API with 404 for a missing stream", async () => {
    const response = await fetch(
      `${aws.endpoint}/_local/kinesis/records?stream=missing-${crypto.randomUUID()}`,
    );

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ __type: "ResourceNotFoundException" });
  });

  // Generous bounds: a durable put takes a few ms, but a loaded 2-core machine can be 10x slower.
  it("keeps the order in which each partition key's records were sent", {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const stream = await createStream(4);
    const keys = Array.from({ length: 10 }, (_, index) => `device-${index}`);
    const perKey = 5;

    // Act: each key sends its records one after another, all keys at the same time.
    await Promise.all(
      keys.map(async (key) => {
        for (let sequence = 0; sequence < perKey; sequence++) {
          await kinesis.send(
            new PutRecordCommand({
              StreamName: stream,
              PartitionKey: key,
              Data: Buffer.from(JSON.stringify({ key, sequence })),
            }),
          );
        }
      }),
    );
    const records = await readBack(stream);

    // Assess
    for (const key of keys) {
      const sequences = records
        .filter((record) => record.partitionKey === key)
        .map((record) => (JSON.parse(record.data ?? "{}") as { sequence: number }).sequence);
      expect(sequences).toEqual(Array.from({ length: perKey }, (_, index) => index));
    }
  });

  it("loses nothing under 200 parallel PutRecords over 10 partition keys, in accepted order", {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const stream = await createStream(4);
    const sent = Array.from({ length: 200 }, (_, index) => ({
      key: `k${index % 10}`,
      id: crypto.randomUUID(),
    }));

    // Act
    const results = await Promise.all(
      sent.map(({ key, id }) =>
        kinesis.send(
          new PutRecordCommand({ StreamName: stream, PartitionKey: key, Data: Buffer.from(id) }),
        ),
      ),
    );
    const records = await readBack(stream);

    // Assess: every record is there once, in the shard Kinesis reported...
    expect(records.map((record) => record.data).sort()).toEqual(sent.map((s) => s.id).sort());
    const accepted = new Map<string, (typeof results)[number]>(
      results.map((result, index) => [sent[index]!.id, result]),
    );
    for (const record of records) {
      expect(record.shardId).toBe(accepted.get(record.data ?? "")?.ShardId);
    }
    // ...and each partition key reads back in the order Kinesis accepted its records.
    for (const key of new Set(sent.map((s) => s.key))) {
      const readOrder = records
        .filter((record) => record.partitionKey === key)
        .map((record) => record.sequenceNumber);
      const acceptedOrder = [...readOrder].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      expect(readOrder).toEqual(acceptedOrder);
    }
  });
});
