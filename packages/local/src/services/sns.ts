/**
 * Emulated Amazon SNS (query protocol, API version 2010-03-31).
 *
 * Control plane (topics, subscriptions, attributes) lives in memory and, with `dataDir`, in a
 * journal so it survives restarts. Acknowledged means durable: Publish journals each accepted
 * message with the subscriptions it matched before answering, and each delivery's final outcome
 * is journaled as it settles, so a kill -9 loses no accepted message: on open, deliveries still
 * pending are run again (at least once, as SNS promises). Messages are delivered asynchronously to
 * - `lambda` endpoints through callbacks registered with `registerLambda` (an `SNSEvent`),
 * - `sqs` endpoints through callbacks registered with `registerQueue` (the SQS message body),
 *   else into the local SQS service (`sqs` option) when it has that queue,
 * - `http`/`https` endpoints on loopback only (the SNS HTTP JSON body),
 * - otherwise the `deliver` fallback option, if given (e.g. a local Lambda runtime).
 * A lambda or sqs delivery recovered at open whose target has no callback yet waits for its
 * registration, instead of burning its retries while the runtime is still starting.
 *
 * HTTP(S) subscriptions go through SNS's confirmation handshake by default: they start pending,
 * the endpoint receives a `SubscriptionConfirmation` POST whose `SubscribeURL` (on the local
 * endpoint) or ConfirmSubscription call confirms them. `httpConfirmation: "auto"` skips it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { SNSEvent, SNSMessageAttributes } from "aws-lambda";
import { Journal } from "../journal";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../types";
import {
  listItems,
  nested,
  type ParamTree,
  QueryError,
  queryResponse,
  readEntryMap,
  readQueryParams,
  requireParam,
  runQueryAction,
  type XmlValue,
  xmlEntryMap,
} from "./query-protocol";
import {
  DEFAULT_RETRY,
  DeliveryEngine,
  type DeliveryJob,
  type DeliveryRecord,
  type RetryPolicy,
} from "./sns-delivery";
import {
  type FilterableAttribute,
  type FilterPolicy,
  FilterPolicyError,
  type FilterPolicyScope,
  matchesFilterPolicy,
  parseFilterPolicy,
} from "./sns-filter";

export type { DeliveryRecord, RetryPolicy } from "./sns-delivery";

const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_BATCH_ENTRIES = 10;
const MAX_MESSAGE_ATTRIBUTES = 10;
const PAGE_SIZE = 100;

export type SnsProtocol = "lambda" | "sqs" | "http" | "https";
const PROTOCOLS: readonly SnsProtocol[] = ["lambda", "sqs", "http", "https"];

/** A Publish message attribute, as on the wire. */
export type MessageAttribute = FilterableAttribute;

/** SQS message attributes as a raw-delivery SQS queue would receive them. */
export type SqsMessageAttributes = Record<string, MessageAttribute>;

export type LambdaCallback = (event: SNSEvent) => Promise<void>;
export type QueueCallback = (body: string, attributes: SqsMessageAttributes) => Promise<void>;

/** The local SQS service, as SNS needs it (see `services/sqs.ts`). */
export interface SnsQueueTarget {
  hasQueue(queueArn: string): boolean;
  /** Stores the message in the queue (durably when the queue service persists); throws if not. */
  enqueue(queueArn: string, body: string, attributes: SqsMessageAttributes): unknown;
  /** Calls `listener` with the ARN of each queue created from now on. */
  onQueueCreated?(listener: (queueArn: string) => void): void;
}

export interface DeliveryTarget {
  protocol: SnsProtocol;
  endpoint: string;
  subscriptionArn: string;
}
export interface DeliveryPayload {
  /** For lambda endpoints. */
  event?: SNSEvent;
  /** SQS/HTTP body (the JSON envelope, or the raw message with RawMessageDelivery). */
  body: string;
  attributes: SqsMessageAttributes;
}

export interface SnsServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /** The local SQS: `sqs` subscriptions (and dead-letter targets) deliver into its queues. */
  sqs?: SnsQueueTarget;
  /** Fallback for lambda/sqs endpoints that have no registered callback. */
  deliver?: (target: DeliveryTarget, payload: DeliveryPayload) => Promise<void>;
  retry?: Partial<RetryPolicy>;
  /** Timeout of one HTTP delivery attempt (default 5 s, as SNS's default). */
  httpTimeoutMs?: number;
  /** Delivery records kept for inspection (default 10,000, oldest dropped). */
  maxDeliveryRecords?: number;
  /** `handshake` (default, as AWS) or `auto` (HTTP subscriptions confirmed on Subscribe). */
  httpConfirmation?: "handshake" | "auto";
  /**
   * Base URL of the SubscribeURL links; default: the Host of the Subscribe request, so links
   * point back at whichever local endpoint the caller used.
   */
  publicEndpoint?: string;
}

export interface SnsService extends LocalService {
  readonly name: "sns";
  registerLambda(functionArn: string, callback: LambdaCallback): void;
  registerQueue(queueArn: string, callback: QueueCallback): void;
  deliveries(filter?: {
    topicArn?: string;
    subscriptionArn?: string;
    messageId?: string;
  }): DeliveryRecord[];
  /** Resolves once no delivery is pending (tests). */
  idle(): Promise<void>;
  /** Accepted messages with deliveries not yet settled (what a restart would deliver again). */
  pending(): PendingMessageView[];
  /**
   * `/_local/sns/<path>` inspection routes: `deliveries?topicArn=&subscriptionArn=&messageId=`,
   * `subscriptions?topicArn=` and `pending`.
   */
  control(path: string, query: URLSearchParams): Promise<ServiceResponse>;
}

export interface PendingMessageView {
  messageId: string;
  topicArn: string;
  timestamp: string;
  /** Subscriptions whose delivery has not settled yet. */
  subscriptionArns: string[];
  /** Recovered at open and waiting for `registerLambda`/`registerQueue` of their endpoint. */
  waitingFor: string[];
}

/** An accepted message whose deliveries are not all settled. */
interface PendingMessage {
  messageId: string;
  topicArn: string;
  timestamp: string;
  input: PublishInput;
  subscriptionArns: Set<string>;
}

interface Topic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
}

interface Subscription {
  arn: string;
  topicArn: string;
  protocol: SnsProtocol;
  endpoint: string;
  attributes: Record<string, string>;
  /** Set while an HTTP subscription awaits confirmation: the token SubscribeURL carries. */
  pendingToken?: string;
  /** Parsed from attributes.FilterPolicy; not journaled (derived). */
  filter?: FilterPolicy;
}

type JournalRecord =
  | { op: "createTopic"; arn: string; name: string; attributes: Record<string, string> }
  | { op: "setTopicAttribute"; arn: string; name: string; value: string }
  | { op: "deleteTopic"; arn: string }
  | {
      op: "subscribe";
      arn: string;
      topicArn: string;
      protocol: SnsProtocol;
      endpoint: string;
      attributes: Record<string, string>;
      pendingToken?: string;
    }
  | { op: "confirmSubscription"; arn: string }
  | { op: "setSubscriptionAttribute"; arn: string; name: string; value: string }
  | { op: "unsubscribe"; arn: string }
  /** An accepted message and the subscriptions it is to be delivered to. */
  | {
      op: "publish";
      messageId: string;
      topicArn: string;
      timestamp: string;
      input: PublishInput;
      subscriptionArns: string[];
    }
  /** One delivery reached its final outcome (delivered, dead-lettered or dropped). */
  | { op: "settled"; messageId: string; subscriptionArn: string };

interface PublishInput {
  message: string;
  subject?: string;
  messageStructure?: string;
  attributes: Record<string, MessageAttribute>;
}

const SETTABLE_TOPIC_ATTRIBUTES = new Set([
  "DisplayName",
  "Policy",
  "DeliveryPolicy",
  "KmsMasterKeyId",
  "TracingConfig",
  "SignatureVersion",
  "ArchivePolicy",
  "DataProtectionPolicy",
]);
const SETTABLE_SUBSCRIPTION_ATTRIBUTES = new Set([
  "DeliveryPolicy",
  "FilterPolicy",
  "FilterPolicyScope",
  "RawMessageDelivery",
  "RedrivePolicy",
  "SubscriptionRoleArn",
]);

export function createSnsService(options: SnsServiceOptions): SnsService {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const region = options.region;
  const topics = new Map<string, Topic>();
  const subscriptions = new Map<string, Subscription>();
  const lambdas = new Map<string, LambdaCallback>();
  /** Tokens already used → subscription, so a repeated SubscribeURL visit still succeeds. */
  const confirmedTokens = new Map<string, string>();
  const queues = new Map<string, QueueCallback>();
  const pendingMessages = new Map<string, PendingMessage>();
  /** Recovered deliveries waiting for their lambda/sqs endpoint to be registered, by endpoint. */
  const parked = new Map<string, DeliveryJob[]>();
  const engine = new DeliveryEngine(
    { ...DEFAULT_RETRY, ...options.retry },
    options.maxDeliveryRecords,
    (job) => {
      // Confirmation requests are not published messages: only journal tracked deliveries.
      if (pendingMessages.get(job.messageId)?.subscriptionArns.has(job.subscriptionArn)) {
        journal.commit({
          op: "settled",
          messageId: job.messageId,
          subscriptionArn: job.subscriptionArn,
        });
      }
    },
  );

  // ---- state transitions: the only code that mutates topics/subscriptions, shared by replay ----
  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "createTopic":
        topics.set(record.arn, {
          arn: record.arn,
          name: record.name,
          attributes: { ...record.attributes },
        });
        break;
      case "setTopicAttribute": {
        const topic = topics.get(record.arn);
        if (topic) topic.attributes[record.name] = record.value;
        break;
      }
      case "deleteTopic":
        topics.delete(record.arn);
        for (const [arn, sub] of subscriptions)
          if (sub.topicArn === record.arn) subscriptions.delete(arn);
        break;
      case "subscribe": {
        const sub: Subscription = {
          arn: record.arn,
          topicArn: record.topicArn,
          protocol: record.protocol,
          endpoint: record.endpoint,
          attributes: { ...record.attributes },
        };
        if (record.pendingToken) sub.pendingToken = record.pendingToken;
        refreshFilter(sub);
        subscriptions.set(record.arn, sub);
        break;
      }
      case "confirmSubscription": {
        const sub = subscriptions.get(record.arn);
        if (sub) delete sub.pendingToken;
        break;
      }
      case "setSubscriptionAttribute": {
        const sub = subscriptions.get(record.arn);
        if (!sub) break;
        if (record.value === "") delete sub.attributes[record.name];
        else sub.attributes[record.name] = record.value;
        refreshFilter(sub);
        break;
      }
      case "unsubscribe":
        subscriptions.delete(record.arn);
        break;
      case "publish":
        pendingMessages.set(record.messageId, {
          messageId: record.messageId,
          topicArn: record.topicArn,
          timestamp: record.timestamp,
          input: record.input,
          subscriptionArns: new Set(record.subscriptionArns),
        });
        break;
      case "settled": {
        const pending = pendingMessages.get(record.messageId);
        if (!pending) break;
        pending.subscriptionArns.delete(record.subscriptionArn);
        if (pending.subscriptionArns.size === 0) pendingMessages.delete(record.messageId);
        break;
      }
    }
  }

  function snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const t of topics.values()) {
      out.push({ op: "createTopic", arn: t.arn, name: t.name, attributes: t.attributes });
    }
    for (const s of subscriptions.values()) {
      const record: JournalRecord = {
        op: "subscribe",
        arn: s.arn,
        topicArn: s.topicArn,
        protocol: s.protocol,
        endpoint: s.endpoint,
        attributes: s.attributes,
      };
      if (s.pendingToken) record.pendingToken = s.pendingToken;
      out.push(record);
    }
    // Undelivered messages survive compaction with only their unsettled subscriptions.
    for (const p of pendingMessages.values()) {
      out.push({
        op: "publish",
        messageId: p.messageId,
        topicArn: p.topicArn,
        timestamp: p.timestamp,
        input: p.input,
        subscriptionArns: [...p.subscriptionArns],
      });
    }
    return out;
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "sns", snapshot, compactAfter: options.compactAfter },
    apply,
  );

  // ---- helpers ----
  function topicArn(name: string): string {
    return `arn:aws:sns:${region}:${accountId}:${name}`;
  }

  function requireTopic(arn: string): Topic {
    validateArn(arn, "TopicArn");
    const topic = topics.get(arn);
    if (!topic) throw new QueryError("NotFound", "Topic does not exist", 404);
    return topic;
  }

  function requireSubscription(arn: string): Subscription {
    validateArn(arn, "SubscriptionArn");
    const sub = subscriptions.get(arn);
    if (!sub) throw new QueryError("NotFound", "Subscription does not exist", 404);
    return sub;
  }

  // ---- actions ----
  function createTopic(params: URLSearchParams, requestId: string): ServiceResponse {
    const name = requireParam(params, "Name");
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
      if (name.endsWith(".fifo")) {
        throw new QueryError(
          "InvalidParameter",
          "Invalid parameter: FIFO topics are not supported by the local SNS",
        );
      }
      throw new QueryError("InvalidParameter", "Invalid parameter: Topic Name");
    }
    const attributes = readEntryMap(params, "Attributes");
    if (attributes.FifoTopic === "true") {
      throw new QueryError(
        "InvalidParameter",
        "Invalid parameter: FIFO topics are not supported by the local SNS",
      );
    }
    delete attributes.FifoTopic;
    for (const key of Object.keys(attributes)) {
      if (!SETTABLE_TOPIC_ATTRIBUTES.has(key)) {
        throw new QueryError("InvalidParameter", "Invalid parameter: AttributeName");
      }
    }
    const arn = topicArn(name);
    const existing = topics.get(arn);
    if (existing) {
      // CreateTopic is idempotent by name, unless the caller asks for different attributes.
      for (const [key, value] of Object.entries(attributes)) {
        if ((existing.attributes[key] ?? "") !== value) {
          throw new QueryError(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
          );
        }
      }
    } else {
      journal.commit({ op: "createTopic", arn, name, attributes });
    }
    return queryResponse("CreateTopic", XMLNS, requestId, { TopicArn: arn });
  }

  function topicAttributes(topic: Topic): Record<string, string> {
    const subs = [...subscriptions.values()].filter((s) => s.topicArn === topic.arn);
    return {
      TopicArn: topic.arn,
      Owner: accountId,
      Policy: defaultTopicPolicy(topic.arn, accountId),
      DisplayName: "",
      SubscriptionsConfirmed: String(subs.filter((s) => !s.pendingToken).length),
      SubscriptionsPending: String(subs.filter((s) => s.pendingToken).length),
      SubscriptionsDeleted: "0",
      EffectiveDeliveryPolicy: DEFAULT_DELIVERY_POLICY,
      ...topic.attributes,
    };
  }

  function setTopicAttributes(params: URLSearchParams, requestId: string): ServiceResponse {
    const topic = requireTopic(requireParam(params, "TopicArn"));
    const name = requireParam(params, "AttributeName");
    if (!SETTABLE_TOPIC_ATTRIBUTES.has(name)) {
      throw new QueryError("InvalidParameter", "Invalid parameter: AttributeName");
    }
    const value = params.get("AttributeValue") ?? "";
    if ((name === "Policy" || name === "DeliveryPolicy") && value !== "")
      parseJsonAttribute(name, value);
    journal.commit({ op: "setTopicAttribute", arn: topic.arn, name, value });
    return queryResponse("SetTopicAttributes", XMLNS, requestId);
  }

  function subscribe(params: URLSearchParams, request: ServiceRequest): ServiceResponse {
    const requestId = request.requestId;
    const topic = requireTopic(requireParam(params, "TopicArn"));
    const protocol = requireParam(params, "Protocol").toLowerCase() as SnsProtocol;
    if (!PROTOCOLS.includes(protocol)) {
      throw new QueryError(
        "InvalidParameter",
        `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
      );
    }
    const endpoint = params.get("Endpoint") ?? "";
    validateEndpoint(protocol, endpoint);
    const attributes = readEntryMap(params, "Attributes");
    for (const [key, value] of Object.entries(attributes)) {
      validateSubscriptionAttribute(protocol, key, value, attributes);
    }
    const existing = [...subscriptions.values()].find(
      (s) => s.topicArn === topic.arn && s.protocol === protocol && s.endpoint === endpoint,
    );
    if (existing) {
      // Same endpoint again: SNS returns the existing subscription, unless attributes differ.
      for (const [key, value] of Object.entries(attributes)) {
        if ((existing.attributes[key] ?? "") !== value) {
          throw new QueryError(
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
          );
        }
      }
      if (existing.pendingToken) {
        // Subscribing again while pending resends the confirmation, as SNS does.
        requestConfirmation(existing, baseUrl(request));
        return subscribeResponse(existing, params, requestId);
      }
      return queryResponse("Subscribe", XMLNS, requestId, { SubscriptionArn: existing.arn });
    }
    const arn = `${topic.arn}:${randomUUID()}`;
    const handshake =
      (protocol === "http" || protocol === "https") && options.httpConfirmation !== "auto";
    const record: JournalRecord = {
      op: "subscribe",
      arn,
      topicArn: topic.arn,
      protocol,
      endpoint,
      attributes,
    };
    if (handshake) record.pendingToken = randomBytes(64).toString("hex");
    journal.commit(record);
    const sub = subscriptions.get(arn)!;
    if (handshake) requestConfirmation(sub, baseUrl(request));
    return subscribeResponse(sub, params, requestId);
  }

  /** Pending subscriptions answer "pending confirmation" unless ReturnSubscriptionArn=true. */
  function subscribeResponse(
    sub: Subscription,
    params: URLSearchParams,
    requestId: string,
  ): ServiceResponse {
    const arn =
      sub.pendingToken && params.get("ReturnSubscriptionArn") !== "true"
        ? "pending confirmation"
        : sub.arn;
    return queryResponse("Subscribe", XMLNS, requestId, { SubscriptionArn: arn });
  }

  function baseUrl(request: ServiceRequest): string {
    if (options.publicEndpoint) return options.publicEndpoint.replace(/\/+$/, "");
    return `http://${request.headers.host ?? "127.0.0.1"}`;
  }

  /** POSTs the SubscriptionConfirmation message, with the engine's retries. */
  function requestConfirmation(sub: Subscription, base: string): void {
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
      SigningCertURL: signingCertUrl(region),
    });
    engine.enqueue({
      messageId,
      topicArn: sub.topicArn,
      subscriptionArn: sub.arn,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
      send: () => postHttp(sub, body, "SubscriptionConfirmation", messageId, false),
    });
  }

  function confirmSubscription(params: URLSearchParams, requestId: string): ServiceResponse {
    const topic = requireTopic(requireParam(params, "TopicArn"));
    const token = requireParam(params, "Token");
    const pending = [...subscriptions.values()].find(
      (s) => s.topicArn === topic.arn && s.pendingToken === token,
    );
    if (pending) {
      confirmedTokens.set(token, pending.arn);
      journal.commit({ op: "confirmSubscription", arn: pending.arn });
      return queryResponse("ConfirmSubscription", XMLNS, requestId, {
        SubscriptionArn: pending.arn,
      });
    }
    // Visiting the SubscribeURL twice is harmless; any other token is invalid.
    const confirmedArn = confirmedTokens.get(token);
    if (confirmedArn && subscriptions.get(confirmedArn)?.topicArn === topic.arn) {
      return queryResponse("ConfirmSubscription", XMLNS, requestId, {
        SubscriptionArn: confirmedArn,
      });
    }
    throw new QueryError("InvalidParameter", "Invalid token");
  }

  function subscriptionAttributes(sub: Subscription): Record<string, string> {
    const out: Record<string, string> = {
      SubscriptionArn: sub.arn,
      TopicArn: sub.topicArn,
      Owner: accountId,
      Protocol: sub.protocol,
      Endpoint: sub.endpoint,
      ConfirmationWasAuthenticated: "true",
      PendingConfirmation: sub.pendingToken ? "true" : "false",
      RawMessageDelivery: "false",
      SubscriptionPrincipal: `arn:aws:iam::${accountId}:root`,
      ...sub.attributes,
    };
    if (out.FilterPolicy && !out.FilterPolicyScope) out.FilterPolicyScope = "MessageAttributes";
    return out;
  }

  function setSubscriptionAttributes(params: URLSearchParams, requestId: string): ServiceResponse {
    const sub = requireSubscription(requireParam(params, "SubscriptionArn"));
    const name = requireParam(params, "AttributeName");
    const value = params.get("AttributeValue") ?? "";
    validateSubscriptionAttribute(sub.protocol, name, value, { ...sub.attributes, [name]: value });
    journal.commit({ op: "setSubscriptionAttribute", arn: sub.arn, name, value });
    return queryResponse("SetSubscriptionAttributes", XMLNS, requestId);
  }

  function publish(params: URLSearchParams, requestId: string): ServiceResponse {
    const arn = params.get("TopicArn") || params.get("TargetArn");
    if (!arn) {
      if (params.get("PhoneNumber")) {
        throw new QueryError(
          "InvalidParameter",
          "Invalid parameter: SMS is not supported by the local SNS",
        );
      }
      throw new QueryError(
        "InvalidParameter",
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
      );
    }
    const topic = requireTopic(arn);
    const input = readPublishInput(params, "");
    const messageId = randomUUID();
    fanOut(topic, messageId, input);
    return queryResponse("Publish", XMLNS, requestId, { MessageId: messageId });
  }

  function publishBatch(params: URLSearchParams, requestId: string): ServiceResponse {
    const topic = requireTopic(requireParam(params, "TopicArn"));
    const entries = listItems(nested(params, "PublishBatchRequestEntries"), "member");
    if (entries.length === 0) {
      throw new QueryError("EmptyBatchRequest", "The batch request doesn't contain any entries");
    }
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw new QueryError(
        "TooManyEntriesInBatchRequest",
        `The batch request contains more entries than permissible (${MAX_BATCH_ENTRIES})`,
      );
    }
    const ids = entries.map((e) => (typeof e.Id === "string" ? e.Id : ""));
    for (const id of ids) {
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
        throw new QueryError(
          "InvalidBatchEntryId",
          `The Id of a batch entry in a batch request doesn't abide by the specification: ${id}`,
        );
      }
    }
    if (new Set(ids).size !== ids.length) {
      throw new QueryError(
        "BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.",
      );
    }
    const inputs = entries.map((entry) => {
      try {
        return readPublishInput(entryParams(entry), "");
      } catch (err) {
        return err instanceof QueryError
          ? err
          : new QueryError("InternalError", String(err), 500, "Receiver");
      }
    });
    const total = inputs.reduce(
      (sum, i) => sum + (i instanceof QueryError ? 0 : publishSize(i)),
      0,
    );
    if (total > MAX_MESSAGE_BYTES) {
      throw new QueryError(
        "BatchRequestTooLong",
        `The length of all the messages put together is more than the limit (${MAX_MESSAGE_BYTES} bytes).`,
      );
    }
    const successful: XmlValue[] = [];
    const failed: XmlValue[] = [];
    inputs.forEach((input, index) => {
      const id = ids[index]!;
      if (input instanceof QueryError) {
        failed.push({
          Id: id,
          Code: input.code,
          Message: input.message,
          SenderFault: input.type === "Sender",
        });
        return;
      }
      const messageId = randomUUID();
      fanOut(topic, messageId, input);
      successful.push({ Id: id, MessageId: messageId });
    });
    return queryResponse("PublishBatch", XMLNS, requestId, {
      Successful: successful,
      Failed: failed,
    });
  }

  // ---- delivery ----
  /**
   * Journals the accepted message with the subscriptions it matches, then schedules their
   * deliveries: Publish answers after this returns, so an acknowledged message is on disk.
   */
  function fanOut(topic: Topic, messageId: string, input: PublishInput): void {
    const timestamp = new Date().toISOString();
    const matched: Array<{ sub: Subscription; message: string }> = [];
    for (const sub of subscriptions.values()) {
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
    journal.commit({
      op: "publish",
      messageId,
      topicArn: topic.arn,
      timestamp,
      input: durableInput(input),
      subscriptionArns: matched.map(({ sub }) => sub.arn),
    });
    for (const { sub, message } of matched) {
      engine.enqueue(deliveryJob(sub, messageId, input, timestamp, message));
    }
  }

  function deliveryJob(
    sub: Subscription,
    messageId: string,
    input: PublishInput,
    timestamp: string,
    message = messageFor(sub.protocol, input),
  ): DeliveryJob {
    const envelope = notificationEnvelope(sub, sub.topicArn, messageId, message, input, timestamp);
    const raw = sub.attributes.RawMessageDelivery === "true";
    const deadLetterArn = deadLetterTarget(sub);
    return {
      messageId,
      topicArn: sub.topicArn,
      subscriptionArn: sub.arn,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
      send: () => sendOnce(sub, envelope, message, input, raw, messageId, timestamp),
      deadLetter: deadLetterArn
        ? () =>
            sendToQueue(
              deadLetterArn,
              raw ? message : JSON.stringify(envelope),
              raw ? input.attributes : {},
            )
        : undefined,
    };
  }

  /** Whether a lambda/sqs endpoint can be reached now (HTTP endpoints are just tried). */
  function targetReady(sub: Subscription): boolean {
    if (sub.protocol === "lambda") return lambdas.has(sub.endpoint) || !!options.deliver;
    if (sub.protocol === "sqs") {
      return queues.has(sub.endpoint) || !!options.sqs?.hasQueue(sub.endpoint) || !!options.deliver;
    }
    return true;
  }

  /**
   * Runs again every delivery a previous process accepted and did not settle. One whose
   * subscription is gone is settled at once (SNS stops delivering to a deleted subscription);
   * one whose lambda/sqs target is not registered yet is parked until it is.
   */
  function recoverPending(): void {
    for (const pending of [...pendingMessages.values()]) {
      for (const arn of [...pending.subscriptionArns]) {
        const sub = subscriptions.get(arn);
        if (!sub) {
          journal.commit({ op: "settled", messageId: pending.messageId, subscriptionArn: arn });
          continue;
        }
        const job = deliveryJob(sub, pending.messageId, pending.input, pending.timestamp);
        if (targetReady(sub)) engine.enqueue(job);
        else parked.set(sub.endpoint, [...(parked.get(sub.endpoint) ?? []), job]);
      }
    }
  }

  function releaseParked(endpoint: string): void {
    const jobs = parked.get(endpoint);
    if (!jobs) return;
    parked.delete(endpoint);
    for (const job of jobs) engine.enqueue(job);
  }

  async function sendOnce(
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
        const event = lambdaEvent(sub, message, input, messageId, timestamp, region);
        const callback = lambdas.get(sub.endpoint);
        if (callback) return callback(event);
        if (options.deliver) {
          return options.deliver(
            { protocol: "lambda", endpoint: sub.endpoint, subscriptionArn: sub.arn },
            { event, body: JSON.stringify(envelope), attributes: {} },
          );
        }
        throw new Error(`no local Lambda registered for ${sub.endpoint}`);
      }
      case "sqs":
        return sendToQueue(
          sub.endpoint,
          raw ? message : JSON.stringify(envelope),
          raw ? input.attributes : {},
          sub,
        );
      case "http":
      case "https":
        return postHttp(
          sub,
          raw ? message : JSON.stringify(envelope),
          "Notification",
          messageId,
          raw,
        );
    }
  }

  async function sendToQueue(
    queueArn: string,
    body: string,
    attributes: SqsMessageAttributes,
    sub?: Subscription,
  ): Promise<void> {
    const callback = queues.get(queueArn);
    if (callback) return callback(body, attributes);
    if (options.sqs?.hasQueue(queueArn)) {
      options.sqs.enqueue(queueArn, body, attributes);
      return;
    }
    if (options.deliver && sub) {
      return options.deliver(
        { protocol: "sqs", endpoint: queueArn, subscriptionArn: sub.arn },
        { body, attributes },
      );
    }
    throw new Error(`no local queue registered for ${queueArn}`);
  }

  async function postHttp(
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
      signal: AbortSignal.timeout(options.httpTimeoutMs ?? 5_000),
    });
    // Drain the body so the connection is released; only the status matters to SNS.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`HTTP ${response.status} from ${sub.endpoint}`);
    }
  }

  function notificationEnvelope(
    sub: Subscription,
    topicArnValue: string,
    messageId: string,
    message: string,
    input: PublishInput,
    timestamp: string,
  ): Record<string, unknown> {
    const envelope: Record<string, unknown> = {
      Type: "Notification",
      MessageId: messageId,
      TopicArn: topicArnValue,
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

  // ---- dispatch ----
  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return runQueryAction(XMLNS, request.requestId, () => {
      const params = readQueryParams(request);
      const action = params.get("Action") ?? "";
      const id = request.requestId;
      switch (action) {
        case "CreateTopic":
          return createTopic(params, id);
        case "GetTopicAttributes": {
          const topic = requireTopic(requireParam(params, "TopicArn"));
          return queryResponse(action, XMLNS, id, {
            Attributes: xmlEntryMap(topicAttributes(topic)),
          });
        }
        case "SetTopicAttributes":
          return setTopicAttributes(params, id);
        case "ListTopics": {
          const { page, next } = paginate([...topics.keys()].sort(), params.get("NextToken"));
          return queryResponse(action, XMLNS, id, {
            Topics: page.map((arn) => ({ TopicArn: arn })),
            NextToken: next,
          });
        }
        case "DeleteTopic": {
          const arn = requireParam(params, "TopicArn");
          validateArn(arn, "TopicArn");
          // Deleting a topic that does not exist is not an error in SNS.
          if (topics.has(arn)) journal.commit({ op: "deleteTopic", arn });
          return queryResponse(action, XMLNS, id);
        }
        case "Subscribe":
          return subscribe(params, request);
        case "ConfirmSubscription":
          return confirmSubscription(params, id);
        case "Unsubscribe": {
          const sub = requireSubscription(requireParam(params, "SubscriptionArn"));
          journal.commit({ op: "unsubscribe", arn: sub.arn });
          return queryResponse(action, XMLNS, id);
        }
        case "ListSubscriptions": {
          const all = [...subscriptions.values()].sort((a, b) => a.arn.localeCompare(b.arn));
          const { page, next } = paginate(all, params.get("NextToken"));
          return queryResponse(action, XMLNS, id, {
            Subscriptions: page.map(subscriptionSummary),
            NextToken: next,
          });
        }
        case "ListSubscriptionsByTopic": {
          const topic = requireTopic(requireParam(params, "TopicArn"));
          const all = [...subscriptions.values()]
            .filter((s) => s.topicArn === topic.arn)
            .sort((a, b) => a.arn.localeCompare(b.arn));
          const { page, next } = paginate(all, params.get("NextToken"));
          return queryResponse(action, XMLNS, id, {
            Subscriptions: page.map(subscriptionSummary),
            NextToken: next,
          });
        }
        case "GetSubscriptionAttributes": {
          const sub = requireSubscription(requireParam(params, "SubscriptionArn"));
          return queryResponse(action, XMLNS, id, {
            Attributes: xmlEntryMap(subscriptionAttributes(sub)),
          });
        }
        case "SetSubscriptionAttributes":
          return setSubscriptionAttributes(params, id);
        case "Publish":
          return publish(params, id);
        case "PublishBatch":
          return publishBatch(params, id);
        default:
          throw new QueryError(
            "InvalidAction",
            `The action ${action} is not valid for this endpoint.`,
          );
      }
    });
  }

  function subscriptionSummary(s: Subscription): XmlValue {
    return {
      // Pending subscriptions are listed without their ARN, as in SNS.
      SubscriptionArn: s.pendingToken ? "PendingConfirmation" : s.arn,
      Owner: accountId,
      Protocol: s.protocol,
      Endpoint: s.endpoint,
      TopicArn: s.topicArn,
    };
  }

  function deliveries(
    filter: { topicArn?: string; subscriptionArn?: string; messageId?: string } = {},
  ) {
    return engine.list(filter);
  }

  function pendingView(): PendingMessageView[] {
    const waiting = new Map<string, string[]>();
    for (const [endpoint, jobs] of parked) {
      for (const job of jobs) {
        waiting.set(job.messageId, [...(waiting.get(job.messageId) ?? []), endpoint]);
      }
    }
    return [...pendingMessages.values()].map((p) => ({
      messageId: p.messageId,
      topicArn: p.topicArn,
      timestamp: p.timestamp,
      subscriptionArns: [...p.subscriptionArns],
      waitingFor: waiting.get(p.messageId) ?? [],
    }));
  }

  recoverPending();
  // A recovered sqs delivery also waits for its queue to appear in the local SQS.
  options.sqs?.onQueueCreated?.((queueArn) => releaseParked(queueArn));

  return {
    name: "sns",
    handle,
    registerLambda(functionArn, callback) {
      lambdas.set(functionArn, callback);
      releaseParked(functionArn);
    },
    registerQueue(queueArn, callback) {
      queues.set(queueArn, callback);
      releaseParked(queueArn);
    },
    pending: pendingView,
    deliveries,
    idle: () => engine.idle(),
    async control(path, query) {
      const route = path.replace(/^\/+/, "").replace(/\/+$/, "");
      if (route === "deliveries") {
        const filter = {
          topicArn: query.get("topicArn") ?? undefined,
          subscriptionArn: query.get("subscriptionArn") ?? undefined,
          messageId: query.get("messageId") ?? undefined,
        };
        return json(200, { deliveries: deliveries(filter) });
      }
      if (route === "subscriptions") {
        // Unlike ListSubscriptions, shows pending ones with their ARN and every attribute.
        const topicFilter = query.get("topicArn");
        const list = [...subscriptions.values()]
          .filter((sub) => !topicFilter || sub.topicArn === topicFilter)
          .map((sub) => subscriptionAttributes(sub));
        return json(200, { subscriptions: list });
      }
      if (route === "pending") return json(200, { pending: pendingView() });
      return json(404, { message: `unknown SNS control route: /${route}` });
    },
    async reset() {
      topics.clear();
      subscriptions.clear();
      confirmedTokens.clear();
      pendingMessages.clear();
      parked.clear();
      engine.clear();
      journal.reset();
    },
    async close() {
      engine.close();
      journal.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

const LOCAL_SIGNATURE = "TE9DQUwtU05TLVVOU0lHTkVE"; // base64("LOCAL-SNS-UNSIGNED"): no signing cert locally
const DEFAULT_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: "linear",
    },
    disableSubscriptionOverrides: false,
  },
});

function signingCertUrl(region: string): string {
  return `https://sns.${region}.amazonaws.com/SimpleNotificationService-local.pem`;
}

function unsubscribeUrl(region: string, subscriptionArn: string): string {
  return `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
}

function defaultTopicPolicy(arn: string, accountId: string): string {
  return JSON.stringify({
    Version: "2008-10-17",
    Id: "__default_policy_ID",
    Statement: [
      {
        Sid: "__default_statement_ID",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          "SNS:GetTopicAttributes",
          "SNS:SetTopicAttributes",
          "SNS:AddPermission",
          "SNS:RemovePermission",
          "SNS:DeleteTopic",
          "SNS:Subscribe",
          "SNS:ListSubscriptionsByTopic",
          "SNS:Publish",
        ],
        Resource: arn,
        Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
      },
    ],
  });
}

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function validateArn(arn: string, name: string): void {
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+(:[0-9a-f-]+)?$/.test(arn)) {
    throw new QueryError("InvalidParameter", `Invalid parameter: ${name}`);
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

function validateEndpoint(protocol: SnsProtocol, endpoint: string): void {
  const invalid = () => new QueryError("InvalidParameter", "Invalid parameter: Endpoint");
  switch (protocol) {
    case "lambda":
      if (
        !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/.test(
          endpoint,
        )
      ) {
        throw invalid();
      }
      return;
    case "sqs":
      if (!/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(endpoint))
        throw invalid();
      return;
    case "http":
    case "https": {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw invalid();
      }
      if (url.protocol !== `${protocol}:`) throw invalid();
      // The local cloud must never be a way to make requests to arbitrary hosts.
      if (!LOOPBACK_HOSTS.has(url.hostname) && !/^127\.\d+\.\d+\.\d+$/.test(url.hostname)) {
        throw new QueryError(
          "InvalidParameter",
          "Invalid parameter: Endpoint Reason: the local SNS only delivers to loopback URLs",
        );
      }
      return;
    }
  }
}

function validateSubscriptionAttribute(
  protocol: SnsProtocol,
  name: string,
  value: string,
  all: Record<string, string>,
): void {
  if (!SETTABLE_SUBSCRIPTION_ATTRIBUTES.has(name)) {
    throw new QueryError("InvalidParameter", "Invalid parameter: AttributeName");
  }
  switch (name) {
    case "RawMessageDelivery":
      if (value !== "true" && value !== "false") {
        throw new QueryError("InvalidParameter", "Invalid parameter: RawMessageDelivery");
      }
      if (value === "true" && protocol === "lambda") {
        throw new QueryError(
          "InvalidParameter",
          "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.",
        );
      }
      return;
    case "FilterPolicyScope":
      if (value !== "MessageAttributes" && value !== "MessageBody") {
        throw new QueryError("InvalidParameter", "Invalid parameter: FilterPolicyScope");
      }
      if (all.FilterPolicy) checkFilterPolicy(all.FilterPolicy, value);
      return;
    case "FilterPolicy":
      if (value !== "") checkFilterPolicy(value, scopeOf(all));
      return;
    case "RedrivePolicy": {
      if (value === "") return;
      const policy = parseJsonAttribute(name, value) as { deadLetterTargetArn?: unknown };
      const target = policy?.deadLetterTargetArn;
      if (
        typeof target !== "string" ||
        !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(target)
      ) {
        throw new QueryError(
          "InvalidParameter",
          "Invalid parameter: RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN",
        );
      }
      return;
    }
    case "DeliveryPolicy":
      if (value !== "") parseJsonAttribute(name, value);
      return;
  }
}

function checkFilterPolicy(policy: string, scope: FilterPolicyScope): void {
  try {
    parseFilterPolicy(policy, scope);
  } catch (err) {
    if (err instanceof FilterPolicyError) {
      throw new QueryError("InvalidParameter", `Invalid parameter: FilterPolicy: ${err.message}`);
    }
    throw err;
  }
}

function scopeOf(attributes: Record<string, string>): FilterPolicyScope {
  return attributes.FilterPolicyScope === "MessageBody" ? "MessageBody" : "MessageAttributes";
}

function refreshFilter(sub: Subscription): void {
  const policy = sub.attributes.FilterPolicy;
  sub.filter =
    policy && policy !== "{}" ? parseFilterPolicy(policy, scopeOf(sub.attributes)) : undefined;
}

function deadLetterTarget(sub: Subscription): string | undefined {
  const policy = sub.attributes.RedrivePolicy;
  if (!policy) return undefined;
  const target = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  return typeof target === "string" ? target : undefined;
}

function parseJsonAttribute(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new QueryError("InvalidParameter", `Invalid parameter: ${name}: not valid JSON`);
  }
}

function paginate<T>(items: T[], token: string | null): { page: T[]; next?: string } {
  const start = token ? Number.parseInt(Buffer.from(token, "base64url").toString("utf8"), 10) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new QueryError("InvalidParameter", "Invalid parameter: NextToken");
  const page = items.slice(start, start + PAGE_SIZE);
  const end = start + page.length;
  return {
    page,
    next: end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined,
  };
}

/** Reads Publish's (or a batch entry's) message fields, validated as SNS does. */
function readPublishInput(params: URLSearchParams, prefix: string): PublishInput {
  const message = params.get(`${prefix}Message`);
  if (message === null || message === "") {
    throw new QueryError("InvalidParameter", "Invalid parameter: Empty message");
  }
  const subject = params.get(`${prefix}Subject`) ?? undefined;
  if (
    subject !== undefined &&
    (subject.length === 0 || subject.length > 100 || /[\r\n]/.test(subject))
  ) {
    throw new QueryError("InvalidParameter", "Invalid parameter: Subject");
  }
  const messageStructure = params.get(`${prefix}MessageStructure`) ?? undefined;
  if (messageStructure !== undefined) {
    if (messageStructure !== "json") {
      throw new QueryError("InvalidParameter", "Invalid parameter: MessageStructure");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw new QueryError(
        "InvalidParameter",
        "Invalid parameter: Message Structure - JSON message body failed to parse",
      );
    }
    const record = parsed as Record<string, unknown> | null;
    if (!record || typeof record !== "object" || typeof record.default !== "string") {
      throw new QueryError(
        "InvalidParameter",
        "Invalid parameter: Message Structure - No default entry in JSON message body",
      );
    }
  }
  const attributes = readMessageAttributes(params, `${prefix}MessageAttributes`);
  const input: PublishInput = { message, attributes };
  if (subject !== undefined) input.subject = subject;
  if (messageStructure !== undefined) input.messageStructure = messageStructure;
  if (publishSize(input) > MAX_MESSAGE_BYTES) {
    throw new QueryError("InvalidParameter", "Invalid parameter: Message too long");
  }
  return input;
}

function readMessageAttributes(
  params: URLSearchParams,
  prefix: string,
): Record<string, MessageAttribute> {
  const out: Record<string, MessageAttribute> = {};
  const entries = listItems(nested(params, prefix), "entry");
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new QueryError(
      "InvalidParameter",
      `Invalid parameter: Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  for (const entry of entries) {
    const name = entry.Name;
    const value = entry.Value;
    if (
      typeof name !== "string" ||
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      typeof value !== "object"
    ) {
      throw new QueryError("InvalidParameter", "Invalid parameter: MessageAttributes");
    }
    out[name] = validateAttribute(name, value);
  }
  return out;
}

function validateAttribute(name: string, value: ParamTree): MessageAttribute {
  const dataType = typeof value.DataType === "string" ? value.DataType : "";
  const base = dataType.split(".")[0];
  const stringValue = typeof value.StringValue === "string" ? value.StringValue : undefined;
  const binaryValue = typeof value.BinaryValue === "string" ? value.BinaryValue : undefined;
  const bad = (why: string) =>
    new QueryError("ParameterValueInvalid", `The message attribute '${name}' ${why}`);
  if (dataType.startsWith("String.Array")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stringValue ?? "");
    } catch {
      throw bad("with type 'String.Array' must be a JSON array.");
    }
    if (!Array.isArray(parsed)) throw bad("with type 'String.Array' must be a JSON array.");
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "String") {
    if (stringValue === undefined || stringValue === "")
      throw bad(
        "must contain non-empty message attribute value for message attribute type 'String'.",
      );
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "Number") {
    if (
      stringValue === undefined ||
      !Number.isFinite(Number(stringValue)) ||
      stringValue.trim() === ""
    ) {
      throw bad("with type 'Number' must be a valid numeric value.");
    }
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "Binary") {
    if (binaryValue === undefined || binaryValue === "")
      throw bad(
        "must contain non-empty message attribute value for message attribute type 'Binary'.",
      );
    return { DataType: dataType, BinaryValue: binaryValue };
  }
  throw bad(
    `has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
  );
}

/** SNS counts the message, the attribute names, types and values against the 256 KiB limit. */
function publishSize(input: PublishInput): number {
  let size = Buffer.byteLength(input.message, "utf8");
  for (const [name, attr] of Object.entries(input.attributes)) {
    size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(attr.DataType, "utf8");
    size += attr.StringValue !== undefined ? Buffer.byteLength(attr.StringValue, "utf8") : 0;
    size += attr.BinaryValue !== undefined ? Buffer.from(attr.BinaryValue, "base64").length : 0;
  }
  return size;
}

/** `PublishBatchRequestEntries.member.N.*` as flat params, so the Publish reader can be reused. */
function entryParams(entry: ParamTree): URLSearchParams {
  const out = new URLSearchParams();
  const walk = (node: ParamTree, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === "string") out.set(path, value);
      else walk(value, path);
    }
  };
  walk(entry, "");
  return out;
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
