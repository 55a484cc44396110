/**
 * The local SQS through the real SDK v3 SQS client (JSON 1.0 with awsQueryCompatible; the client
 * verifies MD5OfBody and MD5OfMessageBody itself), served directly and behind the edge.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createSqsService, type SqsService } from "../../src/services/sqs";
import { md5OfAttributes } from "../../src/services/sqs/md5";
import { clientConfig, type Served, serve } from "./serve";

let sqs: SqsService;
let served: Served;
let client: SQSClient;
let counter = 0;

beforeAll(async () => {
  sqs = createSqsService({ region: "us-east-1" });
  served = await serve(sqs);
  client = new SQSClient(clientConfig(served.endpoint));
});
afterAll(async () => {
  client.destroy();
  await served.close();
  await sqs.close();
});

/** A fresh queue per test: the service is shared, names are not. */
async function queue(attributes: Record<string, string> = {}, prefix = "q") {
  const name = `${prefix}-${++counter}`;
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return { name, url: QueueUrl!, arn: `arn:aws:sqs:us-east-1:000000000000:${name}` };
}

async function attributes(url: string) {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
  );
  return Attributes!;
}

describe("queues", () => {
  it("creates idempotently, resolves URLs and ARNs, and lists by prefix", async () => {
    const q = await queue({ VisibilityTimeout: "45" }, "orders");
    expect(q.url).toBe(`${served.endpoint}/000000000000/${q.name}`);
    const again = await client.send(
      new CreateQueueCommand({ QueueName: q.name, Attributes: { VisibilityTimeout: "45" } }),
    );
    expect(again.QueueUrl).toBe(q.url);
    await expect(
      client.send(
        new CreateQueueCommand({ QueueName: q.name, Attributes: { VisibilityTimeout: "10" } }),
      ),
    ).rejects.toBeInstanceOf(QueueNameExists);
    expect((await client.send(new GetQueueUrlCommand({ QueueName: q.name }))).QueueUrl).toBe(q.url);
    const listed = await client.send(new ListQueuesCommand({ QueueNamePrefix: "orders-" }));
    expect(listed.QueueUrls).toContain(q.url);
    expect(listed.QueueUrls!.every((url) => url.includes("/orders-"))).toBe(true);

    const all = await attributes(q.url);
    expect(all).toMatchObject({
      QueueArn: q.arn,
      VisibilityTimeout: "45",
      MessageRetentionPeriod: "345600",
      DelaySeconds: "0",
      ReceiveMessageWaitTimeSeconds: "0",
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
    });
    await client.send(
      new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { DelaySeconds: "5" } }),
    );
    const some = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["DelaySeconds"] }),
    );
    expect(some.Attributes).toEqual({ DelaySeconds: "5" });
  });

  it("raises the SDK's QueueDoesNotExist, with the legacy query code AWS sends", async () => {
    const missing = `${served.endpoint}/000000000000/nope`;
    const error = await client
      .send(new SendMessageCommand({ QueueUrl: missing, MessageBody: "x" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect((error as { Code?: string }).Code).toBe("AWS.SimpleQueueService.NonExistentQueue");
    await expect(client.send(new GetQueueUrlCommand({ QueueName: "nope" }))).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
  });

  it("rejects bad attributes and a redrive policy to a missing queue", async () => {
    await expect(
      client.send(
        new CreateQueueCommand({ QueueName: "bad-1", Attributes: { VisibilityTimeout: "-1" } }),
      ),
    ).rejects.toMatchObject({ name: "InvalidAttributeValue" });
    await expect(
      client.send(
        new CreateQueueCommand({
          QueueName: "bad-2", // Not a queue attribute: sent anyway, as a caller without types could.
          Attributes: { Colour: "blue" } as Record<string, string>,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidAttributeName" });
    await expect(
      client.send(
        new CreateQueueCommand({
          QueueName: "bad-3",
          Attributes: {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:ghost",
              maxReceiveCount: 2,
            }),
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidAttributeValue" });
  });

  it("purges and deletes", async () => {
    const q = await queue();
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "gone" }));
    await client.send(new PurgeQueueCommand({ QueueUrl: q.url }));
    expect((await attributes(q.url)).ApproximateNumberOfMessages).toBe("0");
    await client.send(new DeleteQueueCommand({ QueueUrl: q.url }));
    await expect(client.send(new GetQueueUrlCommand({ QueueName: q.name }))).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
  });
});

describe("messages", () => {
  it("computes MD5OfMessageAttributes as SQS does (AWS's published examples)", () => {
    expect(
      md5OfAttributes({ SellerName: { DataType: "String", StringValue: "Example Store" } }),
    ).toBe("cd28f3b68aeee4b2eac9c66f2f694b58");
    expect(
      md5OfAttributes({ timestamp: { DataType: "Number", StringValue: "1493147359900" } }),
    ).toBe("235c5c510d26fb653d073faed50ae77c");
  });

  it("sends and receives with attributes, digests and system attributes", async () => {
    const q = await queue();
    const attrs = {
      kind: { DataType: "String", StringValue: "order" },
      count: { DataType: "Number", StringValue: "3" },
      blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 255]) },
    };
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: q.url, MessageBody: "héllo ✈", MessageAttributes: attrs }),
    );
    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfAttributes({
        kind: attrs.kind,
        count: attrs.count,
        blob: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 2, 255]).toString("base64") },
      }),
    );
    const { Messages } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: q.url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(Messages).toHaveLength(1);
    const [message] = Messages!;
    expect(message!.MessageId).toBe(sent.MessageId);
    expect(message!.Body).toBe("héllo ✈");
    expect(message!.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(message!.MessageAttributes?.kind).toMatchObject({ StringValue: "order" });
    expect([...message!.MessageAttributes!.blob!.BinaryValue!]).toEqual([0, 1, 2, 255]);
    expect(message!.Attributes).toMatchObject({ ApproximateReceiveCount: "1", SenderId: "test" });
    expect(Number(message!.Attributes!.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(message!.Attributes!.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(message!.Attributes!.SentTimestamp),
    );
  });

  it("selects message attributes by name and prefix", async () => {
    const q = await queue();
    await client.send(
      new SendMessageCommand({
        QueueUrl: q.url,
        MessageBody: "m",
        MessageAttributes: {
          "app.a": { DataType: "String", StringValue: "1" },
          "app.b": { DataType: "String", StringValue: "2" },
          other: { DataType: "String", StringValue: "3" },
        },
      }),
    );
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: q.url, MessageAttributeNames: ["app.*"] }),
    );
    expect(Object.keys(Messages![0]!.MessageAttributes!).sort()).toEqual(["app.a", "app.b"]);
  });

  it("hides received messages, counts receives, and deletes only with the latest handle", async () => {
    const q = await queue();
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "once" }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: q.url }));
    const handle1 = first.Messages![0]!.ReceiptHandle!;
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: q.url }))).Messages).toBe(
      undefined,
    );
    expect(await attributes(q.url)).toMatchObject({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "1",
    });
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: q.url,
        ReceiptHandle: handle1,
        VisibilityTimeout: 0,
      }),
    );
    const second = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: q.url,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    const handle2 = second.Messages![0]!.ReceiptHandle!;
    expect(second.Messages![0]!.Attributes?.ApproximateReceiveCount).toBe("2");
    // A stale handle is accepted without effect, as in SQS.
    await client.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: handle1 }));
    expect(sqs.messages(q.arn)).toHaveLength(1);
    await expect(
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: q.url,
          ReceiptHandle: handle1,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toBeInstanceOf(MessageNotInflight);
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: "garbage" })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    await client.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: handle2 }));
    expect(sqs.messages(q.arn)).toHaveLength(0);
  });

  it("delays messages by queue or message DelaySeconds", async () => {
    const q = await queue({ DelaySeconds: "600" });
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "later" }));
    await client.send(
      new SendMessageCommand({ QueueUrl: q.url, MessageBody: "now", DelaySeconds: 0 }),
    );
    expect(await attributes(q.url)).toMatchObject({
      ApproximateNumberOfMessages: "1",
      ApproximateNumberOfMessagesDelayed: "1",
    });
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10 }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual(["now"]);
  });

  it("answers batches per entry and enforces batch limits", async () => {
    const q = await queue();
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: "ok", MessageBody: "fine" },
          { Id: "bad", MessageBody: "nul \u0000 inside" },
        ],
      }),
    );
    expect(result.Successful?.map((s) => s.Id)).toEqual(["ok"]);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: "bad", SenderFault: true, Code: "InvalidMessageContents" }),
    ]);
    await expect(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })),
        }),
      ),
    ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: q.url }));
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: "a", ReceiptHandle: Messages![0]!.ReceiptHandle! },
          { Id: "b", ReceiptHandle: "not-a-handle" },
        ],
      }),
    );
    expect(deleted.Successful).toEqual([{ Id: "a" }]);
    expect(deleted.Failed?.[0]).toMatchObject({ Id: "b", Code: "ReceiptHandleIsInvalid" });
    expect(sqs.messages(q.arn)).toHaveLength(0);
  });

  it("long-polls until a message arrives", async () => {
    const q = await queue();
    const polling = client.send(
      new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 20 }),
    );
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "awaited" }));
    expect((await polling).Messages?.map((m) => m.Body)).toEqual(["awaited"]);
  });

  it("redrives to the dead-letter queue once maxReceiveCount is exceeded", async () => {
    const dlq = await queue({}, "dlq");
    const q = await queue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: "2" }),
    });
    expect(JSON.parse((await attributes(q.url)).RedrivePolicy!)).toEqual({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: 2,
    });
    const { MessageId } = await client.send(
      new SendMessageCommand({ QueueUrl: q.url, MessageBody: "poison" }),
    );
    for (let i = 0; i < 2; i++) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: q.url, VisibilityTimeout: 0 }),
      );
      expect(Messages?.[0]?.MessageId).toBe(MessageId);
    }
    // The third receive finds it over the limit and moves it instead.
    expect(
      (await client.send(new ReceiveMessageCommand({ QueueUrl: q.url }))).Messages,
    ).toBeUndefined();
    const moved = await client.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, AttributeNames: ["All"] }),
    );
    expect(moved.Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[MessageId, "poison"]]);
  });
});

describe("lifecycle", () => {
  it("releases a long poll on close", async () => {
    const local = createSqsService({ region: "us-east-1" });
    const server = await serve(local);
    const localClient = new SQSClient(clientConfig(server.endpoint));
    try {
      const { QueueUrl } = await localClient.send(new CreateQueueCommand({ QueueName: "idle" }));
      const polling = localClient.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }),
      );
      // Closing must not wait for the 20 s: the poll is answered (empty) at once.
      setImmediate(() => void local.close());
      expect((await polling).Messages).toBeUndefined();
    } finally {
      localClient.destroy();
      await server.close();
    }
  });

  it("persists acknowledged sends and deletes, through compaction, and resets", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-sqs-"));
    try {
      const first = createSqsService({ region: "us-east-1", dataDir, compactAfter: 5 });
      const server = await serve(first);
      const c = new SQSClient(clientConfig(server.endpoint));
      let url: string;
      try {
        url = (await c.send(new CreateQueueCommand({ QueueName: "durable" }))).QueueUrl!;
        for (const body of ["a", "b", "c", "d"]) {
          await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
        }
        const { Messages } = await c.send(new ReceiveMessageCommand({ QueueUrl: url }));
        await c.send(
          new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: Messages![0]!.ReceiptHandle! }),
        );
        await c.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 600 }));
      } finally {
        c.destroy();
        await server.close();
        await first.close();
      }
      const second = createSqsService({ region: "us-east-1", dataDir });
      const arn = "arn:aws:sqs:us-east-1:000000000000:durable";
      const messages = second.messages(arn);
      expect(messages.map((m) => m.body)).toEqual(["b", "c", "d"]);
      // The receive before the restart still hides "b" and still counts.
      expect(messages[0]).toMatchObject({ state: "in-flight", receiveCount: 1 });
      await second.reset();
      await second.close();
      const third = createSqsService({ region: "us-east-1", dataDir });
      expect(third.queues()).toEqual([]);
      await third.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("behind the edge", () => {
  it("routes AmazonSQS targets and serves /_local/sqs/queues", async () => {
    const endpoint = inject("localAwsEndpoint");
    const edgeClient = new SQSClient(clientConfig(endpoint));
    try {
      const name = `edge-${Date.now()}`;
      const { QueueUrl } = await edgeClient.send(new CreateQueueCommand({ QueueName: name }));
      expect(QueueUrl).toBe(`${endpoint}/000000000000/${name}`);
      await edgeClient.send(new SendMessageCommand({ QueueUrl, MessageBody: "via edge" }));
      const response = await fetch(`${endpoint}/_local/sqs/queues`);
      expect(response.status).toBe(200);
      const { queues } = (await response.json()) as {
        queues: Array<{ name: string; attributes: Record<string, string> }>;
      };
      expect(queues.find((q) => q.name === name)?.attributes.ApproximateNumberOfMessages).toBe("1");
      const missing = await edgeClient
        .send(new GetQueueUrlCommand({ QueueName: `${name}-missing` }))
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(QueueDoesNotExist);
    } finally {
      edgeClient.destroy();
    }
  });
});
