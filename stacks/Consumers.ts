import { Duration } from "aws-cdk-lib";
import { StartingPosition } from "aws-cdk-lib/aws-lambda";
import { SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import { SubscriptionFilter } from "aws-cdk-lib/aws-sns";
import { QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import { Queue, type StackContext, use } from "sst/constructs";
import { Events } from "./Events";

const queueDefaults = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
} as const;

/**
 * Two example event consumers, wired the way a production consumer should be:
 * - an SNS subscriber behind an SQS queue (filtered, with a dead-letter queue), and
 * - a Kinesis consumer that reports per-record failures, bisects, caps retries and record age,
 *   and sends what it gives up on to a failure queue instead of blocking the shard.
 */
export function Consumers({ stack }: StackContext) {
  const { topic, stream } = use(Events);

  const subscriberDeadLetters = new Queue(stack, "WelcomeDeadLetters", {
    cdk: { queue: { ...queueDefaults, retentionPeriod: Duration.days(14) } },
  });
  const subscriberQueue = new Queue(stack, "WelcomeQueue", {
    consumer: {
      function: {
        handler: "packages/functions/src/consumers/welcome.handler",
        description: "Example SNS subscriber: reacts to confirmed users",
      },
      cdk: { eventSource: { batchSize: 10, reportBatchItemFailures: true } },
    },
    cdk: {
      queue: {
        ...queueDefaults,
        visibilityTimeout: Duration.seconds(60),
        deadLetterQueue: { queue: subscriberDeadLetters.cdk.queue, maxReceiveCount: 5 },
      },
    },
  });
  topic.addSubscribers(stack, {
    welcome: {
      type: "queue",
      queue: subscriberQueue,
      cdk: {
        subscription: {
          rawMessageDelivery: true,
          filterPolicy: {
            eventType: SubscriptionFilter.stringFilter({
              allowlist: ["boardingpass.user.confirmed.v1"],
            }),
          },
        },
      },
    },
  });

  const streamFailures = new Queue(stack, "AuditFailures", {
    cdk: { queue: { ...queueDefaults, retentionPeriod: Duration.days(14) } },
  });
  NagSuppressions.addResourceSuppressions(
    streamFailures,
    [
      {
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is itself the Kinesis consumer's on-failure destination (a dead-letter " +
          "queue); it holds failure records for 14 days for inspection and replay.",
      },
    ],
    true,
  );
  stream.addConsumers(stack, {
    audit: {
      function: {
        handler: "packages/functions/src/consumers/audit.handler",
        description: "Example Kinesis consumer: an ordered audit trail per user",
      },
      cdk: {
        eventSource: {
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: 100,
          reportBatchItemFailures: true,
          bisectBatchOnError: true,
          retryAttempts: 5,
          maxRecordAge: Duration.hours(6),
          onFailure: new SqsDlq(streamFailures.cdk.queue),
        },
      },
    },
  });

  stack.addOutputs({
    WelcomeQueueUrl: subscriberQueue.queueUrl,
    AuditFailuresQueueUrl: streamFailures.queueUrl,
  });
}
