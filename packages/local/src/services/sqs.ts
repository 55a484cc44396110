/**
 * Emulated Amazon SQS (standard queues), speaking AWS JSON 1.0 as SDK v3's SQS client does.
 *
 * State lives in memory and, with `dataDir`, in a fsynced journal: a SendMessage, DeleteMessage
 * or receive is answered only once its record is on disk, so a kill -9 loses nothing
 * acknowledged and a received message keeps its receive count (the redrive policy still counts
 * it). Visibility, delay and retention are epoch-millisecond deadlines; long polls wait on the
 * queue (bounded by WaitTimeSeconds <= 20 s) and are released by a send, a visibility change, or
 * `close()`/`reset()`.
 *
 * Besides the wire API, the service offers what other parts of the local cloud need: SNS
 * delivers into queues with `enqueue`, the Lambda event-source poller uses `receive` and
 * `deleteMessages`, and tools inspect with `queues()` / `messages(queueArn)` or
 * `GET /_local/sqs/queues` and `GET /_local/sqs/messages?queueArn=`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Journal } from "../journal";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../types";
import { md5Hex, md5OfAttributes, type SqsAttributeValue } from "./sqs-md5";
import {
  batchEntries,
  batchResults,
  checkBatchIds,
  invalidParameter,
  optionalInt,
  optionalString,
  parseInput,
  queueDoesNotExist,
  requireString,
  SQS_TARGET_PREFIX,
  SqsError,
  sqsErrorResponse,
  sqsResponse,
  stringList,
  stringMap,
} from "./sqs-protocol";
import {
  counts,
  type QueueState,
  QueueStore,
  queueAttribute,
  queueSeconds,
  redrivePolicy,
  type SqsRecord,
  type StoredMessage,
  sweepExpired,
} from "./sqs-queues";
import {
  messageSize,
  readMessageAttributes,
  validateBody,
  validateQueueAttributes,
} from "./sqs-validate";

export type { SqsAttributeValue } from "./sqs-md5";
export type { StoredMessage } from "./sqs-queues";

const MAX_BATCH_BYTES = 262_144;
const MAX_WAIT_SECONDS = 20;
const PAGE_SIZE = 1000;
/** The SenderId SQS shows for messages SNS delivered (the SNS service principal's id). */
const SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU";

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

export interface SqsService extends LocalService {
  readonly name: "sqs";
  hasQueue(queueArn: string): boolean;
  /** Sends into a queue by ARN, as SNS does for `sqs` subscriptions; durable on return. */
  enqueue(
    queueArn: string,
    body: string,
    attributes?: Record<string, SqsAttributeValue>,
    options?: { senderId?: string },
  ): { messageId: string };
  /**
   * ReceiveMessage by ARN, long polling up to `waitTimeSeconds` (<= 20); `signal` ends the poll
   * early (empty), so a poller can stop without waiting out its wait.
   */
  receive(
    queueArn: string,
    options?: {
      maxMessages?: number;
      visibilityTimeoutSeconds?: number;
      waitTimeSeconds?: number;
      signal?: AbortSignal;
    },
  ): Promise<ReceivedMessage[]>;
  /** DeleteMessage by receipt handle; stale or unknown handles are ignored, as SQS does. */
  deleteMessages(queueArn: string, receiptHandles: string[]): void;
  /** Calls `listener` with the ARN of each queue created from now on (SNS's waiting deliveries). */
  onQueueCreated(listener: (queueArn: string) => void): void;
  /** Every queue with its effective attributes (counts included). */
  queues(): QueueView[];
  /** Every stored message of a queue, in send order; throws if the queue does not exist. */
  messages(queueArn: string): MessageView[];
  control(path: string, query: URLSearchParams): Promise<ServiceResponse>;
}

export function createSqsService(options: SqsServiceOptions): SqsService {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const region = options.region;
  const arnOf = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const store = new QueueStore(arnOf);
  const journal = Journal.open<SqsRecord>(
    {
      dataDir: options.dataDir,
      name: "sqs",
      snapshot: () => store.snapshot(),
      compactAfter: options.compactAfter,
    },
    (record) => store.apply(record),
  );
  /** Long polls waiting on each queue (by name); a waiter re-checks, so spurious wakes are fine. */
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;
  const queueCreatedListeners: Array<(queueArn: string) => void> = [];

  function wake(name: string): void {
    const set = waiters.get(name);
    if (!set) return;
    waiters.delete(name);
    for (const resolve of set) resolve();
  }

  function wakeAll(): void {
    for (const name of [...waiters.keys()]) wake(name);
  }

  // ---- lookups ----
  function baseUrl(request?: ServiceRequest): string {
    const configured =
      typeof options.endpoint === "function" ? options.endpoint() : options.endpoint;
    if (configured) return configured.replace(/\/+$/, "");
    return `http://${request?.headers.host ?? "127.0.0.1"}`;
  }

  function queueUrl(queue: QueueState, request?: ServiceRequest): string {
    return `${baseUrl(request)}/${accountId}/${queue.name}`;
  }

  /** QueueUrl → queue: any host (localhost or 127.0.0.1), path `/<account>/<name>`. */
  function requireQueueByUrl(url: string): QueueState {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw new SqsError("InvalidAddress", `The address ${url} is not valid for this endpoint.`);
    }
    const [account, name, ...rest] = path.split("/").filter(Boolean);
    const queue =
      account === accountId && name && rest.length === 0 ? store.queues.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  function queueByArn(arn: string): QueueState | undefined {
    const name = arn.split(":").pop() ?? "";
    const queue = store.queues.get(name);
    return queue?.arn === arn ? queue : undefined;
  }

  function requireQueueByArn(arn: string): QueueState {
    const queue = queueByArn(arn);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  function queueFor(input: Record<string, unknown>): QueueState {
    return requireQueueByUrl(requireString(input, "QueueUrl"));
  }

  // ---- queues ----
  function createQueue(input: Record<string, unknown>, request: ServiceRequest): unknown {
    const name = requireString(input, "QueueName");
    if (name.endsWith(".fifo"))
      throw invalidParameter("FIFO queues are not supported by the local SQS.");
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw invalidParameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
      );
    }
    const attributes = validateQueueAttributes(
      stringMap(input, "Attributes"),
      (arn) => !!queueByArn(arn),
    );
    const existing = store.queues.get(name);
    if (existing) {
      // Idempotent by name unless an attribute given differs from the queue's effective value.
      for (const [key, value] of Object.entries(attributes)) {
        if ((queueAttribute(existing, key) ?? "") !== value) {
          throw new SqsError(
            "QueueNameExists",
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return { QueueUrl: queueUrl(existing, request) };
    }
    const nonEmpty = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== ""));
    journal.commit({ op: "createQueue", name, attributes: nonEmpty, at: Date.now() });
    const created = store.queues.get(name)!;
    for (const listener of queueCreatedListeners) listener(created.arn);
    return { QueueUrl: queueUrl(created, request) };
  }

  function effectiveAttributes(queue: QueueState, now = Date.now()): Record<string, string> {
    const { visible, inFlight, delayed } = counts(queue, now);
    return {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
      VisibilityTimeout: queueAttribute(queue, "VisibilityTimeout")!,
      MaximumMessageSize: queueAttribute(queue, "MaximumMessageSize")!,
      MessageRetentionPeriod: queueAttribute(queue, "MessageRetentionPeriod")!,
      DelaySeconds: queueAttribute(queue, "DelaySeconds")!,
      ReceiveMessageWaitTimeSeconds: queueAttribute(queue, "ReceiveMessageWaitTimeSeconds")!,
      SqsManagedSseEnabled: "false",
      ...queue.attributes,
    };
  }

  function getQueueAttributes(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    sweepExpired(queue, Date.now());
    const names = stringList(input, "AttributeNames");
    const all = effectiveAttributes(queue);
    if (names.includes("All")) return { Attributes: all };
    const known = new Set([
      ...Object.keys(all),
      "RedrivePolicy",
      "Policy",
      "RedriveAllowPolicy",
      "KmsMasterKeyId",
      "KmsDataKeyReusePeriodSeconds",
    ]);
    const out: Record<string, string> = {};
    for (const name of names) {
      if (!known.has(name))
        throw new SqsError("InvalidAttributeName", `Unknown Attribute ${name}.`);
      if (all[name] !== undefined) out[name] = all[name];
    }
    return Object.keys(out).length > 0 ? { Attributes: out } : {};
  }

  function setQueueAttributes(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    const attributes = validateQueueAttributes(
      stringMap(input, "Attributes"),
      (arn) => !!queueByArn(arn),
    );
    journal.commit({ op: "setAttributes", name: queue.name, attributes, at: Date.now() });
    // A shorter delay or a new policy may make messages receivable: let long polls look again.
    wake(queue.name);
    return {};
  }

  function listQueues(input: Record<string, unknown>, request: ServiceRequest): unknown {
    const prefix = optionalString(input, "QueueNamePrefix") ?? "";
    const max = optionalInt(input, "MaxResults", 1, PAGE_SIZE);
    const names = [...store.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
    const token = optionalString(input, "NextToken");
    const start = token ? Number.parseInt(Buffer.from(token, "base64url").toString("utf8"), 10) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid NextToken value.");
    // Without MaxResults SQS returns up to 1,000 queues and no token.
    const page = names.slice(start, start + (max ?? PAGE_SIZE));
    const out: { QueueUrls?: string[]; NextToken?: string } = {};
    if (page.length > 0)
      out.QueueUrls = page.map((name) => queueUrl(store.queues.get(name)!, request));
    if (max !== undefined && start + page.length < names.length) {
      out.NextToken = Buffer.from(String(start + page.length)).toString("base64url");
    }
    return out;
  }

  // ---- send ----
  interface Outgoing {
    message: StoredMessage;
    result: {
      MessageId: string;
      MD5OfMessageBody: string;
      MD5OfMessageAttributes?: string;
      MD5OfMessageSystemAttributes?: string;
    };
  }

  /** Validates one message and builds it; nothing is stored yet. */
  function prepare(
    queue: QueueState,
    entry: Record<string, unknown>,
    senderId: string,
    now: number,
  ): Outgoing {
    const body = validateBody(entry.MessageBody);
    const attributes = readMessageAttributes(entry.MessageAttributes);
    const system = readMessageAttributes(entry.MessageSystemAttributes, "MessageSystemAttributes");
    for (const name of Object.keys(system)) {
      if (name !== "AWSTraceHeader")
        throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
    }
    const delay = optionalInt(entry, "DelaySeconds", 0, 900) ?? queueSeconds(queue, "DelaySeconds");
    const limit = queueSeconds(queue, "MaximumMessageSize");
    if (messageSize(body, attributes) > limit) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`,
      );
    }
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      attributes,
      senderId,
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    if (Object.keys(system).length > 0) message.systemAttributes = system;
    const result: Outgoing["result"] = {
      MessageId: message.messageId,
      MD5OfMessageBody: md5Hex(body),
    };
    const attributesMd5 = md5OfAttributes(attributes);
    if (attributesMd5) result.MD5OfMessageAttributes = attributesMd5;
    const systemMd5 = message.systemAttributes && md5OfAttributes(message.systemAttributes);
    if (systemMd5) result.MD5OfMessageSystemAttributes = systemMd5;
    return { message, result };
  }

  function storeMessages(queue: QueueState, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    journal.commit({ op: "put", name: queue.name, messages });
    wake(queue.name);
  }

  function senderOf(request: ServiceRequest): string {
    return request.accessKeyId ?? accountId;
  }

  function sendMessage(input: Record<string, unknown>, request: ServiceRequest): unknown {
    const queue = queueFor(input);
    const outgoing = prepare(queue, input, senderOf(request), Date.now());
    storeMessages(queue, [outgoing.message]);
    return outgoing.result;
  }

  function sendMessageBatch(input: Record<string, unknown>, request: ServiceRequest): unknown {
    const queue = queueFor(input);
    const entries = batchEntries(input, "Entries");
    const ids = checkBatchIds(entries);
    const total = entries.reduce(
      (sum, entry) =>
        sum +
        (typeof entry.MessageBody === "string" ? Buffer.byteLength(entry.MessageBody, "utf8") : 0),
      0,
    );
    if (total > MAX_BATCH_BYTES) {
      throw new SqsError(
        "BatchRequestTooLong",
        `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${total} bytes.`,
      );
    }
    const now = Date.now();
    const accepted: StoredMessage[] = [];
    const results = batchResults(entries, ids, (entry) => {
      const outgoing = prepare(queue, entry, senderOf(request), now);
      accepted.push(outgoing.message);
      return outgoing.result;
    });
    // One record for the whole batch: one fsync, and all of it or none survives a crash.
    storeMessages(queue, accepted);
    return results;
  }

  // ---- receive ----
  function newReceiptHandle(queue: QueueState, messageId: string): string {
    return Buffer.from(`${queue.name}\n${messageId}\n${randomBytes(24).toString("hex")}`).toString(
      "base64url",
    );
  }

  /** Handle → message id; throws ReceiptHandleIsInvalid for anything we never issued. */
  function parseReceiptHandle(queue: QueueState, handle: string): string {
    const parts = Buffer.from(handle, "base64url").toString("utf8").split("\n");
    if (
      parts.length !== 3 ||
      parts[0] !== queue.name ||
      !parts[1] ||
      !/^[0-9a-f]{48}$/.test(parts[2] ?? "")
    ) {
      throw new SqsError(
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    }
    return parts[1];
  }

  /**
   * Takes up to `max` visible messages, in send order, and makes them invisible for
   * `visibilitySeconds`. A message already received maxReceiveCount times is moved to the
   * dead-letter queue instead (when that queue exists), as SQS does on the next receive.
   */
  function take(queue: QueueState, max: number, visibilitySeconds: number): StoredMessage[] {
    const now = Date.now();
    sweepExpired(queue, now);
    const policy = redrivePolicy(queue);
    const deadLetter = policy ? queueByArn(policy.deadLetterTargetArn) : undefined;
    const chosen: StoredMessage[] = [];
    for (const message of [...queue.messages.values()]) {
      if (chosen.length >= max) break;
      if (message.visibleAt > now) continue;
      if (
        policy &&
        deadLetter &&
        deadLetter !== queue &&
        message.receiveCount >= policy.maxReceiveCount
      ) {
        journal.commit({
          op: "move",
          name: queue.name,
          to: deadLetter.name,
          id: message.messageId,
          at: now,
        });
        wake(deadLetter.name);
        continue;
      }
      chosen.push(message);
    }
    if (chosen.length === 0) return [];
    const visibleAt = now + visibilitySeconds * 1000;
    journal.commit({
      op: "receive",
      name: queue.name,
      at: now,
      entries: chosen.map((m) => ({
        id: m.messageId,
        handle: newReceiptHandle(queue, m.messageId),
        visibleAt,
      })),
    });
    return chosen;
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

  /** Waits until something may have changed for the queue, or `deadline`, close, or abort. */
  function waitOnQueue(queue: QueueState, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const now = Date.now();
      const next = nextVisibleAt(queue, now);
      const until = Math.min(deadline, next ?? deadline);
      let set = waiters.get(queue.name);
      if (!set) {
        set = new Set();
        waiters.set(queue.name, set);
      }
      const done = () => {
        clearTimeout(timer);
        waiters.get(queue.name)?.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - now));
      set.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  async function receiveFrom(
    queue: QueueState,
    max: number,
    visibilitySeconds: number,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<StoredMessage[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    // Each pass either returns or sleeps until a wake-up or the deadline; the cap is a backstop
    // against a wake-up storm, not the expected exit.
    for (let pass = 0; pass < 100_000; pass++) {
      if (closed || signal?.aborted || store.queues.get(queue.name) !== queue) return [];
      const taken = take(queue, max, visibilitySeconds);
      if (taken.length > 0 || Date.now() >= deadline) return taken;
      await waitOnQueue(queue, deadline, signal);
    }
    return [];
  }

  function selectedSystemAttributes(
    message: StoredMessage,
    names: Set<string>,
  ): Record<string, string> {
    const all = names.has("All");
    const out: Record<string, string> = {};
    const add = (name: string, value: string | undefined) => {
      if (value !== undefined && (all || names.has(name))) out[name] = value;
    };
    add("SenderId", message.senderId);
    add("SentTimestamp", String(message.sentTimestamp));
    add("ApproximateReceiveCount", String(message.receiveCount));
    add(
      "ApproximateFirstReceiveTimestamp",
      String(message.firstReceiveTimestamp ?? message.sentTimestamp),
    );
    add("AWSTraceHeader", message.systemAttributes?.AWSTraceHeader?.StringValue);
    return out;
  }

  function selectedMessageAttributes(
    message: StoredMessage,
    names: string[],
  ): Record<string, SqsAttributeValue> {
    const out: Record<string, SqsAttributeValue> = {};
    for (const [name, value] of Object.entries(message.attributes)) {
      const wanted = names.some(
        (pattern) =>
          pattern === "All" ||
          pattern === ".*" ||
          pattern === name ||
          (pattern.endsWith(".*") && name.startsWith(pattern.slice(0, -1))),
      );
      if (wanted) out[name] = value;
    }
    return out;
  }

  async function receiveMessage(input: Record<string, unknown>): Promise<unknown> {
    const queue = queueFor(input);
    const max = optionalInt(input, "MaxNumberOfMessages", 1, 10) ?? 1;
    const visibility =
      optionalInt(input, "VisibilityTimeout", 0, 43_200) ??
      queueSeconds(queue, "VisibilityTimeout");
    const wait =
      optionalInt(input, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS) ??
      queueSeconds(queue, "ReceiveMessageWaitTimeSeconds");
    const systemNames = new Set([
      ...stringList(input, "AttributeNames"),
      ...stringList(input, "MessageSystemAttributeNames"),
    ]);
    const attributeNames = stringList(input, "MessageAttributeNames");
    const taken = await receiveFrom(queue, max, visibility, wait);
    if (taken.length === 0) return {};
    return {
      Messages: taken.map((message) => {
        const out: Record<string, unknown> = {
          MessageId: message.messageId,
          ReceiptHandle: message.receiptHandle,
          MD5OfBody: md5Hex(message.body),
          Body: message.body,
        };
        const system = selectedSystemAttributes(message, systemNames);
        if (Object.keys(system).length > 0) out.Attributes = system;
        const attributes = selectedMessageAttributes(message, attributeNames);
        const digest = md5OfAttributes(attributes);
        if (digest) {
          out.MD5OfMessageAttributes = digest;
          out.MessageAttributes = attributes;
        }
        return out;
      }),
    };
  }

  // ---- delete and visibility ----
  /** Message ids the handles currently own (stale handles own nothing, as in SQS). */
  function ownedIds(queue: QueueState, handles: string[]): string[] {
    const ids: string[] = [];
    for (const handle of handles) {
      const id = parseReceiptHandle(queue, handle);
      if (queue.messages.get(id)?.receiptHandle === handle) ids.push(id);
    }
    return ids;
  }

  function deleteMessage(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    const ids = ownedIds(queue, [requireString(input, "ReceiptHandle")]);
    if (ids.length > 0) journal.commit({ op: "delete", name: queue.name, ids });
    return {};
  }

  function deleteMessageBatch(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    const entries = batchEntries(input, "Entries");
    const ids = checkBatchIds(entries);
    const deleted: string[] = [];
    const results = batchResults(entries, ids, (entry) => {
      deleted.push(...ownedIds(queue, [requireString(entry, "ReceiptHandle")]));
      return {};
    });
    if (deleted.length > 0) journal.commit({ op: "delete", name: queue.name, ids: deleted });
    return results;
  }

  /** The in-flight message a handle currently owns, else MessageNotInflight. */
  function inFlight(queue: QueueState, handle: string, now: number): StoredMessage {
    const id = parseReceiptHandle(queue, handle);
    const message = queue.messages.get(id);
    if (!message || message.receiptHandle !== handle || message.visibleAt <= now) {
      throw new SqsError("MessageNotInflight", "The message referred to isn't in flight.");
    }
    return message;
  }

  function changeVisibility(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    const seconds = optionalInt(input, "VisibilityTimeout", 0, 43_200);
    if (seconds === undefined) {
      throw new SqsError(
        "MissingParameter",
        "The request must contain the parameter VisibilityTimeout.",
      );
    }
    const now = Date.now();
    const message = inFlight(queue, requireString(input, "ReceiptHandle"), now);
    journal.commit({
      op: "visibility",
      name: queue.name,
      changes: [{ id: message.messageId, visibleAt: now + seconds * 1000 }],
    });
    wake(queue.name);
    return {};
  }

  function changeVisibilityBatch(input: Record<string, unknown>): unknown {
    const queue = queueFor(input);
    const entries = batchEntries(input, "Entries");
    const ids = checkBatchIds(entries);
    const now = Date.now();
    const changes: Array<{ id: string; visibleAt: number }> = [];
    const results = batchResults(entries, ids, (entry) => {
      const seconds = optionalInt(entry, "VisibilityTimeout", 0, 43_200) ?? 0;
      const message = inFlight(queue, requireString(entry, "ReceiptHandle"), now);
      changes.push({ id: message.messageId, visibleAt: now + seconds * 1000 });
      return {};
    });
    if (changes.length > 0) journal.commit({ op: "visibility", name: queue.name, changes });
    wake(queue.name);
    return results;
  }

  // ---- dispatch ----
  async function dispatch(
    operation: string,
    input: Record<string, unknown>,
    request: ServiceRequest,
  ): Promise<unknown> {
    switch (operation) {
      case "CreateQueue":
        return createQueue(input, request);
      case "GetQueueUrl": {
        const name = requireString(input, "QueueName");
        const owner = optionalString(input, "QueueOwnerAWSAccountId");
        const queue = !owner || owner === accountId ? store.queues.get(name) : undefined;
        if (!queue) throw queueDoesNotExist();
        return { QueueUrl: queueUrl(queue, request) };
      }
      case "ListQueues":
        return listQueues(input, request);
      case "GetQueueAttributes":
        return getQueueAttributes(input);
      case "SetQueueAttributes":
        return setQueueAttributes(input);
      case "SendMessage":
        return sendMessage(input, request);
      case "SendMessageBatch":
        return sendMessageBatch(input, request);
      case "ReceiveMessage":
        return receiveMessage(input);
      case "DeleteMessage":
        return deleteMessage(input);
      case "DeleteMessageBatch":
        return deleteMessageBatch(input);
      case "ChangeMessageVisibility":
        return changeVisibility(input);
      case "ChangeMessageVisibilityBatch":
        return changeVisibilityBatch(input);
      case "PurgeQueue": {
        const queue = queueFor(input);
        journal.commit({ op: "purge", name: queue.name });
        return {};
      }
      case "DeleteQueue": {
        const queue = queueFor(input);
        journal.commit({ op: "deleteQueue", name: queue.name });
        // Long polls on it return empty, as they would once SQS notices the deletion.
        wake(queue.name);
        return {};
      }
      default:
        throw new SqsError(
          "UnknownOperationException",
          `The local SQS does not implement ${operation || "this operation"}.`,
        );
    }
  }

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    const target = request.headers["x-amz-target"] ?? "";
    const [prefix, operation = ""] = target.split(".", 2);
    try {
      if (prefix !== SQS_TARGET_PREFIX) {
        throw new SqsError(
          "UnknownOperationException",
          "The local SQS only speaks the JSON protocol (X-Amz-Target AmazonSQS.<Operation>).",
        );
      }
      return sqsResponse(await dispatch(operation, parseInput(request.body), request));
    } catch (error) {
      if (error instanceof SqsError) return sqsErrorResponse(error);
      const message = error instanceof Error ? error.message : String(error);
      return sqsErrorResponse(new SqsError("InternalError", message, "Receiver"));
    }
  }

  function view(queue: QueueState, now: number): MessageView[] {
    sweepExpired(queue, now);
    return [...queue.messages.values()].map((message) => ({
      messageId: message.messageId,
      body: message.body,
      attributes: message.attributes,
      senderId: message.senderId,
      sentTimestamp: message.sentTimestamp,
      receiveCount: message.receiveCount,
      state:
        message.visibleAt <= now ? "visible" : message.receiveCount > 0 ? "in-flight" : "delayed",
      visibleAt: message.visibleAt,
    }));
  }

  const service: SqsService = {
    name: "sqs",
    handle,
    hasQueue: (queueArn) => queueByArn(queueArn) !== undefined,
    enqueue(queueArn, body, attributes = {}, enqueueOptions = {}) {
      const queue = requireQueueByArn(queueArn);
      const outgoing = prepare(
        queue,
        { MessageBody: body, MessageAttributes: attributes },
        enqueueOptions.senderId ?? SNS_SENDER_ID,
        Date.now(),
      );
      storeMessages(queue, [outgoing.message]);
      return { messageId: outgoing.message.messageId };
    },
    async receive(queueArn, receiveOptions = {}) {
      const queue = requireQueueByArn(queueArn);
      const max = Math.min(10, Math.max(1, receiveOptions.maxMessages ?? 10));
      const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, receiveOptions.waitTimeSeconds ?? 0));
      const visibility =
        receiveOptions.visibilityTimeoutSeconds ?? queueSeconds(queue, "VisibilityTimeout");
      const taken = await receiveFrom(queue, max, visibility, wait, receiveOptions.signal);
      return taken.map((message) => {
        const received: ReceivedMessage = {
          messageId: message.messageId,
          receiptHandle: message.receiptHandle!,
          body: message.body,
          md5OfBody: md5Hex(message.body),
          attributes: message.attributes,
          senderId: message.senderId,
          sentTimestamp: message.sentTimestamp,
          approximateReceiveCount: message.receiveCount,
          approximateFirstReceiveTimestamp: message.firstReceiveTimestamp ?? message.sentTimestamp,
        };
        const digest = md5OfAttributes(message.attributes);
        if (digest) received.md5OfMessageAttributes = digest;
        return received;
      });
    },
    deleteMessages(queueArn, receiptHandles) {
      const queue = requireQueueByArn(queueArn);
      const ids = ownedIds(queue, receiptHandles);
      if (ids.length > 0) journal.commit({ op: "delete", name: queue.name, ids });
    },
    onQueueCreated(listener) {
      queueCreatedListeners.push(listener);
    },
    queues() {
      const now = Date.now();
      return [...store.queues.values()].map((queue) => {
        sweepExpired(queue, now);
        return {
          name: queue.name,
          arn: queue.arn,
          url: queueUrl(queue),
          attributes: effectiveAttributes(queue, now),
        };
      });
    },
    messages(queueArn) {
      return view(requireQueueByArn(queueArn), Date.now());
    },
    async control(path, query) {
      const route = path.replace(/^\/+/, "").replace(/\/+$/, "");
      if (route === "queues") return json(200, { queues: service.queues() });
      if (route === "messages") {
        const queue = queueByArn(query.get("queueArn") ?? "");
        if (!queue) return json(404, { message: "unknown queue: pass ?queueArn=<queue ARN>" });
        return json(200, { messages: view(queue, Date.now()) });
      }
      return json(404, { message: `unknown SQS control route: /${route}` });
    },
    async reset() {
      store.clear();
      journal.reset();
      wakeAll();
    },
    async close() {
      closed = true;
      wakeAll();
      journal.close();
    },
  };
  return service;
}

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
