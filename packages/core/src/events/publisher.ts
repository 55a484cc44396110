import type { BoardingPassEvent } from "./catalogue";

/**
 * Port: where identity events go (SNS for fan-out, Kinesis for the ordered stream). An event counts
 * as published only when every destination accepted it; anything else stays in the outbox and is
 * published again later under the same id (consumers dedupe on `id`, ADR 0004).
 */
export interface EventPublisher {
  /** Never throws for a delivery failure: failures are reported per event. */
  publish(events: readonly BoardingPassEvent[], options?: PublishOptions): Promise<PublishOutcome>;
}

export interface PublishOptions {
  /** Aborts outstanding requests; events not confirmed by then are reported as failed. */
  signal?: AbortSignal;
}

export interface PublishFailure {
  id: string;
  /** An error code or name, safe to log (never the payload). */
  reason: string;
}

export interface PublishOutcome {
  /** Ids accepted by every destination. */
  published: string[];
  failed: PublishFailure[];
}
