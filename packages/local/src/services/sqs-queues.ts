/**
 * The state of the local SQS: queues and their messages, changed only through journal records so
 * the same `apply` rebuilds it on replay. Time-dependent views (visible, in flight, delayed,
 * expired) are computed from epoch-millisecond fields, so a replayed state means the same thing
 * it meant before the restart: a message received just before a kill -9 stays invisible for the
 * rest of its visibility timeout, and its receive count still counts toward the redrive policy.
 */
import type { SqsAttributeValue } from "./sqs-md5";

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

export const DEFAULT_QUEUE_ATTRIBUTES: Readonly<Record<string, string>> = {
  VisibilityTimeout: "30",
  MaximumMessageSize: "262144",
  MessageRetentionPeriod: "345600",
  DelaySeconds: "0",
  ReceiveMessageWaitTimeSeconds: "0",
};

export class QueueStore {
  readonly queues = new Map<string, QueueState>();

  constructor(private readonly arnOf: (name: string) => string) {}

  apply(record: SqsRecord): void {
    switch (record.op) {
      case "createQueue":
        this.queues.set(record.name, {
          name: record.name,
          arn: this.arnOf(record.name),
          attributes: { ...record.attributes },
          createdTimestamp: record.at,
          lastModifiedTimestamp: record.at,
          messages: new Map(),
        });
        return;
      case "setAttributes": {
        const queue = this.queues.get(record.name);
        if (!queue) return;
        for (const [key, value] of Object.entries(record.attributes)) {
          // An empty value restores the default (as SQS does for RedrivePolicy and Policy).
          if (value === "") delete queue.attributes[key];
          else queue.attributes[key] = value;
        }
        queue.lastModifiedTimestamp = record.at;
        return;
      }
      case "deleteQueue":
        this.queues.delete(record.name);
        return;
      case "purge":
        this.queues.get(record.name)?.messages.clear();
        return;
      case "put": {
        const queue = this.queues.get(record.name);
        if (!queue) return;
        for (const message of record.messages)
          queue.messages.set(message.messageId, { ...message });
        return;
      }
      case "receive": {
        const queue = this.queues.get(record.name);
        if (!queue) return;
        for (const entry of record.entries) {
          const message = queue.messages.get(entry.id);
          if (!message) continue;
          message.receiveCount++;
          message.firstReceiveTimestamp ??= record.at;
          message.receiptHandle = entry.handle;
          message.visibleAt = entry.visibleAt;
        }
        return;
      }
      case "delete": {
        const queue = this.queues.get(record.name);
        for (const id of record.ids) queue?.messages.delete(id);
        return;
      }
      case "visibility": {
        const queue = this.queues.get(record.name);
        for (const change of record.changes) {
          const message = queue?.messages.get(change.id);
          if (message) message.visibleAt = change.visibleAt;
        }
        return;
      }
      case "move": {
        const from = this.queues.get(record.name);
        const message = from?.messages.get(record.id);
        if (!from || !message) return;
        from.messages.delete(record.id);
        const to = this.queues.get(record.to);
        if (!to) return;
        // The dead-letter queue sees a fresh delivery of the same message (id, body, attributes
        // and original SentTimestamp kept), available at once.
        const moved: StoredMessage = { ...message, receiveCount: 0, visibleAt: record.at };
        delete moved.firstReceiveTimestamp;
        delete moved.receiptHandle;
        to.messages.set(moved.messageId, moved);
        return;
      }
    }
  }

  /** The whole state as records, for compaction. */
  snapshot(): SqsRecord[] {
    const out: SqsRecord[] = [];
    for (const queue of this.queues.values()) {
      out.push({
        op: "createQueue",
        name: queue.name,
        attributes: queue.attributes,
        at: queue.createdTimestamp,
      });
      if (queue.lastModifiedTimestamp !== queue.createdTimestamp) {
        out.push({
          op: "setAttributes",
          name: queue.name,
          attributes: {},
          at: queue.lastModifiedTimestamp,
        });
      }
      if (queue.messages.size > 0) {
        out.push({ op: "put", name: queue.name, messages: [...queue.messages.values()] });
      }
    }
    return out;
  }

  clear(): void {
    this.queues.clear();
  }
}

/** The effective value of a queue attribute, default applied. */
export function queueAttribute(queue: QueueState, name: string): string | undefined {
  return queue.attributes[name] ?? DEFAULT_QUEUE_ATTRIBUTES[name];
}

export function queueSeconds(queue: QueueState, name: string): number {
  return Number(queueAttribute(queue, name) ?? "0");
}

export interface RedrivePolicy {
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
