/**
 * What runs after Publish has answered: the fan-out of an accepted message to the subscriptions
 * it matches, the message each endpoint receives (SNS's JSON envelope, the raw message, or a
 * Lambda `SNSEvent`), the HTTP confirmation request, and the recovery at open of deliveries a
 * previous process accepted and did not settle. Attempts, retries and dead-lettering are the
 * delivery engine's (`delivery.ts`); matching is the filter's (`filter.ts`).
 */
import { randomUUID } from "node:crypto";
import type { SNSEvent, SNSMessageAttributes } from "aws-lambda";
import { DEFAULT_RETRY, DeliveryEngine, type DeliveryJob, type DeliveryRecord } from "./delivery";
import { matchesFilterPolicy } from "./filter";
import {
  type LambdaCallback,
  LOCAL_SIGNATURE,
  type MessageAttribute,
  type PendingMessageView,
  type PublishInput,
  type QueueCallback,
  type SnsProtocol,
  type SnsServiceOptions,
  type SqsMessageAttributes,
  type Subscription,
  signingCertUrl,
  type Topic,
  unsubscribeUrl,
} from "./model";
import type { SnsState } from "./state";

export class SnsPublisher {
  readonly #lambdas = new Map<string, LambdaCallback>();
  readonly #queues = new Map<string, QueueCallback>();
  /** Recovered deliveries waiting for their lambda/sqs endpoint to be registered, by endpoint. */
  readonly #parked = new Map<string, DeliveryJob[]>();
  readonly #engine: DeliveryEngine;

  constructor(
    private readonly state: SnsState,
    private readonly options: SnsServiceOptions,
  ) {
    this.#engine = new DeliveryEngine(
      { ...DEFAULT_RETRY, ...options.retry },
      options.maxDeliveryRecords,
      (job) => {
        // Confirmation requests are not published messages: only journal tracked deliveries.
        if (state.pendingMessages.get(job.messageId)?.subscriptionArns.has(job.subscriptionArn)) {
          state.commit({
            op: "settled",
            messageId: job.messageId,
            subscriptionArn: job.subscriptionArn,
          });
        }
      },
    );
  }

  registerLambda(functionArn: string, callback: LambdaCallback): void {
    this.#lambdas.set(functionArn, callback);
    this.releaseParked(functionArn);
  }

  registerQueue(queueArn: string, callback: QueueCallback): void {
    this.#queues.set(queueArn, callback);
    this.releaseParked(queueArn);
  }

  deliveries(
    filter: { topicArn?: string; subscriptionArn?: string; messageId?: string } = {},
  ): DeliveryRecord[] {
    return this.#engine.list(filter);
  }

  idle(): Promise<void> {
    return this.#engine.idle();
  }

  /**
   * Journals the accepted message with the subscriptions it matches, then schedules their
   * deliveries: Publish answers after this returns, so an acknowledged message is on disk.
   */
  fanOut(topic: Topic, messageId: string, input: PublishInput): void {
    const timestamp = new Date().toISOString();
    const matched: Array<{ sub: Subscription; message: string }> = [];
    for (const sub of this.state.subscriptions.values()) {
      if (sub.topicArn !== topic.arn || sub.pendingToken) continue;
      const message = messageFor(sub.protocol, input);
      if (
        !sub.filter ||
        matchesFilterPolicy(sub.filter, { attributes: input.attributes, body: message })
      ) {
        matched.push({ sub, message });
      }
    }
    if (matched.length === 0) return;
    this.state.commit({
      op: "publish",
      messageId,
      topicArn: topic.arn,
      timestamp,
      input: durableInput(input),
      subscriptionArns: matched.map(({ sub }) => sub.arn),
    });
    for (const { sub, message } of matched) {
      this.#engine.enqueue(this.#deliveryJob(sub, messageId, input, timestamp, message));
    }
  }

  /** POSTs the SubscriptionConfirmation message, with the engine's retries. */
  requestConfirmation(sub: Subscription, base: string): void {
    const messageId = randomUUID();
    const token = sub.pendingToken!;
    const subscribeUrl =
      `${base}/?Action=ConfirmSubscription&Version=2010-03-31` +
      `&TopicArn=${encodeURIComponent(sub.topicArn)}&Token=${token}`;
    const body = JSON.stringify({
      Type: "SubscriptionConfirmation",
      MessageId: messageId,
      Token: token,
      TopicArn: sub.topicArn,
      Message: `You have chosen to subscribe to the topic ${sub.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: subscribeUrl,
      Timestamp: new Date().toISOString(),
      SignatureVersion: "1",
      Signature: LOCAL_SIGNATURE,
      SigningCertURL: signingCertUrl(this.options.region),
    });
    this.#engine.enqueue({
      messageId,
      topicArn: sub.topicArn,
      subscriptionArn: sub.arn,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
      send: () => this.#postHttp(sub, body, "SubscriptionConfirmation", messageId, false),
    });
  }

  /**
   * Runs again every delivery a previous process accepted and did not settle. One whose
   * subscription is gone is settled at once (SNS stops delivering to a deleted subscription);
   * one whose lambda/sqs target is not registered yet is parked until it is.
   */
  recoverPending(): void {
    for (const pending of [...this.state.pendingMessages.values()]) {
      for (const arn of [...pending.subscriptionArns]) {
        const sub = this.state.subscriptions.get(arn);
        if (!sub) {
          this.state.commit({ op: "settled", messageId: pending.messageId, subscriptionArn: arn });
          continue;
        }
        const job = this.#deliveryJob(sub, pending.messageId, pending.input, pending.timestamp);
        if (this.#targetReady(sub)) this.#engine.enqueue(job);
        else this.#parked.set(sub.endpoint, [...(this.#parked.get(sub.endpoint) ?? []), job]);
      }
    }
  }

  releaseParked(endpoint: string): void {
    const jobs = this.#parked.get(endpoint);
    if (!jobs) return;
    this.#parked.delete(endpoint);
    for (const job of jobs) this.#engine.enqueue(job);
  }

  pendingView(): PendingMessageView[] {
    const waiting = new Map<string, string[]>();
    for (const [endpoint, jobs] of this.#parked) {
      for (const job of jobs) {
        waiting.set(job.messageId, [...(waiting.get(job.messageId) ?? []), endpoint]);
      }
    }
    return [...this.state.pendingMessages.values()].map((p) => ({
      messageId: p.messageId,
      topicArn: p.topicArn,
      timestamp: p.timestamp,
      subscriptionArns: [...p.subscriptionArns],
      waitingFor: waiting.get(p.messageId) ?? [],
    }));
  }

  /** Forgets parked deliveries and delivery records (pending ones are cleared by the state). */
  clear(): void {
    this.#parked.clear();
    this.#engine.clear();
  }

  close(): void {
    this.#engine.close();
  }

  #deliveryJob(
    sub: Subscription,
    messageId: string,
    input: PublishInput,
    timestamp: string,
    message = messageFor(sub.protocol, input),
  ): DeliveryJob {
    const envelope = this.#notificationEnvelope(sub, messageId, message, input, timestamp);
    const raw = sub.attributes.RawMessageDelivery === "true";
    const deadLetterArn = deadLetterTarget(sub);
    return {
      messageId,
      topicArn: sub.topicArn,
      subscriptionArn: sub.arn,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
      send: () => this.#sendOnce(sub, envelope, message, input, raw, messageId, timestamp),
      deadLetter: deadLetterArn
        ? () =>
            this.#sendToQueue(
              deadLetterArn,
              raw ? message : JSON.stringify(envelope),
              raw ? input.attributes : {},
            )
        : undefined,
    };
  }

  /** Whether a lambda/sqs endpoint can be reached now (HTTP endpoints are just tried). */
  #targetReady(sub: Subscription): boolean {
    const { deliver, sqs } = this.options;
    if (sub.protocol === "lambda") return this.#lambdas.has(sub.endpoint) || !!deliver;
    if (sub.protocol === "sqs") {
      return this.#queues.has(sub.endpoint) || !!sqs?.hasQueue(sub.endpoint) || !!deliver;
    }
    return true;
  }

  async #sendOnce(
    sub: Subscription,
    envelope: Record<string, unknown>,
    message: string,
    input: PublishInput,
    raw: boolean,
    messageId: string,
    timestamp: string,
  ): Promise<void> {
    switch (sub.protocol) {
      case "lambda": {
        const event = lambdaEvent(sub, message, input, messageId, timestamp, this.options.region);
        const callback = this.#lambdas.get(sub.endpoint);
        if (callback) return callback(event);
        if (this.options.deliver) {
          return this.options.deliver(
            { protocol: "lambda", endpoint: sub.endpoint, subscriptionArn: sub.arn },
            { event, body: JSON.stringify(envelope), attributes: {} },
          );
        }
        throw new Error(`no local Lambda registered for ${sub.endpoint}`);
      }
      case "sqs":
        return this.#sendToQueue(
          sub.endpoint,
          raw ? message : JSON.stringify(envelope),
          raw ? input.attributes : {},
          sub,
        );
      case "http":
      case "https":
        return this.#postHttp(
          sub,
          raw ? message : JSON.stringify(envelope),
          "Notification",
          messageId,
          raw,
        );
    }
  }

  async #sendToQueue(
    queueArn: string,
    body: string,
    attributes: SqsMessageAttributes,
    sub?: Subscription,
  ): Promise<void> {
    const callback = this.#queues.get(queueArn);
    if (callback) return callback(body, attributes);
    const { deliver, sqs } = this.options;
    if (sqs?.hasQueue(queueArn)) {
      sqs.enqueue(queueArn, body, attributes);
      return;
    }
    if (deliver && sub) {
      return deliver(
        { protocol: "sqs", endpoint: queueArn, subscriptionArn: sub.arn },
        { body, attributes },
      );
    }
    throw new Error(`no local queue registered for ${queueArn}`);
  }

  async #postHttp(
    sub: Subscription,
    body: string,
    type: "Notification" | "SubscriptionConfirmation",
    messageId: string,
    raw: boolean,
  ): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": type,
      "x-amz-sns-message-id": messageId,
      "x-amz-sns-topic-arn": sub.topicArn,
      "user-agent": "Amazon Simple Notification Service Agent",
    };
    // SNS names the subscription in the headers only of notifications.
    if (type === "Notification") headers["x-amz-sns-subscription-arn"] = sub.arn;
    if (raw) headers["x-amz-sns-rawdelivery"] = "true";
    const response = await fetch(sub.endpoint, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 5_000),
    });
    // Drain the body so the connection is released; only the status matters to SNS.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`HTTP ${response.status} from ${sub.endpoint}`);
    }
  }

  #notificationEnvelope(
    sub: Subscription,
    messageId: string,
    message: string,
    input: PublishInput,
    timestamp: string,
  ): Record<string, unknown> {
    const region = this.options.region;
    const envelope: Record<string, unknown> = {
      Type: "Notification",
      MessageId: messageId,
      TopicArn: sub.topicArn,
    };
    if (input.subject !== undefined) envelope.Subject = input.subject;
    Object.assign(envelope, {
      Message: message,
      Timestamp: timestamp,
      SignatureVersion: "1",
      Signature: LOCAL_SIGNATURE,
      SigningCertURL: signingCertUrl(region),
      UnsubscribeURL: unsubscribeUrl(region, sub.arn),
    });
    if (Object.keys(input.attributes).length > 0)
      envelope.MessageAttributes = snsAttributes(input.attributes);
    return envelope;
  }
}

function deadLetterTarget(sub: Subscription): string | undefined {
  const policy = sub.attributes.RedrivePolicy;
  if (!policy) return undefined;
  const target = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  return typeof target === "string" ? target : undefined;
}

/**
 * The message as journaled: plain JSON. Binary attribute values are base64 on the query wire, but
 * a caller inside the process may hand in bytes: those are written as base64 too.
 */
function durableInput(input: PublishInput): PublishInput {
  const attributes: Record<string, MessageAttribute> = {};
  for (const [name, attr] of Object.entries(input.attributes)) {
    const binary = attr.BinaryValue as unknown;
    attributes[name] =
      binary !== undefined && typeof binary !== "string"
        ? { ...attr, BinaryValue: Buffer.from(binary as Uint8Array).toString("base64") }
        : attr;
  }
  return { ...input, attributes };
}

/** With MessageStructure=json each protocol gets its own key, else `default`. */
function messageFor(protocol: SnsProtocol, input: PublishInput): string {
  if (input.messageStructure !== "json") return input.message;
  const parsed = JSON.parse(input.message) as Record<string, unknown>;
  const specific = parsed[protocol];
  return typeof specific === "string" ? specific : (parsed.default as string);
}

function snsAttributes(attributes: Record<string, MessageAttribute>): SNSMessageAttributes {
  const out: SNSMessageAttributes = {};
  for (const [name, attr] of Object.entries(attributes)) {
    out[name] = { Type: attr.DataType, Value: attr.BinaryValue ?? attr.StringValue ?? "" };
  }
  return out;
}

function lambdaEvent(
  sub: Subscription,
  message: string,
  input: PublishInput,
  messageId: string,
  timestamp: string,
  region: string,
): SNSEvent {
  return {
    Records: [
      {
        EventVersion: "1.0",
        EventSubscriptionArn: sub.arn,
        EventSource: "aws:sns",
        Sns: {
          Type: "Notification",
          MessageId: messageId,
          TopicArn: sub.topicArn,
          ...(input.subject !== undefined ? { Subject: input.subject } : {}),
          Message: message,
          Timestamp: timestamp,
          SignatureVersion: "1",
          Signature: LOCAL_SIGNATURE,
          SigningCertUrl: signingCertUrl(region),
          UnsubscribeUrl: unsubscribeUrl(region, sub.arn),
          MessageAttributes: snsAttributes(input.attributes),
        },
      },
    ],
  };
}
