/**
 * The SQS event-source mapping against the real local SQS (queues made and fed with the SDK v3
 * SQS client) and small JS handlers run by an in-test LambdaInvoker: the event Lambda builds,
 * deletion of successes, ReportBatchItemFailures, and a poison message redriven to the DLQ.
 */
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvokeResult, LambdaInvoker } from "../../src/cloud/contracts";
import {
  handlesToDelete,
  type SqsEventSourceOptions,
  startSqsEventSource,
} from "../../src/cloud/sqs-event-source";
import { createSqsService, type SqsService } from "../../src/services/sqs";
import { md5Hex } from "../../src/services/sqs/md5";
import { clientConfig, type Served, serve } from "../services/serve";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:consumer";

let sqs: SqsService;
let served: Served;
let client: SQSClient;

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

async function queue(attributes: Record<string, string> = {}) {
  const name = `esm-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return { url: QueueUrl!, arn: `arn:aws:sqs:us-east-1:000000000000:${name}` };
}

/**
 * A LambdaInvoker running a JS handler in process, as the runtime would: a throw is a function
 * error (`ok: false`), a return value is the payload. `until` resolves once `predicate` holds
 * for the events seen so far (checked after each invocation).
 */
function jsInvoker(handler: (event: SQSEvent) => unknown) {
  const events: SQSEvent[] = [];
  const watchers: Array<{ predicate: (events: SQSEvent[]) => boolean; resolve: () => void }> = [];
  const invoker: LambdaInvoker = {
    async invoke(name, event, options): Promise<InvokeResult> {
      expect(name).toBe(FN);
      expect(options).toMatchObject({ invocationType: "RequestResponse", source: "sqs" });
      const requestId = randomUUID();
      events.push(event as SQSEvent);
      let result: InvokeResult;
      try {
        const payload = await handler(event as SQSEvent);
        result = { ok: true, payload, requestId, durationMs: 0 };
      } catch (error) {
        const err = error as Error;
        result = {
          ok: false,
          errorType: err.name,
          errorMessage: err.message,
          requestId,
          durationMs: 0,
          timedOut: false,
        };
      }
      // Checked after the invocation returns; the batch is settled right after.
      setImmediate(() => {
        for (const watcher of [...watchers]) {
          if (watcher.predicate(events)) {
            watchers.splice(watchers.indexOf(watcher), 1);
            watcher.resolve();
          }
        }
      });
      return result;
    },
  };
  const until = (predicate: (events: SQSEvent[]) => boolean) =>
    new Promise<void>((resolve) => {
      if (predicate(events)) resolve();
      else watchers.push({ predicate, resolve });
    });
  const records = () => events.flatMap((e) => e.Records);
  return { invoker, events, records, until };
}

/** An event source from `queueArn` to FN: batches of 10, no partial batch responses, unless told. */
function startSource(
  queueArn: string,
  invoker: LambdaInvoker,
  options: Partial<SqsEventSourceOptions> = {},
) {
  return startSqsEventSource({
    sqs,
    queueArn,
    functionArn: FN,
    invoker,
    batchSize: 10,
    reportBatchItemFailures: false,
    region: "us-east-1",
    ...options,
  });
}

describe("startSqsEventSource", () => {
  it("invokes with Lambda's SQS event and deletes a successful batch", async () => {
    const q = await queue();
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          {
            Id: "a",
            MessageBody: "first",
            MessageAttributes: {
              kind: { DataType: "String", StringValue: "order" },
              blob: { DataType: "Binary", BinaryValue: new Uint8Array([7, 8, 9]) },
            },
          },
          { Id: "b", MessageBody: "second" },
          { Id: "c", MessageBody: "third" },
        ],
      }),
    );
    const fn = jsInvoker(() => undefined);
    const source = startSource(q.arn, fn.invoker);
    await fn.until(() => fn.records().length >= 3);
    await source.stop();

    expect(fn.events).toHaveLength(1);
    const [first, second] = fn.events[0]!.Records;
    const firstId = sent.Successful!.find((s) => s.Id === "a")!.MessageId!;
    expect(first).toEqual({
      messageId: firstId,
      receiptHandle: expect.any(String),
      body: "first",
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        kind: {
          stringValue: "order",
          stringListValues: [],
          binaryListValues: [],
          dataType: "String",
        },
        blob: {
          binaryValue: Buffer.from([7, 8, 9]).toString("base64"),
          stringListValues: [],
          binaryListValues: [],
          dataType: "Binary",
        },
      },
      md5OfBody: md5Hex("first"),
      md5OfMessageAttributes: sent.Successful!.find((s) => s.Id === "a")!.MD5OfMessageAttributes!,
      eventSource: "aws:sqs",
      eventSourceARN: q.arn,
      awsRegion: "us-east-1",
    } satisfies SQSRecord);
    expect(second!.messageAttributes).toEqual({});
    expect(second!.md5OfMessageAttributes).toBeUndefined();
    expect(sqs.messages(q.arn)).toEqual([]);
  });

  it("with ReportBatchItemFailures deletes all but the reported items", async () => {
    const q = await queue();
    for (const body of ["good", "bad", "fine"]) {
      await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: body }));
    }
    const fn = jsInvoker((event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === "bad").map((r) => ({
        itemIdentifier: r.messageId,
      })),
    }));
    const source = startSource(q.arn, fn.invoker, { reportBatchItemFailures: true });
    await fn.until((events) => events.length >= 1);
    await source.stop();
    // The reported one stays, invisible until its visibility timeout (30 s) ends.
    expect(sqs.messages(q.arn).map((m) => [m.body, m.state])).toEqual([["bad", "in-flight"]]);
  });

  it("leaves a failed batch to the visibility timeout and redrives a poison message to the DLQ", async () => {
    const dlq = await queue();
    // Visibility 0: a failed message is receivable again at once (no waiting in the test).
    const q = await queue({
      VisibilityTimeout: "0",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
    });
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "poison" }));
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "healthy" }));
    const fn = jsInvoker((event) => {
      if (event.Records.some((r) => r.body === "poison")) throw new TypeError("cannot parse");
    });
    const deadLetters = jsInvoker(() => undefined);
    const source = startSource(q.arn, fn.invoker, { batchSize: 1 });
    const dlqSource = startSource(dlq.arn, deadLetters.invoker);
    await deadLetters.until(() => deadLetters.records().some((r) => r.body === "poison"));
    await fn.until(() => fn.records().some((r) => r.body === "healthy"));
    await Promise.all([source.stop(), dlqSource.stop()]);

    const poisonCounts = fn
      .records()
      .filter((r) => r.body === "poison")
      .map((r) => r.attributes.ApproximateReceiveCount);
    expect(poisonCounts).toEqual(["1", "2", "3"]);
    const [dead] = deadLetters.records();
    expect(dead).toMatchObject({ body: "poison", eventSourceARN: dlq.arn });
    expect(dead!.messageId).toBe(fn.records()[0]!.messageId);
    expect(sqs.messages(q.arn)).toEqual([]);
    expect(sqs.messages(dlq.arn)).toEqual([]);
  });

  it("rejects batch sizes Lambda rejects", () => {
    expect(() =>
      startSource("arn:aws:sqs:us-east-1:000000000000:x", jsInvoker(() => undefined).invoker, {
        batchSize: 0,
      }),
    ).toThrow(RangeError);
  });
});

describe("handlesToDelete", () => {
  const records = ["m1", "m2"].map(
    (id) => ({ messageId: id, receiptHandle: `h-${id}` }) as SQSRecord,
  );

  it("deletes everything on success, nothing on a function error", () => {
    expect(handlesToDelete(records, { ok: true, payload: null }, true)).toEqual(["h-m1", "h-m2"]);
    expect(handlesToDelete(records, { ok: false }, true)).toEqual([]);
    expect(
      handlesToDelete(
        records,
        { ok: true, payload: { batchItemFailures: [{ itemIdentifier: "m1" }] } },
        false,
      ),
    ).toEqual(["h-m1", "h-m2"]);
  });

  it("fails the whole batch when a reported identifier is empty or unknown", () => {
    for (const itemIdentifier of ["", "m3", null]) {
      expect(
        handlesToDelete(
          records,
          { ok: true, payload: { batchItemFailures: [{ itemIdentifier }] } },
          true,
        ),
      ).toEqual([]);
    }
    expect(
      handlesToDelete(records, { ok: true, payload: { batchItemFailures: [] } }, true),
    ).toEqual(["h-m1", "h-m2"]);
  });
});
