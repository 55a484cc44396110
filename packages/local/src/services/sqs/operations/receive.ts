/**
 * Receiving: ReceiveMessage, with long polling (WaitTimeSeconds <= 20 s, released by a send, a
 * visibility change, a deletion or shutdown), attribute selection, and redrive to the dead-letter
 * queue once a message has been received maxReceiveCount times. The receive itself is journaled,
 * so receive counts and visibility survive a restart.
 */
import { md5Hex, md5OfAttributes, type SqsAttributeValue } from "../md5";
import {
  MAX_WAIT_SECONDS,
  newReceiptHandle,
  type QueueState,
  queueSeconds,
  redrivePolicy,
  type SqsOperation,
  type StoredMessage,
  sweepExpired,
} from "../model";
import { optionalInt, stringList } from "../protocol";
import type { SqsState } from "../state";

export const receiveMessage: SqsOperation = async (state, input) => {
  const queue = state.queueFor(input);
  const max = optionalInt(input, "MaxNumberOfMessages", 1, 10) ?? 1;
  const visibility =
    optionalInt(input, "VisibilityTimeout", 0, 43_200) ?? queueSeconds(queue, "VisibilityTimeout");
  const wait =
    optionalInt(input, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS) ??
    queueSeconds(queue, "ReceiveMessageWaitTimeSeconds");
  const systemNames = new Set([
    ...stringList(input, "AttributeNames"),
    ...stringList(input, "MessageSystemAttributeNames"),
  ]);
  const attributeNames = stringList(input, "MessageAttributeNames");
  const taken = await receiveFrom(state, queue, max, visibility, wait);
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
};

/** Takes up to `max` messages, waiting up to `waitSeconds` for one to become visible. */
export async function receiveFrom(
  state: SqsState,
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
    if (state.closed || signal?.aborted || state.queues.get(queue.name) !== queue) return [];
    const taken = take(state, queue, max, visibilitySeconds);
    if (taken.length > 0 || Date.now() >= deadline) return taken;
    await state.waitOnQueue(queue, deadline, signal);
  }
  return [];
}

/**
 * Takes up to `max` visible messages, in send order, and makes them invisible for
 * `visibilitySeconds`. A message already received maxReceiveCount times is moved to the
 * dead-letter queue instead (when that queue exists), as SQS does on the next receive.
 */
function take(
  state: SqsState,
  queue: QueueState,
  max: number,
  visibilitySeconds: number,
): StoredMessage[] {
  const now = Date.now();
  sweepExpired(queue, now);
  const policy = redrivePolicy(queue);
  const deadLetter = policy ? state.queueByArn(policy.deadLetterTargetArn) : undefined;
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
      state.commit({
        op: "move",
        name: queue.name,
        to: deadLetter.name,
        id: message.messageId,
        at: now,
      });
      state.wake(deadLetter.name);
      continue;
    }
    chosen.push(message);
  }
  if (chosen.length === 0) return [];
  const visibleAt = now + visibilitySeconds * 1000;
  state.commit({
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
