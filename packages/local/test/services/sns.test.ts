import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BatchEntryIdsNotDistinctException,
  BatchRequestTooLongException,
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  EmptyBatchRequestException,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  InvalidParameterException,
  InvalidParameterValueException,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishBatchCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  TooManyEntriesInBatchRequestException,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";
import { loadEvent } from "@boarding-pass/testing";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createSnsService,
  type SnsService,
  type SqsMessageAttributes,
} from "../../src/services/sns";
import { clientConfig, type Served, serve } from "./serve";

/** The record of a real SNS delivery to Lambda (test/events/sns). */
const AWS_SNS_RECORD = loadEvent<SNSEvent>("sns", "notification").Records[0]!;

const FN = "arn:aws:lambda:us-east-1:000000000000:function:fanout";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:inbox";
const DLQ = "arn:aws:sqs:us-east-1:000000000000:dead-letters";

let sns: SnsService;
let served: Served;
let client: SNSClient;

beforeAll(async () => {
  sns = createSnsService({
    region: "us-east-1",
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4, maxConcurrency: 4 },
  });
  served = await serve(sns);
  client = new SNSClient(clientConfig(served.endpoint));
});
afterAll(async () => {
  client.destroy();
  await served.close();
  await sns.close();
});
beforeEach(async () => {
  await sns.idle();
  await sns.reset();
});

async function topic(name = "events"): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
  return TopicArn!;
}

/** Captures lambda invocations for one function ARN. */
function lambdaSink(arn = FN) {
  const events: SNSEvent[] = [];
  sns.registerLambda(arn, async (event) => {
    events.push(event);
  });
  return events;
}

describe("topics", () => {
  it("creates idempotently by name and returns the AWS ARN", async () => {
    const created = await client.send(new CreateTopicCommand({ Name: "orders" }));
    expect(created.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const a = await topic("orders");
    const b = await topic("orders");
    expect(a).toBe("arn:aws:sns:us-east-1:000000000000:orders");
    expect(b).toBe(a);
    const { Topics } = await client.send(new ListTopicsCommand({}));
    expect(Topics).toEqual([{ TopicArn: a }]);
  });

  it("rejects invalid names and conflicting attributes", async () => {
    await expect(client.send(new CreateTopicCommand({ Name: "bad name!" }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await client.send(new CreateTopicCommand({ Name: "t", Attributes: { DisplayName: "one" } }));
    await expect(
      client.send(new CreateTopicCommand({ Name: "t", Attributes: { DisplayName: "two" } })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("gets and sets attributes, including KmsMasterKeyId", async () => {
    const arn = await topic();
    await client.send(
      new SetTopicAttributesCommand({
        TopicArn: arn,
        AttributeName: "KmsMasterKeyId",
        AttributeValue: "alias/aws/sns",
      }),
    );
    await client.send(
      new SetTopicAttributesCommand({
        TopicArn: arn,
        AttributeName: "DisplayName",
        AttributeValue: "Events",
      }),
    );
    const { Attributes } = await client.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    expect(Attributes).toMatchObject({
      TopicArn: arn,
      Owner: "000000000000",
      DisplayName: "Events",
      KmsMasterKeyId: "alias/aws/sns",
      SubscriptionsConfirmed: "0",
    });
    expect(JSON.parse(Attributes!.Policy!).Statement[0].Resource).toBe(arn);
    await expect(
      client.send(
        new SetTopicAttributesCommand({
          TopicArn: arn,
          AttributeName: "Nope",
          AttributeValue: "x",
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("raises NotFoundException for unknown topics; DeleteTopic is idempotent", async () => {
    const missing = "arn:aws:sns:us-east-1:000000000000:missing";
    const err = await client
      .send(new GetTopicAttributesCommand({ TopicArn: missing }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundException);
    expect(err.message).toBe("Topic does not exist");
    expect(err.$metadata.httpStatusCode).toBe(404);
    await expect(
      client.send(new PublishCommand({ TopicArn: missing, Message: "x" })),
    ).rejects.toBeInstanceOf(NotFoundException);
    await client.send(new DeleteTopicCommand({ TopicArn: missing }));
    const arn = await topic();
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }));
    await client.send(new DeleteTopicCommand({ TopicArn: arn }));
    expect((await client.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
    expect((await client.send(new ListSubscriptionsCommand({}))).Subscriptions ?? []).toEqual([]);
  });

  it("paginates ListTopics by 100", async () => {
    for (let i = 0; i < 105; i++) await topic(`t${i}`);
    const first = await client.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    expect(first.NextToken).toBeTruthy();
    const second = await client.send(new ListTopicsCommand({ NextToken: first.NextToken }));
    expect(second.Topics).toHaveLength(5);
    expect(second.NextToken).toBeUndefined();
  });
});

describe("subscriptions", () => {
  it("subscribes, lists, describes and unsubscribes", async () => {
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "sqs",
        Endpoint: QUEUE,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    expect(SubscriptionArn).toMatch(new RegExp(`^${arn}:[0-9a-f-]{36}$`));
    // Same endpoint again returns the same subscription.
    const again = await client.send(
      new SubscribeCommand({ TopicArn: arn, Protocol: "sqs", Endpoint: QUEUE }),
    );
    expect(again.SubscriptionArn).toBe(SubscriptionArn);

    const { Subscriptions } = await client.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: arn }),
    );
    expect(Subscriptions).toEqual([
      { SubscriptionArn, Owner: "000000000000", Protocol: "sqs", Endpoint: QUEUE, TopicArn: arn },
    ]);
    const { Attributes } = await client.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn }),
    );
    expect(Attributes).toMatchObject({
      SubscriptionArn,
      TopicArn: arn,
      Protocol: "sqs",
      Endpoint: QUEUE,
      RawMessageDelivery: "true",
      PendingConfirmation: "false",
    });
    await client.send(new UnsubscribeCommand({ SubscriptionArn }));
    await expect(
      client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn })),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(client.send(new UnsubscribeCommand({ SubscriptionArn }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it.each([
    ["unsupported protocol", { Protocol: "email", Endpoint: "a@example.com" }],
    ["malformed lambda arn", { Protocol: "lambda", Endpoint: "my-function" }],
    ["non-loopback http", { Protocol: "http", Endpoint: "http://example.com/hook" }],
    [
      "raw delivery to lambda",
      { Protocol: "lambda", Endpoint: FN, Attributes: { RawMessageDelivery: "true" } },
    ],
    [
      "invalid filter policy",
      { Protocol: "lambda", Endpoint: FN, Attributes: { FilterPolicy: '{"a":"b"}' } },
    ],
    [
      "nested policy in attribute scope",
      { Protocol: "lambda", Endpoint: FN, Attributes: { FilterPolicy: '{"a":{"b":["c"]}}' } },
    ],
    [
      "bad redrive policy",
      {
        Protocol: "lambda",
        Endpoint: FN,
        Attributes: { RedrivePolicy: '{"deadLetterTargetArn":"nope"}' },
      },
    ],
    [
      "bad filter scope",
      { Protocol: "lambda", Endpoint: FN, Attributes: { FilterPolicyScope: "Everything" } },
    ],
  ])("rejects %s with InvalidParameterException", async (_name, input) => {
    const arn = await topic();
    await expect(
      client.send(new SubscribeCommand({ TopicArn: arn, ...input })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("validates filter policies on SetSubscriptionAttributes", async () => {
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }),
    );
    const set = (AttributeName: string, AttributeValue: string) =>
      client.send(
        new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName, AttributeValue }),
      );
    await expect(
      set("FilterPolicy", '{"price":[{"numeric":[">",10,">",5]}]}'),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(set("FilterPolicy", "not json")).rejects.toBeInstanceOf(InvalidParameterException);
    await set("FilterPolicy", '{"store":["example_corp"]}');
    const { Attributes } = await client.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn }),
    );
    expect(Attributes).toMatchObject({
      FilterPolicy: '{"store":["example_corp"]}',
      FilterPolicyScope: "MessageAttributes",
    });
    // A nested policy becomes invalid if the scope is switched back to attributes.
    await set("FilterPolicyScope", "MessageBody");
    await set("FilterPolicy", '{"order":{"state":["placed"]}}');
    await expect(set("FilterPolicyScope", "MessageAttributes")).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });
});

describe("publish and delivery", () => {
  it("delivers an SNSEvent to a lambda subscriber after Publish returns", async () => {
    const events = lambdaSink();
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }),
    );
    const { MessageId } = await client.send(
      new PublishCommand({
        TopicArn: arn,
        Subject: "greeting",
        Message: "hello",
        MessageGroupId: "ignored",
        MessageAttributes: {
          kind: { DataType: "String", StringValue: "user.created" },
          count: { DataType: "Number", StringValue: "3" },
          tags: { DataType: "String.Array", StringValue: '["a","b"]' },
          blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
    await sns.idle();
    expect(events).toHaveLength(1);
    const record = events[0]!.Records[0]!;
    expect(Object.keys(record).sort()).toEqual(Object.keys(AWS_SNS_RECORD).sort());
    expect(record).toMatchObject({
      EventVersion: "1.0",
      EventSource: "aws:sns",
      EventSubscriptionArn: SubscriptionArn,
    });
    expect(record.Sns).toMatchObject({
      Type: "Notification",
      MessageId,
      TopicArn: arn,
      Subject: "greeting",
      Message: "hello",
      SignatureVersion: "1",
      MessageAttributes: {
        kind: { Type: "String", Value: "user.created" },
        count: { Type: "Number", Value: "3" },
        tags: { Type: "String.Array", Value: '["a","b"]' },
        blob: { Type: "Binary", Value: "AQID" },
      },
    });
    expect(Number.isNaN(Date.parse(record.Sns.Timestamp))).toBe(false);
    expect(record.Sns.UnsubscribeUrl).toContain(encodeURIComponent(SubscriptionArn!));
    expect(sns.deliveries({ subscriptionArn: SubscriptionArn })).toMatchObject([
      { messageId: MessageId, attempt: 1, status: "delivered", protocol: "lambda", endpoint: FN },
    ]);
  });

  it("delivers the JSON envelope to sqs, or the raw body with attributes when raw", async () => {
    const received: Array<{ queue: string; body: string; attrs: SqsMessageAttributes }> = [];
    const rawQueue = "arn:aws:sqs:us-east-1:000000000000:raw";
    sns.registerQueue(QUEUE, async (body, attrs) => {
      received.push({ queue: QUEUE, body, attrs });
    });
    sns.registerQueue(rawQueue, async (body, attrs) => {
      received.push({ queue: rawQueue, body, attrs });
    });
    const arn = await topic();
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: "sqs", Endpoint: QUEUE }));
    await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "sqs",
        Endpoint: rawQueue,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const { MessageId } = await client.send(
      new PublishCommand({
        TopicArn: arn,
        Message: "payload",
        MessageAttributes: { k: { DataType: "String", StringValue: "v" } },
      }),
    );
    await sns.idle();
    const wrapped = received.find((r) => r.queue === QUEUE)!;
    expect(JSON.parse(wrapped.body)).toMatchObject({
      Type: "Notification",
      MessageId,
      TopicArn: arn,
      Message: "payload",
      MessageAttributes: { k: { Type: "String", Value: "v" } },
    });
    expect(Object.keys(JSON.parse(wrapped.body))).toContain("SigningCertURL");
    const raw = received.find((r) => r.queue === rawQueue)!;
    expect(raw.body).toBe("payload");
    expect(raw.attrs).toEqual({ k: { DataType: "String", StringValue: "v" } });
  });

  it("confirms HTTP subscriptions through the SubscribeURL handshake, then POSTs notifications", async () => {
    const requests: Array<{ headers: Record<string, unknown>; body: Record<string, string> }> = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", async () => {
        const message = JSON.parse(body) as Record<string, string>;
        requests.push({ headers: req.headers, body: message });
        // What a real subscriber does: visit SubscribeURL to confirm.
        if (message.Type === "SubscriptionConfirmation") await fetch(message.SubscribeURL!);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const arn = await topic();
      const subscribed = await client.send(
        new SubscribeCommand({ TopicArn: arn, Protocol: "http", Endpoint: url }),
      );
      expect(subscribed.SubscriptionArn).toBe("pending confirmation");
      await sns.idle();
      const confirmation = requests[0]!;
      expect(confirmation.headers["x-amz-sns-message-type"]).toBe("SubscriptionConfirmation");
      expect(confirmation.body).toMatchObject({ Type: "SubscriptionConfirmation", TopicArn: arn });
      expect(confirmation.body.SubscribeURL).toContain(`Token=${confirmation.body.Token}`);

      const { Subscriptions } = await client.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: arn }),
      );
      const SubscriptionArn = Subscriptions![0]!.SubscriptionArn!;
      expect(SubscriptionArn).toMatch(new RegExp(`^${arn}:`));
      const { Attributes } = await client.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn }),
      );
      expect(Attributes?.PendingConfirmation).toBe("false");
      // Confirming again with the used token is harmless; a wrong token is not.
      await client.send(
        new ConfirmSubscriptionCommand({ TopicArn: arn, Token: confirmation.body.Token! }),
      );
      await expect(
        client.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: "forged" })),
      ).rejects.toBeInstanceOf(InvalidParameterException);

      const { MessageId } = await client.send(
        new PublishCommand({ TopicArn: arn, Message: "ping" }),
      );
      await sns.idle();
      expect(requests).toHaveLength(2);
      expect(requests[1]!.headers).toMatchObject({
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": MessageId,
        "x-amz-sns-topic-arn": arn,
        "x-amz-sns-subscription-arn": SubscriptionArn,
      });
      expect(requests[1]!.body).toMatchObject({ Type: "Notification", MessageId, Message: "ping" });
    } finally {
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });

  it("does not deliver to a pending HTTP subscription", async () => {
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "http",
        Endpoint: "http://127.0.0.1:9/never",
        ReturnSubscriptionArn: true,
      }),
    );
    expect(SubscriptionArn).toMatch(new RegExp(`^${arn}:`));
    const { Attributes } = await client.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn }),
    );
    expect(Attributes?.PendingConfirmation).toBe("true");
    const topicAttributes = await client.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    expect(topicAttributes.Attributes).toMatchObject({
      SubscriptionsPending: "1",
      SubscriptionsConfirmed: "0",
    });
    const { Subscriptions } = await client.send(new ListSubscriptionsCommand({}));
    expect(Subscriptions?.[0]?.SubscriptionArn).toBe("PendingConfirmation");
    await client.send(new PublishCommand({ TopicArn: arn, Message: "not for you" }));
    await sns.idle();
    // Only the confirmation request was attempted (and failed: nothing listens on port 9).
    const kinds = new Set(
      sns.deliveries({ subscriptionArn: SubscriptionArn }).map((d) => d.messageId),
    );
    expect(kinds.size).toBe(1);
    const control = await sns.control("subscriptions", new URLSearchParams({ topicArn: arn }));
    expect(JSON.parse(String(control.body)).subscriptions).toMatchObject([
      { SubscriptionArn, PendingConfirmation: "true", Protocol: "http" },
    ]);
    expect((await sns.control("nope", new URLSearchParams())).status).toBe(404);
  });

  it("applies filter policies on attributes and on the body", async () => {
    const byAttr = lambdaSink("arn:aws:lambda:us-east-1:000000000000:function:byattr");
    const byBody = lambdaSink("arn:aws:lambda:us-east-1:000000000000:function:bybody");
    const arn = await topic();
    await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "lambda",
        Endpoint: "arn:aws:lambda:us-east-1:000000000000:function:byattr",
        Attributes: {
          FilterPolicy: JSON.stringify({
            event: ["order_placed"],
            price_usd: [{ numeric: [">=", 100] }],
          }),
        },
      }),
    );
    await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "lambda",
        Endpoint: "arn:aws:lambda:us-east-1:000000000000:function:bybody",
        Attributes: {
          FilterPolicyScope: "MessageBody",
          FilterPolicy: JSON.stringify({ order: { state: [{ prefix: "pla" }] } }),
        },
      }),
    );
    const publish = (message: string, event: string, price: string) =>
      client.send(
        new PublishCommand({
          TopicArn: arn,
          Message: message,
          MessageAttributes: {
            event: { DataType: "String", StringValue: event },
            price_usd: { DataType: "Number", StringValue: price },
          },
        }),
      );
    await publish(JSON.stringify({ order: { state: "placed" } }), "order_placed", "210.75");
    await publish(JSON.stringify({ order: { state: "cancelled" } }), "order_placed", "99");
    await publish("not json", "order_cancelled", "500");
    await sns.idle();
    expect(byAttr.map((e) => e.Records[0]!.Sns.MessageAttributes.price_usd!.Value)).toEqual([
      "210.75",
    ]);
    expect(byBody.map((e) => JSON.parse(e.Records[0]!.Sns.Message).order.state)).toEqual([
      "placed",
    ]);
  });

  it("routes per-protocol messages with MessageStructure=json", async () => {
    const events = lambdaSink();
    const arn = await topic();
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }));
    await client.send(
      new PublishCommand({
        TopicArn: arn,
        MessageStructure: "json",
        Message: JSON.stringify({ default: "d", lambda: "for-lambda" }),
      }),
    );
    await expect(
      client.send(
        new PublishCommand({ TopicArn: arn, MessageStructure: "json", Message: '{"sqs":"x"}' }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await sns.idle();
    expect(events.map((e) => e.Records[0]!.Sns.Message)).toEqual(["for-lambda"]);
  });

  it("rejects invalid messages and attributes", async () => {
    const arn = await topic();
    await expect(
      client.send(new PublishCommand({ TopicArn: arn, Message: "" })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      client.send(new PublishCommand({ TopicArn: arn, Message: "x".repeat(256 * 1024 + 1) })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      client.send(
        new PublishCommand({
          TopicArn: arn,
          Message: "m",
          MessageAttributes: { n: { DataType: "Number", StringValue: "abc" } },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
  });

  it("retries a failing subscriber, then dead-letters to the RedrivePolicy queue", async () => {
    let calls = 0;
    sns.registerLambda(FN, async () => {
      calls++;
      throw new Error("boom");
    });
    const dead: string[] = [];
    sns.registerQueue(DLQ, async (body) => {
      dead.push(body);
    });
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "lambda",
        Endpoint: FN,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ }) },
      }),
    );
    const { MessageId } = await client.send(
      new PublishCommand({ TopicArn: arn, Message: "doomed" }),
    );
    await sns.idle();
    expect(calls).toBe(3);
    expect(dead.map((b) => JSON.parse(b).MessageId)).toEqual([MessageId]);
    expect(
      sns
        .deliveries({ subscriptionArn: SubscriptionArn })
        .map((d) => [d.attempt, d.status, d.error]),
    ).toEqual([
      [1, "failed", "boom"],
      [2, "failed", "boom"],
      [3, "failed", "boom"],
      [0, "dead-lettered", undefined],
    ]);
    const control = await sns.control(
      "/deliveries",
      new URLSearchParams({ subscriptionArn: SubscriptionArn! }),
    );
    expect(control.status).toBe(200);
    expect(JSON.parse(String(control.body)).deliveries).toHaveLength(4);
  });

  it("drops after retries without a dead-letter queue (and when nothing is registered)", async () => {
    const arn = await topic();
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: "lambda",
        Endpoint: "arn:aws:lambda:us-east-1:000000000000:function:ghost",
      }),
    );
    await client.send(new PublishCommand({ TopicArn: arn, Message: "lost" }));
    await sns.idle();
    const records = sns.deliveries({ subscriptionArn: SubscriptionArn });
    expect(records.map((d) => d.status)).toEqual(["failed", "failed", "failed", "dropped"]);
    expect(records[0]!.error).toContain("no local Lambda registered");
  });

  it("counts a subscriber that never settles as a failed attempt", async () => {
    const local = createSnsService({
      region: "us-east-1",
      retry: { attempts: 2, baseDelayMs: 1, attemptTimeoutMs: 20 },
    });
    const server = await serve(local);
    const localClient = new SNSClient(clientConfig(server.endpoint));
    try {
      local.registerLambda(FN, () => new Promise<void>(() => {}));
      const { TopicArn } = await localClient.send(new CreateTopicCommand({ Name: "hung" }));
      await localClient.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: FN }));
      await localClient.send(new PublishCommand({ TopicArn, Message: "never acked" }));
      await local.idle();
      expect(local.deliveries({ topicArn: TopicArn }).map((d) => [d.status, d.error])).toEqual([
        ["failed", "attempt timed out after 20 ms"],
        ["failed", "attempt timed out after 20 ms"],
        ["dropped", undefined],
      ]);
    } finally {
      localClient.destroy();
      await server.close();
      await local.close();
    }
  });

  it("delivers 200 concurrent publishes exactly once each, with bounded concurrency", async () => {
    const seen = new Map<string, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    sns.registerLambda(FN, async (event) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Yield so that overlapping invocations would be observable.
      await new Promise((resolve) => setImmediate(resolve));
      const id = event.Records[0]!.Sns.MessageId;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      inFlight--;
    });
    const arn = await topic();
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.send(new PublishCommand({ TopicArn: arn, Message: `m${i}` })),
      ),
    );
    await sns.idle();
    const ids = results.map((r) => r.MessageId!);
    expect(new Set(ids).size).toBe(200);
    expect(seen.size).toBe(200);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(ids.every((id) => seen.get(id) === 1)).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });
});

describe("PublishBatch", () => {
  it("returns per-entry Successful and Failed with HTTP 200", async () => {
    const events = lambdaSink();
    const arn = await topic();
    await client.send(new SubscribeCommand({ TopicArn: arn, Protocol: "lambda", Endpoint: FN }));
    const out = await client.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: [
          {
            Id: "ok-1",
            Message: "one",
            MessageAttributes: { a: { DataType: "String", StringValue: "x" } },
          },
          {
            Id: "bad",
            Message: "two",
            MessageAttributes: { n: { DataType: "Number", StringValue: "NaNish" } },
          },
          { Id: "ok-2", Message: "three" },
        ],
      }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.Successful?.map((s) => s.Id)).toEqual(["ok-1", "ok-2"]);
    expect(out.Successful?.every((s) => /^[0-9a-f-]{36}$/.test(s.MessageId!))).toBe(true);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: "bad", Code: "ParameterValueInvalid", SenderFault: true }),
    ]);
    await sns.idle();
    expect(events.map((e) => e.Records[0]!.Sns.Message).sort()).toEqual(["one", "three"]);
  });

  it.each([
    [
      "more than 10 entries",
      Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, Message: "m" })),
      TooManyEntriesInBatchRequestException,
    ],
    [
      "duplicate ids",
      [
        { Id: "a", Message: "m" },
        { Id: "a", Message: "n" },
      ],
      BatchEntryIdsNotDistinctException,
    ],
    [
      "over 256 KiB in total",
      Array.from({ length: 3 }, (_, i) => ({ Id: `e${i}`, Message: "x".repeat(100 * 1024) })),
      BatchRequestTooLongException,
    ],
    ["no entries", [], EmptyBatchRequestException],
  ])("rejects %s", async (_name, entries, errorClass) => {
    const arn = await topic();
    await expect(
      client.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries })),
    ).rejects.toBeInstanceOf(errorClass);
  });
});
