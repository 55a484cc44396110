import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import type { KinesisRecordView } from "../src/index";

const CLI = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

interface RunningPlane {
  process: ChildProcess;
  endpoint: string;
}

/** Runs the plane in its own Node process (one process, so SIGKILL leaves nothing behind). */
async function startPlane(dataDir: string): Promise<RunningPlane> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CLI, "--port", "0", "--data-dir", dataDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`local AWS exited early (${code})`))),
  );
  const ready = new Promise<string>((resolve) => {
    lines.on("line", (line) => {
      const event = JSON.parse(line) as { event?: string; endpoint?: string };
      if (event.event === "ready" && event.endpoint) resolve(event.endpoint);
    });
  });
  const endpoint = await Promise.race([ready, exited]);
  return { process: child, endpoint };
}

function killHard(plane: RunningPlane): Promise<void> {
  return new Promise((resolve) => {
    plane.process.once("exit", () => resolve());
    plane.process.kill("SIGKILL");
  });
}

/** Bounded wait until the plane reports every acknowledged write as durable. */
async function waitForDurable(endpoint: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const health = (await (await fetch(`${endpoint}/_local/health`)).json()) as {
      durable: boolean;
    };
    if (health.durable) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("writes never became durable");
}

describe("persistence across a kill -9", () => {
  const planes: RunningPlane[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const plane of planes) {
      if (plane.process.exitCode === null && plane.process.signalCode === null) {
        await killHard(plane);
      }
    }
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  // Each test boots two planes in child processes: bound generously for a loaded 2-core machine.
  it("keeps DynamoDB items and Kinesis records written before SIGKILL", {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), "local-aws-restart-"));
    dirs.push(dataDir);
    const table = `profiles-${crypto.randomUUID()}`;
    const stream = `events-${crypto.randomUUID()}`;
    const pk = `user#${crypto.randomUUID()}`;
    const payloads = Array.from(
      { length: 5 },
      (_, index) => `event-${index}-${crypto.randomUUID()}`,
    );

    const first = await startPlane(dataDir);
    planes.push(first);
    const dynamo = new DynamoDBClient({
      endpoint: first.endpoint,
      region: "us-east-1",
      credentials,
    });
    const kinesis = new KinesisClient({
      endpoint: first.endpoint,
      region: "us-east-1",
      credentials,
    });
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    await DynamoDBDocumentClient.from(dynamo).send(
      new PutCommand({ TableName: table, Item: { pk, name: "Ada" } }),
    );
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads.map((payload) => ({ PartitionKey: "p", Data: Buffer.from(payload) })),
      }),
    );
    // No wait for durability: what was acknowledged must survive an immediate kill -9.
    dynamo.destroy();
    kinesis.destroy();

    // Act
    await killHard(first);
    const second = await startPlane(dataDir);
    planes.push(second);

    // Assess
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: second.endpoint, region: "us-east-1", credentials }),
    );
    const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { pk } }));
    expect(Item).toEqual({ pk, name: "Ada" });
    const response = await fetch(`${second.endpoint}/_local/kinesis/records?stream=${stream}`);
    const { records } = (await response.json()) as { records: KinesisRecordView[] };
    expect(records.map((record) => record.data)).toEqual(payloads);
    documents.destroy();
  });

  it("forgets everything after POST /_local/reset, across a restart too", {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), "local-aws-reset-"));
    dirs.push(dataDir);
    const table = `profiles-${crypto.randomUUID()}`;
    const first = await startPlane(dataDir);
    planes.push(first);
    const dynamo = new DynamoDBClient({
      endpoint: first.endpoint,
      region: "us-east-1",
      credentials,
    });
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    dynamo.destroy();

    // Act
    const reset = await fetch(`${first.endpoint}/_local/reset`, { method: "POST" });
    await waitForDurable(first.endpoint);
    await killHard(first);
    const second = await startPlane(dataDir);
    planes.push(second);

    // Assess
    expect(reset.status).toBe(200);
    const client = new DynamoDBClient({
      endpoint: second.endpoint,
      region: "us-east-1",
      credentials,
    });
    const { TableNames } = await client.send(new ListTablesCommand({}));
    expect(TableNames).not.toContain(table);
    client.destroy();
  });
});
