import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  type BoardingPassEvent,
  kinesisPartitionKey,
  snsMessageAttributes,
} from "../events/catalogue";
import type {
  EventPublisher,
  PublishFailure,
  PublishOptions,
  PublishOutcome,
} from "../events/publisher";
import { type SdkClientOptions, sdkClientConfig } from "./sdk";

const SNS_BATCH_LIMIT = 10;
const KINESIS_BATCH_LIMIT = 500;

export interface SnsKinesisPublisherOptions {
  sns: Pick<SNSClient, "send">;
  kinesis: Pick<KinesisClient, "send">;
  topicArn: string;
  streamName: string;
  /** Attempts per entry, the first included (entries that failed are resent, not the batch). */
  maxAttempts?: number;
  /** Back-off before attempt n is `baseDelayMs * 2^(n-2)`, with full jitter. */
  baseDelayMs?: number;
}

export function createSnsClient(options: SdkClientOptions = {}): SNSClient {
  return new SNSClient(sdkClientConfig(options));
}

export function createKinesisClient(options: SdkClientOptions = {}): KinesisClient {
  return new KinesisClient(sdkClientConfig(options));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const errorName = (error: unknown): string =>
  String((error as { name?: unknown } | null)?.name ?? "Error");

type Attempt = (
  batch: BoardingPassEvent[],
  signal: AbortSignal | undefined,
) => Promise<{ failed: Map<string, string> }>;

/**
 * Publishes every event to the SNS topic (PublishBatch, 10 a call) and the Kinesis stream
 * (PutRecords, 500 a call). Both APIs report failures per entry inside a 200 response: only the
 * failed entries are sent again, a bounded number of times. An event is `published` when both
 * destinations took it; otherwise it stays in the outbox and goes out again later with the same
 * id, which is why consumers dedupe on `id`.
 */
export class SnsKinesisEventPublisher implements EventPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(private readonly options: SnsKinesisPublisherOptions) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.baseDelayMs = options.baseDelayMs ?? 25;
  }

  async publish(
    events: readonly BoardingPassEvent[],
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    const unique = [
      ...new Map<string, BoardingPassEvent>(events.map((event) => [event.id, event])).values(),
    ];
    if (unique.length === 0) return { published: [], failed: [] };
    const [snsFailed, kinesisFailed] = await Promise.all([
      this.withRetries(unique, SNS_BATCH_LIMIT, this.snsAttempt, options.signal),
      this.withRetries(unique, KINESIS_BATCH_LIMIT, this.kinesisAttempt, options.signal),
    ]);
    const failed: PublishFailure[] = [];
    const published: string[] = [];
    for (const event of unique) {
      const reason = snsFailed.get(event.id) ?? kinesisFailed.get(event.id);
      if (reason === undefined) published.push(event.id);
      else failed.push({ id: event.id, reason });
    }
    return { published, failed };
  }

  /** Runs `attempt` per chunk until every entry succeeded or attempts ran out; returns failures. */
  private async withRetries(
    events: BoardingPassEvent[],
    chunkSize: number,
    attempt: Attempt,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, string>> {
    const failures = new Map<string, string>();
    await Promise.all(
      chunks(events, chunkSize).map(async (chunk) => {
        let remaining = chunk;
        let lastFailures = new Map<string, string>();
        for (let n = 1; n <= this.maxAttempts && remaining.length > 0; n++) {
          if (n > 1) {
            await sleep(Math.random() * this.baseDelayMs * 2 ** (n - 2), signal);
          }
          if (signal?.aborted) break;
          try {
            lastFailures = (await attempt(remaining, signal)).failed;
          } catch (error) {
            // The whole call failed (after the SDK's own retries): every entry is still to send.
            lastFailures = new Map(remaining.map((event) => [event.id, errorName(error)]));
          }
          remaining = remaining.filter((event) => lastFailures.has(event.id));
        }
        for (const event of remaining) {
          failures.set(event.id, lastFailures.get(event.id) ?? "Aborted");
        }
      }),
    );
    return failures;
  }

  private readonly snsAttempt: Attempt = async (batch, signal) => {
    const result = await this.options.sns.send(
      new PublishBatchCommand({
        TopicArn: this.options.topicArn,
        PublishBatchRequestEntries: batch.map((event) => ({
          Id: event.id,
          Message: JSON.stringify(event),
          MessageAttributes: snsMessageAttributes(event),
        })),
      }),
      { abortSignal: signal },
    );
    const succeeded = new Set((result.Successful ?? []).map((entry) => entry.Id));
    const failed = new Map<string, string>();
    for (const entry of result.Failed ?? []) {
      if (entry.Id !== undefined) failed.set(entry.Id, entry.Code ?? "Failed");
    }
    // An entry neither reported successful nor failed is treated as failed: never assume delivery.
    for (const event of batch) {
      if (!succeeded.has(event.id) && !failed.has(event.id)) failed.set(event.id, "Unreported");
    }
    return { failed };
  };

  private readonly kinesisAttempt: Attempt = async (batch, signal) => {
    const result = await this.options.kinesis.send(
      new PutRecordsCommand({
        StreamName: this.options.streamName,
        Records: batch.map((event) => ({
          Data: Buffer.from(JSON.stringify(event)),
          PartitionKey: kinesisPartitionKey(event),
        })),
      }),
      { abortSignal: signal },
    );
    const failed = new Map<string, string>();
    // PutRecords answers in request order, one result per record.
    batch.forEach((event, index) => {
      const record = result.Records?.[index];
      if (record === undefined || record.ErrorCode !== undefined || !record.SequenceNumber) {
        failed.set(event.id, record?.ErrorCode ?? "Unreported");
      }
    });
    return { failed };
  };
}
