/**
 * Core's SNS + Kinesis publisher against the local plane's SNS and Kinesis: a test across packages
 * (core's adapter, local's services), so it lives here rather than in packages/core, which does
 * not depend on packages/local.
 */

import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import {
  CreateTopicCommand,
  PublishBatchCommand,
  type SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/sns-kinesis";
import { type BoardingPassEvent, buildEvent } from "@boarding-pass/core/events";
import type { LocalAws } from "@boarding-pass/local";
import { createSnsService, type SnsService } from "@boarding-pass/local/services/sns";
import { startEmbeddedAws } from "@boarding-pass/testing/embedded";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:publisher-sink";
let aws: LocalAws;
let sns: SnsService;
let snsClient: SNSClient;
let kinesisClient: KinesisClient;
let topicArn: string;
const streamName = `publisher-${Date.now()}`;
const received: SNSEvent[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const embedded = await startEmbeddedAws();
  aws = embedded.aws;
  const endpoint = embedded.endpoint;
  sns = createSnsService({
    region: "us-east-1",
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  aws.register(sns);
  sns.registerLambda(FN, async (event) => {
    received.push(event);
  });
  const options = { region: "us-east-1", endpoint };
  snsClient = createSnsClient(options);
  kinesisClient = createKinesisClient(options);
  topicArn = (await snsClient.send(new CreateTopicCommand({ Name: "publisher" }))).TopicArn!;
  await snsClient.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: "lambda", Endpoint: FN }),
  );
  await kinesisClient.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const summary = await kinesisClient.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
afterAll(async () => {
  await sns?.idle();
  await aws?.stop();
});

function events(count: number, tenant = "acme"): BoardingPassEvent[] {
  return Array.from({ length: count }, () => {
    const sub = crypto.randomUUID();
    return buildEvent("boardingpass.user.confirmed.v1", {
      subject: sub,
      data: { sub, tenant, plan: "free" },
      time: new Date(),
      source: "boardingpass/local/test",
    });
  });
}

async function kinesisIds(): Promise<string[]> {
  const response = await fetch(`${aws.endpoint}/_local/kinesis/records?stream=${streamName}`);
  const body = (await response.json()) as { records: Array<{ data: string }> };
  return body.records.map((record) => (JSON.parse(record.data) as { id: string }).id);
}

async function snsIds(): Promise<string[]> {
  await sns.idle();
  return received.flatMap((event) =>
    event.Records.map((record) => JSON.parse(record.Sns.Message).id),
  );
}

describe("SnsKinesisEventPublisher", () => {
  it("publishes more than one batch to both destinations, with filterable attributes and the sub as key", async () => {
    const batch = events(23, "globex");
    const publisher = new SnsKinesisEventPublisher({
      sns: snsClient,
      kinesis: kinesisClient,
      topicArn,
      streamName,
    });
    const outcome = await publisher.publish(batch);
    expect(outcome.failed).toEqual([]);
    expect(new Set(outcome.published)).toEqual(new Set(batch.map((event) => event.id)));
    const ids = batch.map((event) => event.id);
    expect((await snsIds()).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect((await kinesisIds()).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    const first = received
      .flatMap((event) => event.Records)
      .find((record) => JSON.parse(record.Sns.Message).id === ids[0]);
    expect(first?.Sns.MessageAttributes).toMatchObject({
      eventType: { Value: "boardingpass.user.confirmed.v1" },
      tenant: { Value: "globex" },
    });
  });

  it("retries only the entries reported failed, and reports what never made it", async () => {
    const batch = events(4);
    let snsCalls = 0;
    const flakySns = {
      send: async (command: { input: { PublishBatchRequestEntries: Array<{ Id: string }> } }) => {
        snsCalls++;
        const entries = command.input.PublishBatchRequestEntries;
        // The first call takes nothing; later calls take everything but the last entry, forever.
        if (snsCalls === 1) {
          return {
            Failed: entries.map((entry) => ({
              Id: entry.Id,
              Code: "Throttled",
              SenderFault: false,
            })),
          };
        }
        const taken = entries.filter((entry) => entry.Id !== batch[3]!.id);
        const real =
          taken.length === 0
            ? { Successful: [] }
            : await snsClient.send(
                new PublishBatchCommand({
                  ...command.input,
                  TopicArn: topicArn,
                  PublishBatchRequestEntries: taken,
                } as never),
              );
        return {
          Successful: real.Successful,
          Failed: entries
            .filter((entry) => entry.Id === batch[3]!.id)
            .map((entry) => ({ Id: entry.Id, Code: "Throttled", SenderFault: false })),
        };
      },
    };
    const publisher = new SnsKinesisEventPublisher({
      sns: flakySns as never,
      kinesis: kinesisClient,
      topicArn,
      streamName,
      maxAttempts: 3,
      baseDelayMs: 1,
    });
    const outcome = await publisher.publish(batch);
    expect(snsCalls).toBe(3);
    expect(outcome.failed).toEqual([{ id: batch[3]!.id, reason: "Throttled" }]);
    expect(new Set(outcome.published)).toEqual(new Set(batch.slice(0, 3).map((event) => event.id)));
    const delivered = await snsIds();
    for (const event of batch.slice(0, 3)) {
      expect(delivered.filter((id) => id === event.id)).toHaveLength(1);
    }
  });

  it("an aborted signal stops retrying and reports the events as failed", async () => {
    const batch = events(2);
    const controller = new AbortController();
    controller.abort();
    const publisher = new SnsKinesisEventPublisher({
      sns: snsClient,
      kinesis: kinesisClient,
      topicArn,
      streamName,
    });
    const outcome = await publisher.publish(batch, { signal: controller.signal });
    expect(outcome.published).toEqual([]);
    expect(outcome.failed.map((failure) => failure.id).sort()).toEqual(
      batch.map((event) => event.id).sort(),
    );
  });
});
