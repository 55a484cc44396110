/**
 * Visibility: ChangeMessageVisibility and ChangeMessageVisibilityBatch, for a message in flight
 * under its latest receipt handle (else `MessageNotInflight`). A change wakes the queue's long
 * polls, since a message made visible again may be received at once.
 */
import {
  parseReceiptHandle,
  type QueueState,
  type SqsOperation,
  type StoredMessage,
} from "../model";
import {
  batchEntries,
  batchResults,
  checkBatchIds,
  optionalInt,
  requireString,
  sqsError,
} from "../protocol";

export const changeMessageVisibility: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  const seconds = optionalInt(input, "VisibilityTimeout", 0, 43_200);
  if (seconds === undefined) {
    throw sqsError("MissingParameter", "The request must contain the parameter VisibilityTimeout.");
  }
  const now = Date.now();
  const message = inFlight(queue, requireString(input, "ReceiptHandle"), now);
  state.commit({
    op: "visibility",
    name: queue.name,
    changes: [{ id: message.messageId, visibleAt: now + seconds * 1000 }],
  });
  state.wake(queue.name);
  return {};
};

export const changeMessageVisibilityBatch: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
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
  if (changes.length > 0) state.commit({ op: "visibility", name: queue.name, changes });
  state.wake(queue.name);
  return results;
};

/** The in-flight message a handle currently owns, else MessageNotInflight. */
function inFlight(queue: QueueState, handle: string, now: number): StoredMessage {
  const id = parseReceiptHandle(queue, handle);
  const message = queue.messages.get(id);
  if (!message || message.receiptHandle !== handle || message.visibleAt <= now) {
    throw sqsError("MessageNotInflight", "The message referred to isn't in flight.");
  }
  return message;
}
