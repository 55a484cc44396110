import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { type LocalAws, startLocalAws } from "@boarding-pass/local";
import { type LatencySummary, round, summarize } from "./stats";

/**
 * What the local AWS edge costs: the same GetItem sent straight to dynalite's port and through
 * the edge (both dynalite transports), with the SDK and with a raw keep-alive HTTP client, and the
 * boot time of the whole plane (edge, dynalite, Kinesis), and what an acknowledged-durable write
 * costs with a data directory (Kinesis PutRecord beside SNS Publish, both fsynced before the answer).
 */
const WARM_UP = 200;
const SAMPLES = 2_000;
const BOOTS = 3;

/** Alternates the two targets call by call so machine load drifts hit both alike. */
async function compare(
  direct: () => Promise<unknown>,
  edge: () => Promise<unknown>,
): Promise<{ direct: LatencySummary; edge: LatencySummary; p50Ratio: number; p99Ratio: number }> {
  for (let i = 0; i < WARM_UP; i++) {
    await direct();
    await edge();
  }
  const directSamples: number[] = [];
  const edgeSamples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    let start = performance.now();
    await direct();
    directSamples.push(performance.now() - start);
    start = performance.now();
    await edge();
    edgeSamples.push(performance.now() - start);
  }
  const directSummary = summarize(directSamples);
  const edgeSummary = summarize(edgeSamples);
  return {
    direct: directSummary,
    edge: edgeSummary,
    p50Ratio: round(edgeSummary.p50Ms / directSummary.p50Ms),
    p99Ratio: round(edgeSummary.p99Ms / directSummary.p99Ms),
  };
}

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

async function seedTable(aws: LocalAws): Promise<{ table: string; key: { pk: { S: string } } }> {
  const table = `bench-${crypto.randomUUID()}`;
  await aws.createTables([
    {
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    },
  ]);
  const key = { pk: { S: "user#bench" } };
  const client = new DynamoDBClient({ endpoint: aws.endpoint, region: "us-east-1", credentials });
  await client.send(
    new PutItemCommand({ TableName: table, Item: { ...key, name: { S: "Ada Lovelace" } } }),
  );
  client.destroy();
  return { table, key };
}

async function sdkGetItem(aws: LocalAws) {
  const { table, key } = await seedTable(aws);
  const client = (endpoint: string) =>
    new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
  const direct = client(aws.dynamodb.directEndpoint);
  const edge = client(aws.endpoint);
  const command = new GetItemCommand({ TableName: table, Key: key });
  try {
    return await compare(
      () => direct.send(command),
      () => edge.send(command),
    );
  } finally {
    direct.destroy();
    edge.destroy();
  }
}

/** The same request bytes over a keep-alive socket: the edge's own cost without SDK work. */
async function rawGetItem(aws: LocalAws) {
  const { table, key } = await seedTable(aws);
  const body = JSON.stringify({ TableName: table, Key: key });
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": "DynamoDB_20120810.GetItem",
    "x-amz-date": "20250101T000000Z",
    authorization:
      "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    "content-length": String(Buffer.byteLength(body)),
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (endpoint: string) => {
    const url = new URL(endpoint);
    return () =>
      new Promise<void>((resolve, reject) => {
        const outgoing = request(
          { host: url.hostname, port: url.port, method: "POST", path: "/", headers, agent },
          (incoming) => {
            incoming.resume();
            incoming.once("end", () =>
              incoming.statusCode === 200 ? resolve() : reject(new Error(`${incoming.statusCode}`)),
            );
          },
        );
        outgoing.once("error", reject);
        outgoing.end(body);
      });
  };
  try {
    return await compare(post(aws.dynamodb.directEndpoint), post(aws.endpoint));
  } finally {
    agent.destroy();
  }
}

async function bootTimes(): Promise<{ firstMs: number; medianMs: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < BOOTS; i++) {
    const start = performance.now();
    const aws = await startLocalAws({ port: 0 });
    runs.push(round(performance.now() - start));
    await aws.stop();
  }
  return { firstMs: runs[0]!, medianMs: [...runs].sort((a, b) => a - b)[1]!, runs };
}

const SNS_MESSAGES = 500;

/**
 * SNS publish-to-delivery: from just before Publish is sent through the edge to the moment the
 * lambda subscriber's callback runs, one message at a time (no queueing behind other messages).
 */
async function snsPublishToDelivery(): Promise<LatencySummary & { messages: number }> {
  const aws = await startLocalAws({ port: 0, include: ["sns"] });
  try {
    const sns = new SNSClient({
      endpoint: aws.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "bench-latency" }));
    const functionArn = "arn:aws:lambda:us-east-1:000000000000:function:bench-subscriber";
    let delivered: ((at: number) => void) | undefined;
    aws.sns!.registerLambda(functionArn, async () => delivered?.(performance.now()));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: functionArn }));
    const samples: number[] = [];
    for (let i = 0; i < WARM_UP + SNS_MESSAGES; i++) {
      const arrival = new Promise<number>((resolve) => {
        delivered = resolve;
      });
      const start = performance.now();
      await sns.send(new PublishCommand({ TopicArn, Message: `m${i}` }));
      const at = await arrival;
      if (i >= WARM_UP) samples.push(at - start);
    }
    return { ...summarize(samples), messages: SNS_MESSAGES };
  } finally {
    await aws.stop();
  }
}

const DURABLE_SAMPLES = 500;

/**
 * Acknowledged-durable writes through the edge on a data directory (as under `npm start`): a
 * Kinesis PutRecord (the SDK's default client, h2c) and an SNS Publish to a topic with a lambda
 * subscriber (SNS journals only messages that match a subscription), alternated call by call.
 * Each answer comes only once the write is fsynced in its service's journal.
 */
async function durableWrites(): Promise<{
  kinesisPutRecord: LatencySummary;
  snsPublish: LatencySummary;
  samples: number;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-durable-"));
  const aws = await startLocalAws({ port: 0, dataDir, include: ["sns"] });
  const config = { endpoint: aws.endpoint, region: "us-east-1", credentials };
  const kinesis = new KinesisClient(config);
  const sns = new SNSClient(config);
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: "bench-durable", ShardCount: 1 }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "bench-durable" }));
    const functionArn = "arn:aws:lambda:us-east-1:000000000000:function:bench-durable";
    aws.sns!.registerLambda(functionArn, async () => {});
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: functionArn }));
    const putRecord = () =>
      kinesis.send(
        new PutRecordCommand({
          StreamName: "bench-durable",
          PartitionKey: crypto.randomUUID(),
          Data: Buffer.from(JSON.stringify({ type: "user.created", at: Date.now() })),
        }),
      );
    const publish = () => sns.send(new PublishCommand({ TopicArn, Message: "bench" }));
    const kinesisSamples: number[] = [];
    const snsSamples: number[] = [];
    for (let i = 0; i < WARM_UP + DURABLE_SAMPLES; i++) {
      let start = performance.now();
      await putRecord();
      const kinesisMs = performance.now() - start;
      start = performance.now();
      await publish();
      const snsMs = performance.now() - start;
      if (i < WARM_UP) continue;
      kinesisSamples.push(kinesisMs);
      snsSamples.push(snsMs);
    }
    return {
      kinesisPutRecord: summarize(kinesisSamples),
      snsPublish: summarize(snsSamples),
      samples: DURABLE_SAMPLES,
    };
  } finally {
    kinesis.destroy();
    sns.destroy();
    await aws.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchLocalAws(): Promise<Record<string, unknown>> {
  const boot = await bootTimes();
  const results: Record<string, unknown> = { bootMs: boot };
  results.snsPublishToDelivery = await snsPublishToDelivery();
  results.durableWrites = await durableWrites();
  for (const transport of ["in-process", "loopback"] as const) {
    const aws = await startLocalAws({ port: 0, dynamoDbTransport: transport });
    try {
      results[`getItem.sdk.${transport}`] = await sdkGetItem(aws);
      results[`getItem.raw.${transport}`] = await rawGetItem(aws);
    } finally {
      await aws.stop();
    }
  }
  return results;
}

function printTable(results: Record<string, unknown>): void {
  const boot = results.bootMs as Awaited<ReturnType<typeof bootTimes>>;
  console.log(
    `plane boot (edge, dynalite, Kinesis): first ${boot.firstMs} ms, median ${boot.medianMs} ms of ${boot.runs.join(" / ")}`,
  );
  const rows = Object.entries(results)
    .filter(([name]) => name.startsWith("getItem"))
    .map(([name, value]) => {
      const row = value as Awaited<ReturnType<typeof compare>>;
      return {
        case: name,
        "direct p50": row.direct.p50Ms,
        "edge p50": row.edge.p50Ms,
        "p50 ratio": row.p50Ratio,
        "direct p99": row.direct.p99Ms,
        "edge p99": row.edge.p99Ms,
        "p99 ratio": row.p99Ratio,
      };
    });
  console.table(rows);
  const sns = results.snsPublishToDelivery as Awaited<ReturnType<typeof snsPublishToDelivery>>;
  console.log(
    `SNS publish to lambda delivery over ${sns.messages} messages: p50 ${sns.p50Ms} ms, p99 ${sns.p99Ms} ms`,
  );
  const durable = results.durableWrites as Awaited<ReturnType<typeof durableWrites>>;
  console.log(
    `durable writes through the edge with a data directory, ${durable.samples} each: Kinesis PutRecord p50 ${durable.kinesisPutRecord.p50Ms} ms, p99 ${durable.kinesisPutRecord.p99Ms} ms; SNS Publish p50 ${durable.snsPublish.p50Ms} ms, p99 ${durable.snsPublish.p99Ms} ms`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchLocalAws();
  printTable(results);
}
