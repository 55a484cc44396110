import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/event-publisher";
import { OutboxIdentityEventSink } from "@boarding-pass/core/adapters/identities/outbox-identity-event-sink";
import { DynamoOutboxStore } from "@boarding-pass/core/adapters/outbox-store";
import { traced } from "../observability";

/** The traced SNS and Kinesis clients the identity routes publish through. */
export function createEventClients() {
  return { sns: traced(createSnsClient()), kinesis: traced(createKinesisClient()) };
}

/**
 * The identity routes' event sink: events kept in the table's outbox, then published to SNS and
 * Kinesis (the relay retries what does not go out).
 */
export function outboxEventSink(
  dynamo: DynamoDBDocumentClient,
  clients: ReturnType<typeof createEventClients>,
  config: { tableName: string; topicArn: string; streamName: string },
): OutboxIdentityEventSink {
  return new OutboxIdentityEventSink(
    new SnsKinesisEventPublisher({
      ...clients,
      topicArn: config.topicArn,
      streamName: config.streamName,
    }),
    new DynamoOutboxStore(dynamo, config.tableName),
  );
}
