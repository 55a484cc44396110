/**
 * SNS delivery engine: runs each (message, subscription) delivery after Publish has returned,
 * retries with bounded exponential backoff, then hands the message to the subscription's
 * dead-letter queue or drops it. Every attempt and outcome is recorded for inspection.
 *
 * Real SNS retries Lambda deliveries for hours; locally the same policy shape runs with
 * millisecond delays so tests see the dead-letter path quickly. `idle()` lets tests wait for
 * quiescence instead of sleeping.
 *
 * `onSettled` reports each job's final outcome (delivered, dead-lettered, dropped, ...), so the
 * owner can journal it: a job abandoned by `close()` is never reported, so a persistent owner
 * still holds it as pending and runs it again after a restart.
 */

export interface RetryPolicy {
  /** Total attempts including the first (default 3). */
  attempts: number;
  /** Delay before the second attempt, doubled each time (default 20 ms). */
  baseDelayMs: number;
  /** Cap of one delay (default 500 ms). */
  maxDelayMs: number;
  /**
   * An attempt that has not settled by then counts as failed (default 30 s), so a hung
   * subscriber callback cannot keep `idle()` pending forever.
   */
  attemptTimeoutMs: number;
  /**
   * Attempts in flight at once across all subscriptions (default 16). Bounds the load a burst of
   * publishes puts on local subscribers; a job waiting for its retry holds no slot.
   */
  maxConcurrency: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 20,
  maxDelayMs: 500,
  attemptTimeoutMs: 30_000,
  maxConcurrency: 16,
};

type DeliveryStatus = "delivered" | "failed" | "dead-lettered" | "dead-letter-failed" | "dropped";

export interface DeliveryRecord {
  messageId: string;
  topicArn: string;
  subscriptionArn: string;
  protocol: string;
  endpoint: string;
  /** 1-based attempt number; 0 for the final disposition records (dead-letter, dropped). */
  attempt: number;
  status: DeliveryStatus;
  error?: string;
  /** ISO time of the attempt. */
  at: string;
}

export interface DeliveryJob {
  messageId: string;
  topicArn: string;
  subscriptionArn: string;
  protocol: string;
  endpoint: string;
  /** One attempt; throws (or rejects) on failure. */
  send: () => Promise<void>;
  /** Dead-letter hand-off, when the subscription has a RedrivePolicy. */
  deadLetter?: () => Promise<void>;
}

export class DeliveryEngine {
  private pending = 0;
  private waiters: Array<() => void> = [];
  private records: DeliveryRecord[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private active = 0;
  private slotWaiters: Array<() => void> = [];

  constructor(
    private readonly retry: RetryPolicy,
    private readonly maxRecords = 10_000,
    private readonly onSettled?: (job: DeliveryJob, status: DeliveryStatus) => void,
  ) {}

  /** Schedules a delivery; returns immediately (the first attempt runs on a later tick). */
  enqueue(job: DeliveryJob): void {
    if (this.closed) return;
    this.pending++;
    setImmediate(() => {
      this.run(job).finally(() => this.settle());
    });
  }

  /** Resolves when no delivery is pending or waiting for a retry. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  list(
    filter: { topicArn?: string; subscriptionArn?: string; messageId?: string } = {},
  ): DeliveryRecord[] {
    return this.records.filter(
      (r) =>
        (!filter.topicArn || r.topicArn === filter.topicArn) &&
        (!filter.subscriptionArn || r.subscriptionArn === filter.subscriptionArn) &&
        (!filter.messageId || r.messageId === filter.messageId),
    );
  }

  clear(): void {
    this.records = [];
  }

  /** Stops retries; pending deliveries are abandoned (the service is shutting down). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending = 0;
    this.flushWaiters();
  }

  private async run(job: DeliveryJob): Promise<void> {
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (this.closed) return;
      try {
        await this.attempt(job.send);
        this.record(job, attempt, "delivered");
        this.settled(job, "delivered");
        return;
      } catch (err) {
        this.record(job, attempt, "failed", err);
      }
      if (attempt < this.retry.attempts) await this.sleep(this.backoff(attempt));
    }
    if (this.closed) return;
    if (!job.deadLetter) {
      this.record(job, 0, "dropped");
      this.settled(job, "dropped");
      return;
    }
    try {
      await this.attempt(job.deadLetter);
      this.record(job, 0, "dead-lettered");
      this.settled(job, "dead-lettered");
    } catch (err) {
      // The DLQ itself is unavailable: SNS then drops the message.
      this.record(job, 0, "dead-letter-failed", err);
      this.settled(job, "dead-letter-failed");
    }
  }

  /** Reports a final outcome, unless the engine was closed meanwhile (then it stays pending). */
  private settled(job: DeliveryJob, status: DeliveryStatus): void {
    if (this.closed || !this.onSettled) return;
    // The hook journals; a failure there must not turn into an unhandled rejection of run().
    try {
      this.onSettled(job, status);
    } catch (err) {
      console.error("sns: recording a settled delivery failed", err);
    }
  }

  /** One bounded attempt: waits for a concurrency slot, then runs with the attempt timeout. */
  private async attempt(send: () => Promise<void>): Promise<void> {
    if (this.active < Math.max(1, this.retry.maxConcurrency)) this.active++;
    // Full: wait for a finishing attempt to hand its slot over (`active` stays unchanged, so
    // no newcomer can slip in between the release and the waiter resuming).
    else await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    try {
      await this.withTimeout(send);
    } finally {
      const next = this.slotWaiters.shift();
      if (next) next();
      else this.active--;
    }
  }

  private async withTimeout(send: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`attempt timed out after ${this.retry.attemptTimeoutMs} ms`)),
        this.retry.attemptTimeoutMs,
      );
      // A guard only: it must not keep a process alive on its own.
      timer.unref();
    });
    try {
      // A synchronous throw inside send() is a failed attempt like any rejection.
      await Promise.race([Promise.resolve().then(send), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private record(job: DeliveryJob, attempt: number, status: DeliveryStatus, err?: unknown): void {
    const record: DeliveryRecord = {
      messageId: job.messageId,
      topicArn: job.topicArn,
      subscriptionArn: job.subscriptionArn,
      protocol: job.protocol,
      endpoint: job.endpoint,
      attempt,
      status,
      at: new Date().toISOString(),
    };
    if (err !== undefined) record.error = err instanceof Error ? err.message : String(err);
    this.records.push(record);
    // Bounded: a long-running local cloud must not grow without limit.
    if (this.records.length > this.maxRecords) {
      this.records.splice(0, this.records.length - this.maxRecords);
    }
  }

  private settle(): void {
    if (this.pending > 0) this.pending--;
    if (this.pending === 0) this.flushWaiters();
  }

  private flushWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
