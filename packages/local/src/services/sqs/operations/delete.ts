/**
 * Deleting: DeleteMessage and DeleteMessageBatch. Only the latest receipt handle of a message
 * deletes it; a stale handle succeeds without effect, as in SQS.
 */
import { parseReceiptHandle, type QueueState, type SqsOperation } from "../model";
import { batchEntries, batchResults, checkBatchIds, requireString } from "../protocol";

export const deleteMessage: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  const ids = ownedIds(queue, [requireString(input, "ReceiptHandle")]);
  if (ids.length > 0) state.commit({ op: "delete", name: queue.name, ids });
  return {};
};

export const deleteMessageBatch: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  const entries = batchEntries(input, "Entries");
  const ids = checkBatchIds(entries);
  const deleted: string[] = [];
  const results = batchResults(entries, ids, (entry) => {
    deleted.push(...ownedIds(queue, [requireString(entry, "ReceiptHandle")]));
    return {};
  });
  if (deleted.length > 0) state.commit({ op: "delete", name: queue.name, ids: deleted });
  return results;
};

/** Message ids the handles currently own (stale handles own nothing, as in SQS). */
export function ownedIds(queue: QueueState, handles: string[]): string[] {
  const ids: string[] = [];
  for (const handle of handles) {
    const id = parseReceiptHandle(queue, handle);
    if (queue.messages.get(id)?.receiptHandle === handle) ids.push(id);
  }
  return ids;
}
