/**
 * The state of the local SQS: queues and their messages, changed only through journal records so
 * the same `apply` rebuilds it on replay, and the long polls waiting on each queue. A message
 * received just before a kill -9 stays invisible for the rest of its visibility timeout, and its
 * receive count still counts toward the redrive policy.
 */
import { Journal } from "../../journal";
import { LOCAL_ACCOUNT_ID, type ServiceRequest } from "../../types";
import type { QueueState, SqsRecord, SqsServiceOptions, StoredMessage } from "./model";
import { queueDoesNotExist, requireString, sqsError } from "./protocol";

class QueueStore {
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

export class SqsState {
  readonly accountId: string;
  readonly store: QueueStore;
  readonly #journal: Journal<SqsRecord>;
  readonly #endpoint: SqsServiceOptions["endpoint"];
  /** Long polls waiting on each queue (by name); a waiter re-checks, so spurious wakes are fine. */
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #queueCreatedListeners: Array<(queueArn: string) => void> = [];
  #closed = false;

  constructor(options: SqsServiceOptions) {
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    this.#endpoint = options.endpoint;
    const region = options.region;
    this.store = new QueueStore((name) => `arn:aws:sqs:${region}:${this.accountId}:${name}`);
    this.#journal = Journal.open<SqsRecord>(
      {
        dataDir: options.dataDir,
        name: "sqs",
        snapshot: () => this.store.snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.store.apply(record),
    );
  }

  get queues(): Map<string, QueueState> {
    return this.store.queues;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: SqsRecord): void {
    this.#journal.commit(record);
  }

  /** Journals messages into a queue and wakes its long polls. */
  storeMessages(queue: QueueState, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    this.commit({ op: "put", name: queue.name, messages });
    this.wake(queue.name);
  }

  // ---- lookups ----
  baseUrl(request?: ServiceRequest): string {
    const configured = typeof this.#endpoint === "function" ? this.#endpoint() : this.#endpoint;
    if (configured) return configured.replace(/\/+$/, "");
    return `http://${request?.headers.host ?? "127.0.0.1"}`;
  }

  queueUrl(queue: QueueState, request?: ServiceRequest): string {
    return `${this.baseUrl(request)}/${this.accountId}/${queue.name}`;
  }

  /** QueueUrl → queue: any host (localhost or 127.0.0.1), path `/<account>/<name>`. */
  requireQueueByUrl(url: string): QueueState {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw sqsError("InvalidAddress", `The address ${url} is not valid for this endpoint.`);
    }
    const [account, name, ...rest] = path.split("/").filter(Boolean);
    const queue =
      account === this.accountId && name && rest.length === 0
        ? this.store.queues.get(name)
        : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  queueByArn(arn: string): QueueState | undefined {
    const name = arn.split(":").pop() ?? "";
    const queue = this.store.queues.get(name);
    return queue?.arn === arn ? queue : undefined;
  }

  requireQueueByArn(arn: string): QueueState {
    const queue = this.queueByArn(arn);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  /** The queue an operation's `QueueUrl` names. */
  queueFor(input: Record<string, unknown>): QueueState {
    return this.requireQueueByUrl(requireString(input, "QueueUrl"));
  }

  // ---- queue creation listeners (SNS's waiting deliveries) ----
  onQueueCreated(listener: (queueArn: string) => void): void {
    this.#queueCreatedListeners.push(listener);
  }

  queueCreated(queueArn: string): void {
    for (const listener of this.#queueCreatedListeners) listener(queueArn);
  }

  // ---- long polls ----
  wake(name: string): void {
    const set = this.#waiters.get(name);
    if (!set) return;
    this.#waiters.delete(name);
    for (const resolve of set) resolve();
  }

  wakeAll(): void {
    for (const name of [...this.#waiters.keys()]) this.wake(name);
  }

  /** Waits until something may have changed for the queue, or `deadline`, close, or abort. */
  waitOnQueue(queue: QueueState, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const now = Date.now();
      const next = nextVisibleAt(queue, now);
      const until = Math.min(deadline, next ?? deadline);
      let set = this.#waiters.get(queue.name);
      if (!set) {
        set = new Set();
        this.#waiters.set(queue.name, set);
      }
      const done = () => {
        clearTimeout(timer);
        this.#waiters.get(queue.name)?.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - now));
      set.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  reset(): void {
    this.store.clear();
    this.#journal.reset();
    this.wakeAll();
  }

  close(): void {
    this.#closed = true;
    this.wakeAll();
    this.#journal.close();
  }
}

/** The earliest future moment a message of the queue becomes visible, if any. */
function nextVisibleAt(queue: QueueState, now: number): number | undefined {
  let next: number | undefined;
  for (const message of queue.messages.values()) {
    if (message.visibleAt > now && (next === undefined || message.visibleAt < next))
      next = message.visibleAt;
  }
  return next;
}
