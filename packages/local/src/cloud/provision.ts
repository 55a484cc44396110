/**
 * Applies a CloudPlan to the local services: creates (or updates in place) tables, streams,
 * topics, queues, subscriptions, roles, user and identity pools, IoT policies and KMS keys, and
 * returns the parts that run rather than exist (functions, event source mappings, schedules,
 * HTTP APIs) for the composer to start.
 *
 * Every step is idempotent, as a CloudFormation update is: a restart over persisted state finds
 * its resources and brings them to the template's current definition.
 */
import {
  CreateStreamCommand,
  KinesisClient,
  ResourceInUseException,
} from "@aws-sdk/client-kinesis";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { LocalAws } from "../index";
import type { LocalFunction } from "../lambda/types";
import { httpApisFromTemplate, type TemplateHttpApi } from "../services/apigateway/index";
import type { IamDirectory, LocalRole, PolicyDocument } from "./contracts";
import type { CloudPlan, PlannedResource } from "./plan";
import { tableDefinitionsFromTemplate } from "./tables";

/** A function as the Lambda runtime runs it (the template's settings, its bundle's directory). */
type FunctionSpec = LocalFunction;

type EventSourceSpec =
  | {
      kind: "kinesis";
      id: string;
      streamArn: string;
      functionArn: string;
      batchSize: number;
      startingPosition: "TRIM_HORIZON" | "LATEST";
      maximumBatchingWindowSeconds: number;
      bisectBatchOnFunctionError: boolean;
      maximumRetryAttempts: number;
      maximumRecordAgeInSeconds: number;
      reportBatchItemFailures: boolean;
      /** SQS queue or SNS topic ARN of the on-failure destination. */
      onFailureArn?: string;
      enabled: boolean;
    }
  | {
      kind: "sqs";
      id: string;
      queueArn: string;
      functionArn: string;
      batchSize: number;
      maximumBatchingWindowSeconds: number;
      reportBatchItemFailures: boolean;
      enabled: boolean;
    };

interface ScheduleSpec {
  ruleName: string;
  ruleArn: string;
  expression: string;
  enabled: boolean;
  functionArns: string[];
}

/** An HTTP API as its template declares it, with its local id. */
interface HttpApiSpec extends TemplateHttpApi {
  apiId: string;
}

export interface ProvisionedCloud {
  plan: CloudPlan;
  iam: IamDirectory;
  functions: FunctionSpec[];
  eventSources: EventSourceSpec[];
  schedules: ScheduleSpec[];
  httpApis: HttpApiSpec[];
  /** SNS subscriptions with protocol `lambda`: the composer registers their callbacks. */
  lambdaSubscriptions: { topicArn: string; functionArn: string }[];
  /** Roles whose trust policy the local STS refused (not assumable locally; listed in docs). */
  skippedRoles: { arn: string; reason: string }[];
}

interface ProvisionOptions {
  plan: CloudPlan;
  aws: LocalAws;
  /** Resolves a function's `Code.S3Key` to its bundle directory. */
  assetDir(objectKey: string): string | undefined;
  log?: (line: string) => void;
}

export async function provisionCloud(options: ProvisionOptions): Promise<ProvisionedCloud> {
  const { plan, aws } = options;
  const byType = (type: string) => plan.resources.filter((r) => r.type === type);
  const clientConfig = {
    endpoint: aws.endpoint,
    region: plan.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };

  // ---------------------------------------------------------------- data and events
  for (const stack of new Set(byType("AWS::DynamoDB::Table").map((r) => r.stack))) {
    const tables = byType("AWS::DynamoDB::Table").filter((r) => r.stack === stack);
    const template = {
      Resources: Object.fromEntries(
        tables.map((r) => [r.logicalId, { Type: r.type, Properties: r.properties }]),
      ),
    };
    await aws.createTables(
      tableDefinitionsFromTemplate(
        template,
        (logicalId) => tables.find((table) => table.logicalId === logicalId)!.ref,
      ),
    );
  }

  const kinesis = new KinesisClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  try {
    for (const stream of byType("AWS::Kinesis::Stream")) {
      const p = stream.properties as {
        ShardCount?: number;
        StreamModeDetails?: { StreamMode?: string };
      };
      try {
        await kinesis.send(
          new CreateStreamCommand({
            StreamName: stream.ref,
            ...(p.StreamModeDetails?.StreamMode === "ON_DEMAND"
              ? { StreamModeDetails: { StreamMode: "ON_DEMAND" } }
              : { ShardCount: p.ShardCount ?? 1 }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }

    // Dead-letter queues first: a redrive policy names its target's ARN.
    const queues = byType("AWS::SQS::Queue").sort(
      (a, b) => Number(hasRedrive(a)) - Number(hasRedrive(b)),
    );
    for (const queue of queues) {
      await sqs.send(
        new CreateQueueCommand({
          QueueName: queue.attributes.QueueName!,
          Attributes: queueAttributes(queue),
        }),
      );
    }

    for (const topic of byType("AWS::SNS::Topic")) {
      await sns.send(new CreateTopicCommand({ Name: topic.attributes.TopicName! }));
    }
  } finally {
    kinesis.destroy();
  }

  // ---------------------------------------------------------------- identity and access
  const roles = new Map<string, LocalRole>();
  for (const role of byType("AWS::IAM::Role")) {
    const p = role.properties as {
      AssumeRolePolicyDocument: PolicyDocument;
      Policies?: { PolicyName: string; PolicyDocument: PolicyDocument }[];
      ManagedPolicyArns?: string[];
    };
    roles.set(role.ref, {
      name: role.ref,
      arn: role.attributes.Arn!,
      trustPolicy: p.AssumeRolePolicyDocument,
      policies: (p.Policies ?? []).map((policy) => policy.PolicyDocument),
      managedPolicyArns: p.ManagedPolicyArns ?? [],
    });
  }
  for (const policy of byType("AWS::IAM::Policy")) {
    const p = policy.properties as { PolicyDocument: PolicyDocument; Roles?: string[] };
    for (const roleName of p.Roles ?? []) roles.get(roleName)?.policies.push(p.PolicyDocument);
  }
  const skippedRoles: ProvisionedCloud["skippedRoles"] = [];
  for (const role of roles.values()) {
    try {
      aws.sts?.putRole({ arn: role.arn, trustPolicy: role.trustPolicy });
    } catch (error) {
      skippedRoles.push({ arn: role.arn, reason: (error as Error).message });
    }
  }
  const iam = iamDirectory([...roles.values()]);

  for (const policy of byType("AWS::IoT::Policy")) {
    const document = (policy.properties as { PolicyDocument: unknown }).PolicyDocument;
    aws.iot?.putPolicy(
      policy.ref,
      typeof document === "string" ? document : JSON.stringify(document),
    );
  }

  for (const key of byType("AWS::KMS::Key")) {
    if (!aws.kms) throw new Error("The plan declares a KMS key but the local KMS is not running");
    const p = key.properties as { KeySpec?: string; KeyUsage?: string; Description?: string };
    aws.kms.putKey(key.ref, {
      KeySpec: p.KeySpec,
      KeyUsage: p.KeyUsage,
      Description: p.Description,
    });
  }

  // ---------------------------------------------------------------- functions
  const functions: FunctionSpec[] = [];
  for (const fn of byType("AWS::Lambda::Function")) {
    const p = fn.properties as {
      Code?: { S3Key?: string };
      Handler?: string;
      Role: string;
      Runtime?: string;
      Timeout?: number;
      MemorySize?: number;
      Environment?: { Variables?: Record<string, unknown> };
      TracingConfig?: { Mode?: string };
    };
    const bundleDir = p.Code?.S3Key ? options.assetDir(p.Code.S3Key) : undefined;
    // CDK's own providers (log retention, custom resources) have no bundle here: they act on the
    // deploy, not on the app.
    if (!bundleDir || !p.Handler) continue;
    functions.push({
      name: fn.ref,
      arn: fn.attributes.Arn!,
      roleArn: p.Role,
      handler: p.Handler,
      bundleDir,
      runtime: p.Runtime ?? "nodejs22.x",
      timeoutSeconds: p.Timeout ?? 3,
      memoryMb: p.MemorySize ?? 128,
      environment: Object.fromEntries(
        Object.entries(p.Environment?.Variables ?? {}).map(([k, v]) => [k, String(v)]),
      ),
      // `tracing: "active"` in the stacks; the runtime samples these when it has a daemon.
      ...(p.TracingConfig?.Mode === "Active" || p.TracingConfig?.Mode === "PassThrough"
        ? { tracing: p.TracingConfig.Mode }
        : {}),
    });
  }

  // ---------------------------------------------------------------- user and identity pools
  const idp = aws.cognitoIdp;
  for (const pool of byType("AWS::Cognito::UserPool")) {
    if (!idp)
      throw new Error("The plan declares a user pool but the local user pool is not running");
    idp.putUserPool(pool.ref, pool.properties as Parameters<typeof idp.putUserPool>[1]);
  }
  for (const client of byType("AWS::Cognito::UserPoolClient")) {
    const { UserPoolId, ...definition } = client.properties as { UserPoolId: string };
    idp!.putUserPoolClient(
      UserPoolId,
      client.ref,
      definition as Parameters<NonNullable<typeof idp>["putUserPoolClient"]>[2],
    );
  }
  for (const group of byType("AWS::Cognito::UserPoolGroup")) {
    const { UserPoolId, ...definition } = group.properties as { UserPoolId: string };
    idp!.putGroup(UserPoolId, definition as Parameters<NonNullable<typeof idp>["putGroup"]>[1]);
  }
  for (const pool of byType("AWS::Cognito::IdentityPool")) {
    if (!aws.cognitoIdentity)
      throw new Error("The plan declares an identity pool but it is not running");
    const { IdentityPoolTags: _tags, ...definition } = pool.properties as Record<string, unknown>;
    aws.cognitoIdentity.putIdentityPool(
      pool.ref,
      definition as unknown as Parameters<typeof aws.cognitoIdentity.putIdentityPool>[1],
    );
  }
  for (const attachment of byType("AWS::Cognito::IdentityPoolRoleAttachment")) {
    const { IdentityPoolId, ...definition } = attachment.properties as { IdentityPoolId: string };
    aws.cognitoIdentity!.setIdentityPoolRoles(
      IdentityPoolId,
      definition as Parameters<NonNullable<typeof aws.cognitoIdentity>["setIdentityPoolRoles"]>[1],
    );
  }

  // ---------------------------------------------------------------- subscriptions
  const lambdaSubscriptions: ProvisionedCloud["lambdaSubscriptions"] = [];
  try {
    for (const subscription of byType("AWS::SNS::Subscription")) {
      const p = subscription.properties as {
        TopicArn: string;
        Protocol: string;
        Endpoint: string;
        FilterPolicy?: unknown;
        FilterPolicyScope?: string;
        RawMessageDelivery?: boolean | string;
        RedrivePolicy?: unknown;
      };
      const attributes: Record<string, string> = {};
      if (p.FilterPolicy !== undefined) attributes.FilterPolicy = JSON.stringify(p.FilterPolicy);
      if (p.FilterPolicyScope) attributes.FilterPolicyScope = p.FilterPolicyScope;
      if (p.RawMessageDelivery !== undefined) {
        attributes.RawMessageDelivery = String(p.RawMessageDelivery);
      }
      if (p.RedrivePolicy !== undefined) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      await sns.send(
        new SubscribeCommand({
          TopicArn: p.TopicArn,
          Protocol: p.Protocol,
          Endpoint: p.Endpoint,
          Attributes: attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      if (p.Protocol === "lambda") {
        lambdaSubscriptions.push({ topicArn: p.TopicArn, functionArn: p.Endpoint });
      }
    }
  } finally {
    sns.destroy();
    sqs.destroy();
  }

  // ---------------------------------------------------------------- what runs
  const functionArn = (reference: string) => {
    const fn = functions.find((f) => f.name === reference || f.arn === reference);
    if (!fn) throw new Error(`No local function ${reference}`);
    return fn.arn;
  };
  const eventSources: EventSourceSpec[] = byType("AWS::Lambda::EventSourceMapping").map(
    (mapping) => {
      const p = mapping.properties as {
        EventSourceArn: string;
        FunctionName: string;
        BatchSize?: number;
        StartingPosition?: "TRIM_HORIZON" | "LATEST";
        MaximumBatchingWindowInSeconds?: number;
        BisectBatchOnFunctionError?: boolean;
        MaximumRetryAttempts?: number;
        MaximumRecordAgeInSeconds?: number;
        FunctionResponseTypes?: string[];
        DestinationConfig?: { OnFailure?: { Destination?: string } };
        Enabled?: boolean;
      };
      const common = {
        id: mapping.ref,
        functionArn: functionArn(p.FunctionName),
        maximumBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
        reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes(
          "ReportBatchItemFailures",
        ),
        enabled: p.Enabled ?? true,
      };
      if (p.EventSourceArn.startsWith("arn:aws:kinesis:")) {
        return {
          kind: "kinesis" as const,
          ...common,
          streamArn: p.EventSourceArn,
          batchSize: p.BatchSize ?? 100,
          startingPosition: p.StartingPosition ?? "LATEST",
          bisectBatchOnFunctionError: p.BisectBatchOnFunctionError ?? false,
          // -1 (the default) means retry until the record expires, as on AWS.
          maximumRetryAttempts: p.MaximumRetryAttempts ?? -1,
          maximumRecordAgeInSeconds: p.MaximumRecordAgeInSeconds ?? -1,
          ...(p.DestinationConfig?.OnFailure?.Destination
            ? { onFailureArn: p.DestinationConfig.OnFailure.Destination }
            : {}),
        };
      }
      if (p.EventSourceArn.startsWith("arn:aws:sqs:")) {
        return {
          kind: "sqs" as const,
          ...common,
          queueArn: p.EventSourceArn,
          batchSize: p.BatchSize ?? 10,
        };
      }
      throw new Error(`Event source ${p.EventSourceArn} is not emulated`);
    },
  );

  const schedules: ScheduleSpec[] = byType("AWS::Events::Rule")
    .filter((rule) => typeof rule.properties.ScheduleExpression === "string")
    .map((rule) => {
      const p = rule.properties as {
        ScheduleExpression: string;
        State?: string;
        Targets?: { Arn: string }[];
      };
      return {
        ruleName: rule.ref,
        ruleArn: rule.attributes.Arn!,
        expression: p.ScheduleExpression,
        enabled: (p.State ?? "ENABLED") === "ENABLED",
        functionArns: (p.Targets ?? []).map((target) => functionArn(target.Arn)),
      };
    });

  // The HTTP API's routes are read by the API's own template reader, over this plan's resolver.
  const httpApis: HttpApiSpec[] = [];
  for (const stack of new Set(byType("AWS::ApiGatewayV2::Api").map((r) => r.stack))) {
    const resolveIn = (value: unknown) => String(plan.resolve(stack, value));
    for (const api of httpApisFromTemplate(plan.template(stack).Resources, resolveIn)) {
      const planned = plan.resources.find(
        (r) => r.stack === stack && r.logicalId === api.logicalId,
      )!;
      httpApis.push({
        ...api,
        apiId: planned.ref,
        routes: api.routes.map((route) => ({
          ...route,
          functionArn: functionArn(route.functionArn),
        })),
      });
    }
  }

  options.log?.(
    `Provisioned ${plan.resources.length} resources: ${functions.length} functions, ` +
      `${eventSources.length} event sources, ${httpApis.reduce((n, a) => n + a.routes.length, 0)} routes`,
  );
  return {
    plan,
    iam,
    functions,
    eventSources,
    schedules,
    httpApis,
    lambdaSubscriptions,
    skippedRoles,
  };
}

function hasRedrive(queue: PlannedResource): boolean {
  return queue.properties.RedrivePolicy !== undefined;
}

/** `AWS::SQS::Queue` properties as CreateQueue attributes (strings, JSON for policies). */
function queueAttributes(queue: PlannedResource): Record<string, string> {
  const names = [
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
  ];
  const attributes: Record<string, string> = {};
  for (const name of names) {
    const value = queue.properties[name];
    if (value === undefined) continue;
    attributes[name] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return attributes;
}

function iamDirectory(roles: LocalRole[]): IamDirectory {
  const byArn = new Map(roles.map((role) => [role.arn, role]));
  const byName = new Map(roles.map((role) => [role.name, role]));
  return {
    role(roleArn) {
      const direct = byArn.get(roleArn);
      if (direct) return direct;
      // An assumed-role session ARN (arn:aws:sts::<account>:assumed-role/<name>/<session>).
      const assumed = /:assumed-role\/([^/]+)\//.exec(roleArn);
      return assumed ? byName.get(assumed[1]!) : undefined;
    },
    roles: () => [...byArn.values()],
  };
}
