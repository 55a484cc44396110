import { functionEnvironment } from "@boarding-pass/contracts/env";
import { Duration } from "aws-cdk-lib";
import { StreamEncryption, StreamMode } from "aws-cdk-lib/aws-kinesis";
import { Alias } from "aws-cdk-lib/aws-kms";
import {
  Cron,
  KinesisStream,
  Function as SstFunction,
  type StackContext,
  Topic,
  use,
} from "sst/constructs";
import { Data } from "./Data";
import { grantTableAccess } from "./table-access";

/**
 * Where identity events go: an SNS topic for filtered fan-out and a Kinesis stream for ordered
 * (per user) replayable consumption. Events reach both through the outbox relay, so a crash
 * between a state change and its publish never loses an event (ADR 0004).
 */
export function Events({ stack }: StackContext) {
  const { table } = use(Data);

  const topic = new Topic(stack, "IdentityEvents", {
    cdk: {
      topic: {
        // The AWS-managed key: encryption at rest without a key to administer.
        masterKey: Alias.fromAliasName(stack, "SnsManagedKey", "alias/aws/sns"),
        enforceSSL: true,
      },
    },
  });

  const stream = new KinesisStream(stack, "IdentityEventStream", {
    cdk: {
      stream: {
        streamMode: StreamMode.ON_DEMAND,
        encryption: StreamEncryption.MANAGED,
        retentionPeriod: Duration.hours(24),
      },
    },
  });

  const eventsEnvironment = {
    TABLE_NAME: table.tableName,
    EVENTS_TOPIC_ARN: topic.topicArn,
    EVENTS_STREAM_NAME: stream.streamName,
  };

  // Publishes what the triggers could not publish inline (crash, timeout, partial failure).
  const relay = new SstFunction(stack, "OutboxRelay", {
    handler: "packages/functions/src/events/outbox-relay.handler",
    description: "Relays pending identity events from the outbox to SNS and Kinesis",
    timeout: "60 seconds",
    environment: functionEnvironment("outboxRelay", eventsEnvironment),
  });
  grantTableAccess(table, relay, "outboxRelay");
  topic.cdk.topic.grantPublish(relay);
  stream.cdk.stream.grantWrite(relay);
  new Cron(stack, "OutboxRelaySchedule", {
    schedule: "rate(1 minute)",
    job: relay,
  });

  stack.addOutputs({
    EventsTopicArn: topic.topicArn,
    EventsStreamName: stream.streamName,
  });

  return { topic, stream, eventsEnvironment };
}
