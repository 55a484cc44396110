/**
 * A Lambda event-source mapping for an SQS queue of the local SQS: long-polls the queue, invokes
 * the function synchronously with an `SQSEvent` shaped as Lambda builds it, and settles the batch
 * as Lambda does:
 * - success: every message of the batch is deleted;
 * - function error (or timeout): nothing is deleted; the messages reappear after the queue's
 *   visibility timeout and each receive counts toward the queue's redrive policy, so a poison
 *   message ends in the dead-letter queue (SQS moves it, not the poller);
 * - with `reportBatchItemFailures`, a successful response `{ batchItemFailures: [{ itemIdentifier }] }`
 *   deletes all but the listed messages; a malformed response (an identifier that is empty or
 *   not in the batch) fails the whole batch, as Lambda treats it.
 *
 * One batch is in flight at a time (Lambda scales pollers out; the local cloud does not need to).
 * Messages are never lost by the poller: a crash mid-batch leaves them to their visibility
 * timeout, the at-least-once delivery Lambda gives.
 */
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import type { ReceivedMessage, SqsService } from "../services/sqs";
import type { LambdaInvoker } from "./contracts";

export interface SqsEventSourceOptions {
  sqs: SqsService;
  queueArn: string;
  functionArn: string;
  invoker: LambdaInvoker;
  /** Messages per invocation: 1 to 10,000 (Lambda's default 10). */
  batchSize?: number;
  /** Wait up to this long (0 to 300 s) to fill a batch beyond the first receive (default 0). */
  maximumBatchingWindowSeconds?: number;
  reportBatchItemFailures?: boolean;
  region: string;
  /** Long-poll wait of each receive (default 20 s, what Lambda's pollers use). */
  pollWaitSeconds?: number;
  /** Pause after a failed receive (e.g. the queue was deleted) before polling again (1 s). */
  errorBackoffMs?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface SqsEventSource {
  /** Stops polling; resolves once the batch in flight (if any) has been settled. */
  stop(): Promise<void>;
}

/** What Lambda settles a batch to: the receipt handles to delete. */
export function handlesToDelete(
  records: SQSRecord[],
  result: { ok: boolean; payload?: unknown },
  reportBatchItemFailures: boolean,
): string[] {
  if (!result.ok) return [];
  const all = records.map((r) => r.receiptHandle);
  if (!reportBatchItemFailures) return all;
  const payload = result.payload as { batchItemFailures?: unknown } | null | undefined;
  const failures = payload && typeof payload === "object" ? payload.batchItemFailures : undefined;
  if (failures === undefined || failures === null) return all;
  if (!Array.isArray(failures)) return [];
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // An identifier Lambda cannot match makes the whole response invalid: the batch failed.
    if (typeof id !== "string" || id === "" || !ids.has(id)) return [];
    failed.add(id);
  }
  return records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
}

/** One message as Lambda's SQS event carries it. */
function sqsEventRecord(message: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, attribute] of Object.entries(message.attributes)) {
    messageAttributes[name] = {
      ...(attribute.StringValue !== undefined ? { stringValue: attribute.StringValue } : {}),
      ...(attribute.BinaryValue !== undefined ? { binaryValue: attribute.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: attribute.DataType as SQSMessageAttributes[string]["dataType"],
    };
  }
  const record: SQSRecord = {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.approximateReceiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: message.senderId,
      ApproximateFirstReceiveTimestamp: String(message.approximateFirstReceiveTimestamp),
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (message.md5OfMessageAttributes)
    record.md5OfMessageAttributes = message.md5OfMessageAttributes;
  return record;
}

export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const batchSize = options.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new RangeError(`batchSize must be an integer from 1 to 10,000, got ${batchSize}`);
  }
  const windowSeconds = options.maximumBatchingWindowSeconds ?? 0;
  if (!(windowSeconds >= 0 && windowSeconds <= 300)) {
    throw new RangeError(`maximumBatchingWindowSeconds must be 0 to 300, got ${windowSeconds}`);
  }
  const pollWait = Math.min(20, Math.max(0, options.pollWaitSeconds ?? 20));
  const log = options.log ?? (() => {});
  const abort = new AbortController();
  const { signal } = abort;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  /** A first long-polled receive, then more within the batching window, up to batchSize. */
  async function collect(): Promise<ReceivedMessage[]> {
    const batch = await options.sqs.receive(options.queueArn, {
      maxMessages: Math.min(10, batchSize),
      waitTimeSeconds: pollWait,
      signal,
    });
    if (batch.length === 0) return batch;
    const deadline = Date.now() + windowSeconds * 1000;
    // Each pass takes at least one message or ends: bounded by batchSize and the window.
    while (batch.length < batchSize && !signal.aborted) {
      const remaining = deadline - Date.now();
      const more = await options.sqs.receive(options.queueArn, {
        maxMessages: Math.min(10, batchSize - batch.length),
        waitTimeSeconds: remaining > 0 ? Math.min(20, Math.ceil(remaining / 1000)) : 0,
        signal,
      });
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  }

  async function runBatch(batch: ReceivedMessage[]): Promise<void> {
    const records = batch.map((m) => sqsEventRecord(m, options.queueArn, options.region));
    const event: SQSEvent = { Records: records };
    const result = await options.invoker.invoke(options.functionArn, event, {
      invocationType: "RequestResponse",
      source: "sqs",
    });
    const handles = handlesToDelete(records, result, options.reportBatchItemFailures ?? false);
    if (!result.ok) {
      log("sqs batch failed; messages return after the visibility timeout", {
        functionArn: options.functionArn,
        errorType: result.errorType,
        messages: records.length,
      });
    } else if (handles.length < records.length) {
      log("sqs batch partly failed", {
        functionArn: options.functionArn,
        failed: records.length - handles.length,
      });
    }
    // Deleted even when stopping: the function has processed them.
    if (handles.length > 0) options.sqs.deleteMessages(options.queueArn, handles);
  }

  async function loop(): Promise<void> {
    while (!signal.aborted) {
      let batch: ReceivedMessage[];
      try {
        batch = await collect();
      } catch (error) {
        log("sqs receive failed", { queueArn: options.queueArn, error: String(error) });
        await pause(options.errorBackoffMs ?? 1_000);
        continue;
      }
      if (batch.length === 0) continue;
      try {
        await runBatch(batch);
      } catch (error) {
        // The invoker never throws for a handler failure; this is the local cloud's own fault.
        // The messages stay to their visibility timeout.
        log("sqs batch could not be settled", { error: String(error) });
        await pause(options.errorBackoffMs ?? 1_000);
      }
    }
  }

  const running = loop();
  return {
    async stop() {
      abort.abort();
      await running;
    },
  };
}
