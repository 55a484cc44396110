import { randomUUID } from "node:crypto";
import {
  AdminCreateUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  createDynamoDbDocumentClient,
  type DynamoDBDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import type { BoardingPassEvent } from "@boarding-pass/core/events";
import type { LocalAws } from "@boarding-pass/local";
import {
  type CognitoIdpService,
  createCognitoIdpService,
} from "@boarding-pass/local/services/cognito-idp";
import { createSnsService, type SnsService } from "@boarding-pass/local/services/sns";
import type { SNSEvent } from "aws-lambda";
import { startEmbeddedAws } from "./embedded";
import { identityTableDefinition } from "./identity-table";

const REGION = "us-east-1";
const SINK_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:events-sink";

/** The stage's role catalog, in the shape stacks/Auth.ts passes as ROLE_CATALOG. */
export const ROLE_CATALOG = {
  defaultRole: "member",
  roles: {
    admin: {
      iamRoleArn: "arn:aws:iam::000000000000:role/local-boarding-pass-admin",
      precedence: 0,
    },
    member: {
      iamRoleArn: "arn:aws:iam::000000000000:role/local-boarding-pass-member",
      precedence: 10,
    },
  },
};

export const SIGNUP_POLICY = {
  allowedDomains: [],
  deniedDomains: ["blocked.example"],
  autoConfirmDomains: ["autoconfirm.example"],
  trustedFederationProviders: ["Google", "SignInWithApple"],
};

interface SnsDelivery {
  event: BoardingPassEvent;
  attributes: Record<string, string>;
}

export interface Plane {
  aws: LocalAws;
  endpoint: string;
  sns: SnsService;
  cognito: CognitoIdpService;
  tableName: string;
  topicArn: string;
  streamName: string;
  userPoolId: string;
  dynamodb: DynamoDBDocumentClient;
  sdk: { region: string; endpoint: string };
  /** Environment the handlers' cold start parses (also written to process.env). */
  env: Record<string, string>;
  /** Events the subscribed lambda received, parsed. */
  snsEventsFor(subject: string): Promise<SnsDelivery[]>;
  kinesisEventsFor(
    subject: string,
  ): Promise<Array<{ partitionKey: string; event: BoardingPassEvent }>>;
  createNativeUser(email: string, verified: boolean): Promise<{ username: string; sub: string }>;
  groupsOf(username: string): Promise<string[]>;
  stop(): Promise<void>;
}

const FAKE_CREDENTIALS = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };

/**
 * One local AWS plane per test file: DynamoDB (dynalite), Kinesis (the local one), SNS with a lambda
 * subscriber that records deliveries, and a Cognito user pool. Names are fresh per plane; tests use
 * fresh subs and never count globally.
 */
export async function startPlane(): Promise<Plane> {
  const { aws, endpoint } = await startEmbeddedAws();
  const sns = createSnsService({
    region: REGION,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 },
  });
  aws.register(sns);
  const cognito = createCognitoIdpService({
    region: REGION,
    endpoint: () => endpoint,
    log: () => {},
  });
  aws.register(cognito);

  const suffix = randomUUID().slice(0, 8);
  const tableName = `identity-${suffix}`;
  await aws.createTables([identityTableDefinition(tableName)]);

  const sdk = { region: REGION, endpoint };
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const snsClient = new SNSClient({ ...sdk, credentials });
  const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: `events-${suffix}` }));
  const topicArn = TopicArn!;
  const received: SNSEvent[] = [];
  sns.registerLambda(SINK_FUNCTION_ARN, async (event) => {
    received.push(event);
  });
  await snsClient.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: "lambda", Endpoint: SINK_FUNCTION_ARN }),
  );
  snsClient.destroy();

  const streamName = `events-${suffix}`;
  const kinesis = new KinesisClient({ ...sdk, credentials });
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  kinesis.destroy();

  const pool = cognito.createUserPool({
    UserPoolName: `pool-${suffix}`,
    UsernameAttributes: ["email"],
    UsernameConfiguration: { CaseSensitive: false },
  });
  cognito.createGroup(pool.Id, { GroupName: "member", Precedence: 10 });
  const idp = new CognitoIdentityProviderClient({ ...sdk, credentials });

  const env: Record<string, string> = {
    ...FAKE_CREDENTIALS,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: endpoint,
    STAGE: "local",
    TABLE_NAME: tableName,
    EVENTS_TOPIC_ARN: topicArn,
    EVENTS_STREAM_NAME: streamName,
    SIGNUP_POLICY: JSON.stringify(SIGNUP_POLICY),
    DEFAULT_GROUP: "member",
    ROLE_CATALOG: JSON.stringify(ROLE_CATALOG),
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    POWERTOOLS_TRACE_ENABLED: "false",
    POWERTOOLS_METRICS_NAMESPACE: "BoardingPassTest",
    POWERTOOLS_SERVICE_NAME: "boarding-pass-test",
  };
  Object.assign(process.env, env);

  return {
    aws,
    endpoint,
    sns,
    cognito,
    tableName,
    topicArn,
    streamName,
    userPoolId: pool.Id,
    dynamodb: createDynamoDbDocumentClient(sdk),
    sdk,
    env,
    async snsEventsFor(subject) {
      await sns.idle();
      return received
        .flatMap((event) => event.Records)
        .map((record) => ({
          event: JSON.parse(record.Sns.Message) as BoardingPassEvent,
          attributes: Object.fromEntries(
            Object.entries(record.Sns.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              value.Value,
            ]),
          ),
        }))
        .filter((delivery) => delivery.event.subject === subject);
    },
    async kinesisEventsFor(subject) {
      const response = await fetch(
        `${endpoint}/_local/kinesis/records?stream=${encodeURIComponent(streamName)}`,
      );
      const body = (await response.json()) as {
        records: Array<{ partitionKey: string; data: string | null }>;
      };
      return body.records
        .map((record) => ({
          partitionKey: record.partitionKey,
          event: JSON.parse(record.data ?? "{}") as BoardingPassEvent,
        }))
        .filter((record) => record.event.subject === subject);
    },
    async createNativeUser(email, verified) {
      const { User } = await idp.send(
        new AdminCreateUserCommand({
          UserPoolId: pool.Id,
          Username: email,
          MessageAction: "SUPPRESS",
          UserAttributes: [
            { Name: "email", Value: email },
            { Name: "email_verified", Value: String(verified) },
          ],
        }),
      );
      const sub = User?.Attributes?.find((attribute) => attribute.Name === "sub")?.Value;
      return { username: User!.Username!, sub: sub! };
    },
    async groupsOf(username) {
      const { Groups } = await idp.send(
        new AdminListGroupsForUserCommand({ UserPoolId: pool.Id, Username: username }),
      );
      return (Groups ?? []).map((group) => group.GroupName!);
    },
    async stop() {
      idp.destroy();
      await sns.idle();
      await aws.stop();
    },
  };
}
