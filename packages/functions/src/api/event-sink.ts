import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoOutboxStore } from "@boarding-pass/core/adapters/dynamodb";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/sns-kinesis";
import type { EventPublisher, OutboxStore } from "@boarding-pass/core/events";
import { traced } from "../observability";

/**
 * Where the identity routes' events go: kept in the table's outbox, then published to SNS and
 * Kinesis over traced clients (the relay retries what does not go out).
 */
export function outboxEventSink(
  dynamo: DynamoDBDocumentClient,
  config: { tableName: string; topicArn: string; streamName: string },
): { publisher: EventPublisher; outbox: OutboxStore } {
  return {
    publisher: new SnsKinesisEventPublisher({
      sns: traced(createSnsClient()),
      kinesis: traced(createKinesisClient()),
      topicArn: config.topicArn,
      streamName: config.streamName,
    }),
    outbox: new DynamoOutboxStore(dynamo, config.tableName),
  };
}
