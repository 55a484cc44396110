import {
  createDynamoDbDocumentClient,
  DynamoOutboxStore,
} from "@boarding-pass/core/adapters/dynamodb";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/sns-kinesis";
import {
  type EventPublisher,
  type OutboxStore,
  type RelaySummary,
  relayOutbox,
} from "@boarding-pass/core/events";
import { outboxRelayConfig } from "../config";
import { consumer } from "../kit/consumer";
import { logger, MetricUnit, metrics, type TriggerContext, traced } from "../observability";

/**
 * Outbox relay (every minute): publishes the events that triggers left pending (crash, timeout,
 * partial SNS/Kinesis failure) and clears them. Idempotent: clearing is conditional on the event
 * id, and a re-published event keeps its id.
 */

export interface OutboxRelayDeps {
  store: OutboxStore;
  publisher: EventPublisher;
  graceMs: number;
  now?: () => Date;
}

export function createOutboxRelayHandler(deps: OutboxRelayDeps) {
  const run = consumer({
    async handle(): Promise<RelaySummary> {
      const summary = await relayOutbox(deps, {
        now: deps.now?.() ?? new Date(),
        graceMs: deps.graceMs,
      });
      metrics.addMetric("EventsRelayed", MetricUnit.Count, summary.relayed);
      metrics.addMetric("EventsStillPending", MetricUnit.Count, summary.stillPending);
      if (summary.corrupt > 0)
        metrics.addMetric("CorruptOutboxEntries", MetricUnit.Count, summary.corrupt);
      logger.info("outbox relay tick", { ...summary });
      return summary;
    },
  });
  // The schedule's event carries nothing the relay reads: callers may invoke it without one.
  return (event?: unknown, context?: TriggerContext): Promise<RelaySummary> => run(event, context);
}

const config = outboxRelayConfig();
const dynamodb = traced(createDynamoDbDocumentClient());

export const handler = createOutboxRelayHandler({
  store: new DynamoOutboxStore(dynamodb, config.tableName),
  publisher: new SnsKinesisEventPublisher({
    sns: traced(createSnsClient()),
    kinesis: traced(createKinesisClient()),
    topicArn: config.events.topicArn,
    streamName: config.events.streamName,
  }),
  graceMs: config.graceMs,
});
