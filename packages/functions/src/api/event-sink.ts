import {
  type DynamoDBDocumentClient,
  DynamoOutboxStore,
} from "@boarding-pass/core/adapters/dynamodb";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/sns-kinesis";
import type { EventPublisher, OutboxStore } from "@boarding-pass/core/events";
import { traced } from "../observability";

/** The traced SNS and Kinesis clients the identity routes publish through (primed at init). */
export function createEventClients() {
  return { sns: traced(createSnsClient()), kinesis: traced(createKinesisClient()) };
}

/**
 * Where the identity routes' events go: kept in the table's outbox, then published to SNS and
 * Kinesis (the relay retries what does not go out).
 */
export function outboxEventSink(
  dynamo: DynamoDBDocumentClient,
  clients: ReturnType<typeof createEventClients>,
  config: { tableName: string; topicArn: string; streamName: string },
): { publisher: EventPublisher; outbox: OutboxStore } {
  return {
    publisher: new SnsKinesisEventPublisher({
      ...clients,
      topicArn: config.topicArn,
      streamName: config.streamName,
    }),
    outbox: new DynamoOutboxStore(dynamo, config.tableName),
  };
}
