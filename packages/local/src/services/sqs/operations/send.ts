/**
 * Sending: SendMessage and SendMessageBatch. A send is answered once its record is in the
 * journal; a batch is one record (one fsync), so all of it or none survives a crash.
 */
import { randomUUID } from "node:crypto";
import type { ServiceRequest } from "../../../types";
import { md5Hex, md5OfAttributes } from "../md5";
import { type QueueState, queueSeconds, type SqsOperation, type StoredMessage } from "../model";
import {
  batchEntries,
  batchResults,
  checkBatchIds,
  invalidParameter,
  optionalInt,
  sqsError,
} from "../protocol";
import { messageSize, readMessageAttributes, validateBody } from "../validate";

const MAX_BATCH_BYTES = 262_144;

interface Outgoing {
  message: StoredMessage;
  result: {
    MessageId: string;
    MD5OfMessageBody: string;
    MD5OfMessageAttributes?: string;
    MD5OfMessageSystemAttributes?: string;
  };
}

export const sendMessage: SqsOperation = (state, input, request) => {
  const queue = state.queueFor(input);
  const outgoing = prepare(queue, input, senderOf(state.accountId, request), Date.now());
  state.storeMessages(queue, [outgoing.message]);
  return outgoing.result;
};

export const sendMessageBatch: SqsOperation = (state, input, request) => {
  const queue = state.queueFor(input);
  const entries = batchEntries(input, "Entries");
  const ids = checkBatchIds(entries);
  const total = entries.reduce(
    (sum, entry) =>
      sum +
      (typeof entry.MessageBody === "string" ? Buffer.byteLength(entry.MessageBody, "utf8") : 0),
    0,
  );
  if (total > MAX_BATCH_BYTES) {
    throw sqsError(
      "BatchRequestTooLong",
      `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${total} bytes.`,
    );
  }
  const now = Date.now();
  const accepted: StoredMessage[] = [];
  const results = batchResults(entries, ids, (entry) => {
    const outgoing = prepare(queue, entry, senderOf(state.accountId, request), now);
    accepted.push(outgoing.message);
    return outgoing.result;
  });
  // One record for the whole batch: one fsync, and all of it or none survives a crash.
  state.storeMessages(queue, accepted);
  return results;
};

/** Validates one message and builds it; nothing is stored yet. */
export function prepare(
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

function senderOf(accountId: string, request: ServiceRequest): string {
  return request.accessKeyId ?? accountId;
}
