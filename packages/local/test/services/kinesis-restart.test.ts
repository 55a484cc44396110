/**
 * Acknowledged means durable for Kinesis at full speed: a child process puts records through the
 * edge as fast as they are answered (four keys at once) and is killed with SIGKILL mid-write. A
 * new plane on the same data directory returns every acknowledged record, with the shard and
 * sequence number it was acknowledged with, each key's records in the order they were put, and
 * readers resume after a pre-crash sequence number as an event source checkpoint does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
} from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalAws } from "../../src/index";
import { writeThenKill } from "./kill-writer";

interface Ack {
  key: string;
  data: string;
  ShardId: string;
  SequenceNumber: string;
}

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-kinesis-kill-"));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it("keeps every PutRecord acknowledged before a kill -9 mid-write, in order, with its sequence number", async () => {
  // Prepare
  const acks: Ack[] = [];
  const { stream } = await writeThenKill<{ stream: string }>(
    "kinesis-kill-writer.ts",
    dataDir,
    (exit) => expect(exit).toBe("SIGKILL"),
    (line) => {
      const ack = (line as { ack?: Ack }).ack;
      if (ack) acks.push(ack);
    },
  );

  // Act
  const aws = await startLocalAws({ port: 0, dataDir });
  const kinesis = new KinesisClient({
    endpoint: aws.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const records = await aws.kinesis.readRecords(stream);
    const stored = new Map(records.map((record) => [record.sequenceNumber, record]));

    // Assess: every acknowledged record is there, where and as it was acknowledged...
    expect(acks.length).toBeGreaterThanOrEqual(200);
    for (const ack of acks) {
      expect(stored.get(ack.SequenceNumber)).toMatchObject({
        shardId: ack.ShardId,
        partitionKey: ack.key,
        data: ack.data,
      });
    }
    // ...each key's records read back in the order they were put (a put may have landed
    // unacknowledged after the last one the parent saw; none is missing in between)...
    for (const key of ["a", "b", "c", "d"]) {
      const readBack = records.filter((record) => record.partitionKey === key).map((r) => r.data);
      const acknowledged = acks.filter((ack) => ack.key === key).map((ack) => ack.data);
      expect(readBack.slice(0, acknowledged.length)).toEqual(acknowledged);
      expect(readBack).toEqual(readBack.map((_, index) => `${key}-${index}`));
    }
    // ...and a reader resumes after a sequence number from before the crash.
    const checkpoint = acks.find((ack) => ack.key === "a")!;
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: checkpoint.ShardId,
        ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber: checkpoint.SequenceNumber,
      }),
    );
    const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    const next = Records?.find((record) => record.PartitionKey === "a");
    expect(Buffer.from(next?.Data ?? []).toString()).toBe("a-1");
    // New writes continue above everything acknowledged before the crash.
    const later = await kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: "a", Data: Buffer.from("later") }),
    );
    const highest = acks
      .filter((ack) => ack.ShardId === later.ShardId)
      .reduce(
        (max, ack) => (BigInt(ack.SequenceNumber) > max ? BigInt(ack.SequenceNumber) : max),
        0n,
      );
    expect(BigInt(later.SequenceNumber!)).toBeGreaterThan(highest);
  } finally {
    kinesis.destroy();
    await aws.stop();
  }
}, 120_000); // a child boots tsx and the plane on a loaded 2-core box
