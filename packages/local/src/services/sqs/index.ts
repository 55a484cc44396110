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
 *
 * Layout: `state.ts` (queues, messages, journal, long polls), `operations/` (queues, send,
 * receive, delete, visibility), `protocol.ts` (JSON 1.0 with query-compatible errors),
 * `validate.ts` (attributes and bodies), `md5.ts` (the digests the SDK checks), `model.ts`.
 */
import { answerServiceErrors, type ServiceErrorRendering } from "../../protocol/errors";
import { jsonErrorResponse } from "../../protocol/json";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import { md5Hex, md5OfAttributes, type SqsAttributeValue } from "./md5";
import {
  json,
  MAX_WAIT_SECONDS,
  type MessageView,
  type QueueState,
  type QueueView,
  queueSeconds,
  type ReceivedMessage,
  type SqsOperation,
  type SqsServiceOptions,
  sweepExpired,
} from "./model";
import { deleteMessage, deleteMessageBatch, ownedIds } from "./operations/delete";
import {
  createQueue,
  deleteQueue,
  effectiveAttributes,
  getQueueAttributes,
  getQueueUrl,
  listQueues,
  purgeQueue,
  setQueueAttributes,
} from "./operations/queues";
import { receiveFrom, receiveMessage } from "./operations/receive";
import { prepare, sendMessage, sendMessageBatch } from "./operations/send";
import { changeMessageVisibility, changeMessageVisibilityBatch } from "./operations/visibility";
import { parseInput, SQS_ERRORS, SQS_TARGET_PREFIX, sqsError, sqsResponse } from "./protocol";
import { SqsState } from "./state";

export type { ReceivedMessage } from "./model";

/** The SenderId SQS shows for messages SNS delivered (the SNS service principal's id). */
const SNS_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU";

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

const OPERATIONS: Record<string, SqsOperation> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  ListQueues: listQueues,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
  PurgeQueue: purgeQueue,
  DeleteQueue: deleteQueue,
};

export function createSqsService(options: SqsServiceOptions): SqsService {
  const state = new SqsState(options);

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    const target = request.headers["x-amz-target"] ?? "";
    const [prefix, operationName = ""] = target.split(".", 2);
    return answerServiceErrors(ERRORS, async () => {
      if (prefix !== SQS_TARGET_PREFIX) {
        throw sqsError(
          "UnknownOperationException",
          "The local SQS only speaks the JSON protocol (X-Amz-Target AmazonSQS.<Operation>).",
        );
      }
      const operation = Object.hasOwn(OPERATIONS, operationName)
        ? OPERATIONS[operationName]
        : undefined;
      if (!operation) {
        throw sqsError(
          "UnknownOperationException",
          `The local SQS does not implement ${operationName || "this operation"}.`,
        );
      }
      return sqsResponse(await operation(state, parseInput(request.body), request));
    });
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
    hasQueue: (queueArn) => state.queueByArn(queueArn) !== undefined,
    enqueue(queueArn, body, attributes = {}, enqueueOptions = {}) {
      const queue = state.requireQueueByArn(queueArn);
      const outgoing = prepare(
        queue,
        { MessageBody: body, MessageAttributes: attributes },
        enqueueOptions.senderId ?? SNS_SENDER_ID,
        Date.now(),
      );
      state.storeMessages(queue, [outgoing.message]);
      return { messageId: outgoing.message.messageId };
    },
    async receive(queueArn, receiveOptions = {}) {
      const queue = state.requireQueueByArn(queueArn);
      const max = Math.min(10, Math.max(1, receiveOptions.maxMessages ?? 10));
      const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, receiveOptions.waitTimeSeconds ?? 0));
      const visibility =
        receiveOptions.visibilityTimeoutSeconds ?? queueSeconds(queue, "VisibilityTimeout");
      const taken = await receiveFrom(state, queue, max, visibility, wait, receiveOptions.signal);
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
      const queue = state.requireQueueByArn(queueArn);
      const ids = ownedIds(queue, receiptHandles);
      if (ids.length > 0) state.commit({ op: "delete", name: queue.name, ids });
    },
    onQueueCreated(listener) {
      state.onQueueCreated(listener);
    },
    queues() {
      const now = Date.now();
      return [...state.queues.values()].map((queue) => {
        sweepExpired(queue, now);
        return {
          name: queue.name,
          arn: queue.arn,
          url: state.queueUrl(queue),
          attributes: effectiveAttributes(queue, now),
        };
      });
    },
    messages(queueArn) {
      return view(state.requireQueueByArn(queueArn), Date.now());
    },
    async control(path, query) {
      const route = path.replace(/^\/+/, "").replace(/\/+$/, "");
      if (route === "queues") return json(200, { queues: service.queues() });
      if (route === "messages") {
        const queue = state.queueByArn(query.get("queueArn") ?? "");
        if (!queue) return json(404, { message: "unknown queue: pass ?queueArn=<queue ARN>" });
        return json(200, { messages: view(queue, Date.now()) });
      }
      return json(404, { message: `unknown SQS control route: /${route}` });
    },
    async reset() {
      state.reset();
    },
    async close() {
      state.close();
    },
  };
  return service;
}

const ERRORS: ServiceErrorRendering = {
  render: (error) => jsonErrorResponse(error, SQS_ERRORS),
  unexpected: (error) =>
    sqsError("InternalError", error instanceof Error ? error.message : String(error), "server"),
};
