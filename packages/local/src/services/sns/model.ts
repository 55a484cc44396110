/**
 * What the local SNS holds and says: topics, subscriptions, accepted messages, the journal's
 * records, the wire limits, and the pure helpers (ARNs, endpoint checks, paging) that operations
 * and delivery share.
 */

import type { SNSEvent } from "aws-lambda";
import { AwsServiceError } from "../../protocol/errors";
import type { ServiceRequest, ServiceResponse } from "../../types";
import type { RetryPolicy } from "./delivery";
import {
  type FilterableAttribute,
  type FilterPolicy,
  type FilterPolicyScope,
  parseFilterPolicy,
} from "./filter";
import type { SnsPublisher } from "./publisher";
import type { SnsState } from "./state";

export const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const MAX_BATCH_ENTRIES = 10;
export const MAX_MESSAGE_ATTRIBUTES = 10;
const PAGE_SIZE = 100;

/** What every operation is handed: the state, the fan-out, and the service's options. */
export interface SnsContext {
  state: SnsState;
  publisher: SnsPublisher;
  accountId: string;
  options: SnsServiceOptions;
}

export type SnsOperation = (
  ctx: SnsContext,
  params: URLSearchParams,
  request: ServiceRequest,
) => ServiceResponse;

export type SnsProtocol = "lambda" | "sqs" | "http" | "https";
export const PROTOCOLS: readonly SnsProtocol[] = ["lambda", "sqs", "http", "https"];

/** A Publish message attribute, as on the wire. */
export type MessageAttribute = FilterableAttribute;

/** SQS message attributes as a raw-delivery SQS queue would receive them. */
export type SqsMessageAttributes = Record<string, MessageAttribute>;

export type LambdaCallback = (event: SNSEvent) => Promise<void>;
export type QueueCallback = (body: string, attributes: SqsMessageAttributes) => Promise<void>;

/** The local SQS service, as SNS needs it (see `services/sqs`). */
interface SnsQueueTarget {
  hasQueue(queueArn: string): boolean;
  /** Stores the message in the queue (durably when the queue service persists); throws if not. */
  enqueue(queueArn: string, body: string, attributes: SqsMessageAttributes): unknown;
  /** Calls `listener` with the ARN of each queue created from now on. */
  onQueueCreated?(listener: (queueArn: string) => void): void;
}

interface DeliveryTarget {
  protocol: SnsProtocol;
  endpoint: string;
  subscriptionArn: string;
}
interface DeliveryPayload {
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
export interface PendingMessage {
  messageId: string;
  topicArn: string;
  timestamp: string;
  input: PublishInput;
  subscriptionArns: Set<string>;
}

export interface Topic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
}

export interface Subscription {
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

export type SnsJournalRecord =
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

export interface PublishInput {
  message: string;
  subject?: string;
  messageStructure?: string;
  attributes: Record<string, MessageAttribute>;
}

export const SETTABLE_TOPIC_ATTRIBUTES = new Set([
  "DisplayName",
  "Policy",
  "DeliveryPolicy",
  "KmsMasterKeyId",
  "TracingConfig",
  "SignatureVersion",
  "ArchivePolicy",
  "DataProtectionPolicy",
]);
export const SETTABLE_SUBSCRIPTION_ATTRIBUTES = new Set([
  "DeliveryPolicy",
  "FilterPolicy",
  "FilterPolicyScope",
  "RawMessageDelivery",
  "RedrivePolicy",
  "SubscriptionRoleArn",
]);

export const LOCAL_SIGNATURE = "TE9DQUwtU05TLVVOU0lHTkVE"; // base64("LOCAL-SNS-UNSIGNED"): no signing cert locally

export function signingCertUrl(region: string): string {
  return `https://sns.${region}.amazonaws.com/SimpleNotificationService-local.pem`;
}

export function unsubscribeUrl(region: string, subscriptionArn: string): string {
  return `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
}

export function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export function validateArn(arn: string, name: string): void {
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+(:[0-9a-f-]+)?$/.test(arn)) {
    throw new AwsServiceError("InvalidParameter", `Invalid parameter: ${name}`);
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function validateEndpoint(protocol: SnsProtocol, endpoint: string): void {
  const invalid = () => new AwsServiceError("InvalidParameter", "Invalid parameter: Endpoint");
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
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: Endpoint Reason: the local SNS only delivers to loopback URLs",
        );
      }
      return;
    }
  }
}

export function parseJsonAttribute(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new AwsServiceError("InvalidParameter", `Invalid parameter: ${name}: not valid JSON`);
  }
}

export function paginate<T>(items: T[], token: string | null): { page: T[]; next?: string } {
  const start = token ? Number.parseInt(Buffer.from(token, "base64url").toString("utf8"), 10) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: NextToken");
  const page = items.slice(start, start + PAGE_SIZE);
  const end = start + page.length;
  return {
    page,
    next: end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined,
  };
}

export function scopeOf(attributes: Record<string, string>): FilterPolicyScope {
  return attributes.FilterPolicyScope === "MessageBody" ? "MessageBody" : "MessageAttributes";
}

export function refreshFilter(sub: Subscription): void {
  const policy = sub.attributes.FilterPolicy;
  sub.filter =
    policy && policy !== "{}" ? parseFilterPolicy(policy, scopeOf(sub.attributes)) : undefined;
}
