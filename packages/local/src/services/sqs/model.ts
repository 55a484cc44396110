/**
 * What the local SQS holds and shows: stored messages and queues, the journal's records, queue
 * attribute defaults, the views tools and the event-source poller see, and receipt handles.
 * Time-dependent views (visible, in flight, delayed, expired) are computed from epoch-millisecond
 * fields, so a replayed state means the same thing it meant before a restart.
 */

import { randomBytes } from "node:crypto";
import type { ServiceRequest, ServiceResponse } from "../../types";
import type { SqsAttributeValue } from "./md5";
import { sqsError } from "./protocol";
import type { SqsState } from "./state";

export const MAX_WAIT_SECONDS = 20;

export interface SqsServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /**
   * Base of queue URLs (`<endpoint>/<account>/<name>`); default: the Host of the request, so URLs
   * point back at whichever local endpoint the caller used. A function is read when needed.
   */
  endpoint?: string | (() => string);
}

/** One wire operation: the decoded JSON input in, the JSON output out. */
export type SqsOperation = (
  state: SqsState,
  input: Record<string, unknown>,
  request: ServiceRequest,
) => unknown;

/** A message handed out by `receive` (the event-source poller's view). */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  attributes: Record<string, SqsAttributeValue>;
  senderId: string;
  sentTimestamp: number;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp: number;
}

export interface QueueView {
  name: string;
  arn: string;
  url: string;
  attributes: Record<string, string>;
}

export interface MessageView {
  messageId: string;
  body: string;
  attributes: Record<string, SqsAttributeValue>;
  senderId: string;
  sentTimestamp: number;
  receiveCount: number;
  /** `visible`, `in-flight` (received, invisible) or `delayed`. */
  state: "visible" | "in-flight" | "delayed";
  visibleAt: number;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  attributes: Record<string, SqsAttributeValue>;
  /** `AWSTraceHeader`, the only system attribute SQS accepts on send. */
  systemAttributes?: Record<string, SqsAttributeValue>;
  senderId: string;
  sentTimestamp: number;
  /** Epoch ms from which the message may be received (delay, then visibility timeouts). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Handle of the latest receive: only it deletes or changes visibility. */
  receiptHandle?: string;
}

export interface QueueState {
  name: string;
  arn: string;
  /** Attributes set by CreateQueue/SetQueueAttributes (defaults are applied when read). */
  attributes: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  /** In send order (Map keeps insertion order), keyed by message id. */
  messages: Map<string, StoredMessage>;
}

export type SqsRecord =
  | { op: "createQueue"; name: string; attributes: Record<string, string>; at: number }
  | { op: "setAttributes"; name: string; attributes: Record<string, string>; at: number }
  | { op: "deleteQueue"; name: string }
  | { op: "purge"; name: string }
  /** Send (one or a batch), SNS delivery, and the snapshot of each message. */
  | { op: "put"; name: string; messages: StoredMessage[] }
  | {
      op: "receive";
      name: string;
      at: number;
      entries: Array<{ id: string; handle: string; visibleAt: number }>;
    }
  | { op: "delete"; name: string; ids: string[] }
  | { op: "visibility"; name: string; changes: Array<{ id: string; visibleAt: number }> }
  /** Redrive: the message leaves `name` for the dead-letter queue `to`, keeping its id. */
  | { op: "move"; name: string; to: string; id: string; at: number };

const DEFAULT_QUEUE_ATTRIBUTES: Readonly<Record<string, string>> = {
  VisibilityTimeout: "30",
  MaximumMessageSize: "262144",
  MessageRetentionPeriod: "345600",
  DelaySeconds: "0",
  ReceiveMessageWaitTimeSeconds: "0",
};

/** The effective value of a queue attribute, default applied. */
export function queueAttribute(queue: QueueState, name: string): string | undefined {
  return queue.attributes[name] ?? DEFAULT_QUEUE_ATTRIBUTES[name];
}

export function queueSeconds(queue: QueueState, name: string): number {
  return Number(queueAttribute(queue, name) ?? "0");
}

interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export function redrivePolicy(queue: QueueState): RedrivePolicy | undefined {
  const text = queue.attributes.RedrivePolicy;
  if (!text) return undefined;
  const parsed = JSON.parse(text) as {
    deadLetterTargetArn: string;
    maxReceiveCount: number | string;
  };
  return {
    deadLetterTargetArn: parsed.deadLetterTargetArn,
    maxReceiveCount: Number(parsed.maxReceiveCount),
  };
}

/** Drops messages older than the retention period; derived from time, so not journaled. */
export function sweepExpired(queue: QueueState, now: number): void {
  const retentionMs = queueSeconds(queue, "MessageRetentionPeriod") * 1000;
  for (const [id, message] of queue.messages) {
    if (message.sentTimestamp + retentionMs <= now) queue.messages.delete(id);
  }
}

export function counts(queue: QueueState, now: number) {
  let visible = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const message of queue.messages.values()) {
    if (message.visibleAt <= now) visible++;
    else if (message.receiveCount > 0) inFlight++;
    else delayed++;
  }
  return { visible, inFlight, delayed };
}

export function newReceiptHandle(queue: QueueState, messageId: string): string {
  return Buffer.from(`${queue.name}\n${messageId}\n${randomBytes(24).toString("hex")}`).toString(
    "base64url",
  );
}

/** Handle → message id; throws ReceiptHandleIsInvalid for anything we never issued. */
export function parseReceiptHandle(queue: QueueState, handle: string): string {
  const parts = Buffer.from(handle, "base64url").toString("utf8").split("\n");
  if (
    parts.length !== 3 ||
    parts[0] !== queue.name ||
    !parts[1] ||
    !/^[0-9a-f]{48}$/.test(parts[2] ?? "")
  ) {
    throw sqsError(
      "ReceiptHandleIsInvalid",
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
    );
  }
  return parts[1];
}

export function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
