/**
 * SNS acknowledged means durable: an accepted message stays journaled until each of its
 * deliveries settles, is delivered after a reopen, waits for its lambda target to be registered,
 * and survives compaction. Plus delivery into the local SQS service (raw, enveloped, dead-letter).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SNSEvent } from "aws-lambda";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createSnsService, type SnsService } from "../../src/services/sns";
import { createSqsService } from "../../src/services/sqs";
import { clientConfig, serve } from "./serve";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:durable";
const FAST = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 };

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-sns-durable-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `body` against a served SNS, then closes everything (pending deliveries abandoned). */
async function withSns<T>(sns: SnsService, body: (client: SNSClient) => Promise<T>): Promise<T> {
  const server = await serve(sns);
  const client = new SNSClient(clientConfig(server.endpoint));
  try {
    return await body(client);
  } finally {
    client.destroy();
    await server.close();
    await sns.close();
  }
}

/** A lambda callback that records its first call and never settles (a function still running). */
function hungLambda(sns: SnsService): Promise<void> {
  return new Promise((started) => {
    sns.registerLambda(FN, () => {
      started();
      return new Promise<void>(() => {});
    });
  });
}

it("delivers after a reopen what was accepted but not delivered, once its lambda registers", async () => {
  const first = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  const published = await withSns(first, async (client) => {
    const inFlight = hungLambda(first);
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "durable" }));
    await client.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: FN }));
    const { MessageId } = await client.send(
      new PublishCommand({
        TopicArn,
        Message: "survive me",
        MessageAttributes: {
          raw: { DataType: "Binary", BinaryValue: new Uint8Array([0, 159, 255]) },
          kind: { DataType: "String", StringValue: "order" },
        },
      }),
    );
    await inFlight;
    expect(first.pending().map((p) => p.messageId)).toEqual([MessageId]);
    return { TopicArn: TopicArn!, MessageId: MessageId! };
  });

  const second = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  try {
    // Nothing registered yet: the recovered delivery waits instead of failing its attempts.
    expect(second.pending()).toEqual([
      expect.objectContaining({ messageId: published.MessageId, waitingFor: [FN] }),
    ]);
    const control = await second.control("pending", new URLSearchParams());
    expect(JSON.parse(String(control.body)).pending).toEqual(second.pending());
    await second.idle();
    expect(second.deliveries()).toEqual([]);

    const events: SNSEvent[] = [];
    second.registerLambda(FN, async (event) => {
      events.push(event);
    });
    await second.idle();
    expect(events).toHaveLength(1);
    const sns = events[0]!.Records[0]!.Sns;
    expect(sns.MessageId).toBe(published.MessageId);
    expect(sns.Message).toBe("survive me");
    expect(sns.MessageAttributes.raw).toEqual({
      Type: "Binary",
      Value: Buffer.from([0, 159, 255]).toString("base64"),
    });
    expect(sns.MessageAttributes.kind).toEqual({ Type: "String", Value: "order" });
    expect(second.pending()).toEqual([]);
  } finally {
    await second.close();
  }

  // The settled delivery was journaled: a third open has nothing to redeliver.
  const third = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  expect(third.pending()).toEqual([]);
  await third.close();
});

it("keeps pending deliveries through compaction and settles those whose subscription is gone", async () => {
  const first = createSnsService({ region: "us-east-1", dataDir, retry: FAST, compactAfter: 4 });
  const ids = await withSns(first, async (client) => {
    const inFlight = hungLambda(first);
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "compacted" }));
    await client.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: FN }));
    const batch = await client.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: Array.from({ length: 6 }, (_, i) => ({
          Id: `m${i}`,
          Message: `message ${i}`,
        })),
      }),
    );
    await inFlight;
    return batch.Successful!.map((entry) => entry.MessageId!);
  });

  const second = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  try {
    expect(second.pending().map((p) => p.messageId)).toEqual(ids);
    const seen: string[] = [];
    second.registerLambda(FN, async (event) => {
      seen.push(event.Records[0]!.Sns.MessageId);
    });
    await second.idle();
    expect(seen.sort()).toEqual([...ids].sort());
  } finally {
    await second.close();
  }
});

it("drops recovered deliveries of a subscription deleted meanwhile", async () => {
  const first = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  await withSns(first, async (client) => {
    const inFlight = hungLambda(first);
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "gone" }));
    await client.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: FN }));
    await client.send(new PublishCommand({ TopicArn, Message: "orphan" }));
    await inFlight;
    // Deleting the topic deletes its subscriptions; the message is still pending.
    await first.handle({
      method: "POST",
      path: "/",
      query: new URLSearchParams(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: Buffer.from(`Action=DeleteTopic&TopicArn=${encodeURIComponent(TopicArn!)}`),
      requestId: "r",
      region: "us-east-1",
    });
    expect(first.pending()).toHaveLength(1);
  });
  const second = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  expect(second.pending()).toEqual([]);
  await second.close();
});

it("delivers a recovered sqs delivery into the local SQS once its queue exists", async () => {
  const QUEUE = "arn:aws:sqs:us-east-1:000000000000:late";
  const first = createSnsService({ region: "us-east-1", dataDir, retry: FAST });
  const MessageId = await withSns(first, async (client) => {
    const inFlight = new Promise<void>((started) => {
      first.registerQueue(QUEUE, () => {
        started();
        return new Promise<void>(() => {});
      });
    });
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "late-queue" }));
    await client.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: QUEUE,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const published = await client.send(new PublishCommand({ TopicArn, Message: "queued" }));
    await inFlight;
    return published.MessageId!;
  });

  const sqs = createSqsService({ region: "us-east-1" });
  const second = createSnsService({ region: "us-east-1", dataDir, retry: FAST, sqs });
  const sqsServer = await serve(sqs);
  const sqsClient = new SQSClient(clientConfig(sqsServer.endpoint));
  try {
    expect(second.pending()).toEqual([
      expect.objectContaining({ messageId: MessageId, waitingFor: [QUEUE] }),
    ]);
    await sqsClient.send(new CreateQueueCommand({ QueueName: "late" }));
    await second.idle();
    expect(sqs.messages(QUEUE).map((m) => m.body)).toEqual(["queued"]);
    expect(second.pending()).toEqual([]);
  } finally {
    sqsClient.destroy();
    await sqsServer.close();
    await Promise.all([second.close(), sqs.close()]);
  }
});

it("delivers sqs subscriptions into the local SQS: raw with attributes, enveloped, dead-lettered", async () => {
  const sqs = createSqsService({ region: "us-east-1" });
  const sns = createSnsService({ region: "us-east-1", sqs, retry: FAST });
  const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
  await withSns(sns, async (client) => {
    const sqsServer = await serve(sqs);
    const sqsClient = new SQSClient(clientConfig(sqsServer.endpoint));
    try {
      for (const name of ["raw", "wrapped", "dead"]) {
        await sqsClient.send(new CreateQueueCommand({ QueueName: name }));
      }
      const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "to-sqs" }));
      await client.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: "sqs",
          Endpoint: arn("raw"),
          Attributes: { RawMessageDelivery: "true" },
        }),
      );
      await client.send(
        new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: arn("wrapped") }),
      );
      // A queue that does not exist fails; its RedrivePolicy queue receives the envelope.
      await client.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: "sqs",
          Endpoint: arn("missing"),
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn("dead") }) },
        }),
      );
      const { MessageId } = await client.send(
        new PublishCommand({
          TopicArn,
          Message: "hello queues",
          MessageAttributes: { kind: { DataType: "String", StringValue: "greeting" } },
        }),
      );
      await sns.idle();

      const [raw] = sqs.messages(arn("raw"));
      expect(raw).toMatchObject({
        body: "hello queues",
        attributes: { kind: { DataType: "String", StringValue: "greeting" } },
      });
      const [wrapped] = sqs.messages(arn("wrapped"));
      expect(JSON.parse(wrapped!.body)).toMatchObject({
        Type: "Notification",
        MessageId,
        TopicArn,
        Message: "hello queues",
        MessageAttributes: { kind: { Type: "String", Value: "greeting" } },
      });
      expect(wrapped!.attributes).toEqual({});
      const [dead] = sqs.messages(arn("dead"));
      expect(JSON.parse(dead!.body)).toMatchObject({ MessageId, Message: "hello queues" });
      expect(sns.pending()).toEqual([]);
    } finally {
      sqsClient.destroy();
      await sqsServer.close();
      await sqs.close();
    }
  });
});
