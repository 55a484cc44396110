import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CognitoIdentityClient,
  GetIdentityPoolRolesCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListGroupsCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetPolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import { DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { ListSubscriptionsByTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudAssembly, CloudStack } from "../../src/cloud/assembly";
import { generatedName, planCloud } from "../../src/cloud/plan";
import { provisionCloud } from "../../src/cloud/provision";
import { BUILT_IN_SERVICES, type LocalAws, startLocalAws } from "../../src/index";

/**
 * A two-stack app shaped like the synthesized Boarding Pass stacks (cross-stack imports, the
 * intrinsics CDK emits, a JWT issuer spelled as the AWS URL), small enough to read.
 */
function miniApp(bundleDir: string): CloudAssembly {
  const data: CloudStack = {
    name: "Data",
    stackName: "test-app-Data",
    template: {
      Resources: {
        Table: {
          Type: "AWS::DynamoDB::Table",
          Properties: {
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
            TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
          },
        },
        Stream: { Type: "AWS::Kinesis::Stream", Properties: { ShardCount: 1 } },
        Topic: { Type: "AWS::SNS::Topic", Properties: {} },
      },
      Outputs: {
        TableName: { Value: { Ref: "Table" } },
        ExportsOutputRefTable: { Value: { Ref: "Table" }, Export: { Name: "test-app-Data:Table" } },
        ExportsOutputRefTopic: { Value: { Ref: "Topic" }, Export: { Name: "test-app-Data:Topic" } },
        ExportsOutputStreamArn: {
          Value: { "Fn::GetAtt": ["Stream", "Arn"] },
          Export: { Name: "test-app-Data:StreamArn" },
        },
      },
    },
  };
  const lambdaTrust = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } },
    ],
  };
  const app: CloudStack = {
    name: "App",
    stackName: "test-app-App",
    template: {
      Resources: {
        FnRole: { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: lambdaTrust } },
        FnPolicy: {
          Type: "AWS::IAM::Policy",
          Properties: {
            PolicyName: "FnPolicy",
            Roles: [{ Ref: "FnRole" }],
            PolicyDocument: {
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "dynamodb:GetItem",
                  Resource: {
                    "Fn::Join": [
                      "",
                      [
                        "arn:",
                        { Ref: "AWS::Partition" },
                        ":dynamodb:",
                        { Ref: "AWS::Region" },
                        ":",
                        { Ref: "AWS::AccountId" },
                        ":table/",
                        { "Fn::ImportValue": "test-app-Data:Table" },
                      ],
                    ],
                  },
                },
              ],
            },
          },
        },
        Fn: {
          Type: "AWS::Lambda::Function",
          Properties: {
            Code: { S3Bucket: "cdk-assets", S3Key: "abc123.zip" },
            Handler: "packages/functions/src/fn.handler",
            Role: { "Fn::GetAtt": ["FnRole", "Arn"] },
            Runtime: "nodejs22.x",
            Timeout: 5,
            MemorySize: 256,
            Environment: {
              Variables: {
                TABLE_NAME: { "Fn::ImportValue": "test-app-Data:Table" },
                GREETING: { "Fn::Sub": "hello from ${AWS::StackName}" },
              },
            },
          },
        },
        CdkProvider: {
          Type: "AWS::Lambda::Function",
          Properties: {
            Code: { S3Bucket: "cdk-assets", S3Key: "provider.zip" },
            Handler: "index.handler",
            Role: { "Fn::GetAtt": ["FnRole", "Arn"] },
          },
        },
        DeadLetters: { Type: "AWS::SQS::Queue", Properties: { QueueName: "test-app-dlq" } },
        Queue: {
          Type: "AWS::SQS::Queue",
          Properties: {
            VisibilityTimeout: 30,
            RedrivePolicy: {
              deadLetterTargetArn: { "Fn::GetAtt": ["DeadLetters", "Arn"] },
              maxReceiveCount: 3,
            },
          },
        },
        Subscription: {
          Type: "AWS::SNS::Subscription",
          Properties: {
            TopicArn: { "Fn::ImportValue": "test-app-Data:Topic" },
            Protocol: "sqs",
            Endpoint: { "Fn::GetAtt": ["Queue", "Arn"] },
            RawMessageDelivery: true,
            FilterPolicy: { eventType: ["user.confirmed"] },
          },
        },
        QueueMapping: {
          Type: "AWS::Lambda::EventSourceMapping",
          Properties: {
            EventSourceArn: { "Fn::GetAtt": ["Queue", "Arn"] },
            FunctionName: { Ref: "Fn" },
            BatchSize: 5,
            FunctionResponseTypes: ["ReportBatchItemFailures"],
          },
        },
        StreamMapping: {
          Type: "AWS::Lambda::EventSourceMapping",
          Properties: {
            EventSourceArn: { "Fn::ImportValue": "test-app-Data:StreamArn" },
            FunctionName: { Ref: "Fn" },
            StartingPosition: "TRIM_HORIZON",
            BisectBatchOnFunctionError: true,
            MaximumRetryAttempts: 2,
            DestinationConfig: {
              OnFailure: { Destination: { "Fn::GetAtt": ["DeadLetters", "Arn"] } },
            },
          },
        },
        Schedule: {
          Type: "AWS::Events::Rule",
          Properties: {
            ScheduleExpression: "rate(1 minute)",
            Targets: [{ Arn: { "Fn::GetAtt": ["Fn", "Arn"] }, Id: "Target0" }],
          },
        },
        Pool: {
          Type: "AWS::Cognito::UserPool",
          Properties: {
            UserPoolName: "test-app-users",
            UsernameAttributes: ["email"],
            UserPoolTier: "ESSENTIALS",
            LambdaConfig: { PreSignUp: { "Fn::GetAtt": ["Fn", "Arn"] } },
          },
        },
        Client: {
          Type: "AWS::Cognito::UserPoolClient",
          Properties: {
            UserPoolId: { Ref: "Pool" },
            ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
          },
        },
        Members: {
          Type: "AWS::Cognito::UserPoolGroup",
          Properties: { UserPoolId: { Ref: "Pool" }, GroupName: "member", Precedence: 10 },
        },
        Identities: {
          Type: "AWS::Cognito::IdentityPool",
          Properties: {
            IdentityPoolName: "test_app_identities",
            AllowUnauthenticatedIdentities: true,
            AllowClassicFlow: false,
            CognitoIdentityProviders: [
              {
                ClientId: { Ref: "Client" },
                ProviderName: { "Fn::GetAtt": ["Pool", "ProviderName"] },
                ServerSideTokenCheck: true,
              },
            ],
          },
        },
        GuestRole: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: "test-app-guest",
            AssumeRolePolicyDocument: {
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "sts:AssumeRoleWithWebIdentity",
                  Principal: { Federated: "cognito-identity.amazonaws.com" },
                  Condition: {
                    StringEquals: { "cognito-identity.amazonaws.com:aud": { Ref: "Identities" } },
                    "ForAnyValue:StringLike": {
                      "cognito-identity.amazonaws.com:amr": "unauthenticated",
                    },
                  },
                },
              ],
            },
          },
        },
        IdentityRoles: {
          Type: "AWS::Cognito::IdentityPoolRoleAttachment",
          Properties: {
            IdentityPoolId: { Ref: "Identities" },
            Roles: { unauthenticated: { "Fn::GetAtt": ["GuestRole", "Arn"] } },
          },
        },
        DevicePolicy: {
          Type: "AWS::IoT::Policy",
          Properties: {
            PolicyName: "test-app-devices",
            PolicyDocument: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
            },
          },
        },
        SigningKey: {
          Type: "AWS::KMS::Key",
          Properties: { KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" },
        },
        Api: {
          Type: "AWS::ApiGatewayV2::Api",
          Properties: { Name: "test-app-api", ProtocolType: "HTTP" },
        },
        Authorizer: {
          Type: "AWS::ApiGatewayV2::Authorizer",
          Properties: {
            ApiId: { Ref: "Api" },
            AuthorizerType: "JWT",
            IdentitySource: ["$request.header.Authorization"],
            JwtConfiguration: {
              Audience: [{ Ref: "Client" }],
              Issuer: {
                "Fn::Join": ["", ["https://cognito-idp.us-east-1.amazonaws.com/", { Ref: "Pool" }]],
              },
            },
            Name: "users",
          },
        },
        Integration: {
          Type: "AWS::ApiGatewayV2::Integration",
          Properties: {
            ApiId: { Ref: "Api" },
            IntegrationType: "AWS_PROXY",
            IntegrationUri: { "Fn::GetAtt": ["Fn", "Arn"] },
            PayloadFormatVersion: "2.0",
          },
        },
        Route: {
          Type: "AWS::ApiGatewayV2::Route",
          Properties: {
            ApiId: { Ref: "Api" },
            RouteKey: "GET /profile",
            AuthorizationType: "JWT",
            AuthorizerId: { Ref: "Authorizer" },
            Target: { "Fn::Join": ["", ["integrations/", { Ref: "Integration" }]] },
          },
        },
        Parameter: { Type: "AWS::SSM::Parameter", Properties: { Type: "String", Value: "x" } },
        Unknown: { Type: "AWS::AppSync::GraphQLApi", Properties: { Name: "not-here" } },
      },
      Outputs: {
        UserPoolId: { Value: { Ref: "Pool" } },
        ApiUrl: { Value: { "Fn::GetAtt": ["Api", "ApiEndpoint"] } },
        QueueUrl: { Value: { Ref: "Queue" } },
      },
    },
  };
  return {
    stage: "test",
    appName: "test-app",
    region: "us-east-1",
    account: "000000000000",
    stacks: [data, app],
    assetDir: (key) => (key === "abc123.zip" ? bundleDir : undefined),
    synthesized: false,
  };
}

const EDGE = "http://127.0.0.1:4566";
const planOptions = { apiEndpoint: () => "http://127.0.0.1:4567", edgeEndpoint: EDGE };

describe("planCloud", () => {
  const plan = planCloud(miniApp("/bundles/abc"), planOptions);
  const resource = (logicalId: string) => plan.resources.find((r) => r.logicalId === logicalId)!;

  it("resolves intrinsics across stacks, pseudo parameters and Fn::Sub", () => {
    const fn = resource("Fn");
    const env = (fn.properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(env.TABLE_NAME).toBe("test-app-Data-Table");
    expect(env.GREETING).toBe("hello from test-app-App");
    expect(fn.properties.Role).toBe("arn:aws:iam::000000000000:role/test-app-App-FnRole");
    const statement = (
      resource("FnPolicy").properties.PolicyDocument as {
        Statement: { Resource: string }[];
      }
    ).Statement[0]!;
    expect(statement.Resource).toBe(
      "arn:aws:dynamodb:us-east-1:000000000000:table/test-app-Data-Table",
    );
  });

  it("derives AWS-shaped ids that do not change between plans", () => {
    const again = planCloud(miniApp("/elsewhere"), planOptions);
    const pool = resource("Pool").ref;
    expect(pool).toMatch(/^us-east-1_[0-9A-Za-z]{9}$/);
    expect(resource("Client").ref).toMatch(/^[a-z0-9]{26}$/);
    expect(resource("Identities").ref).toMatch(
      /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    for (const r of plan.resources) {
      expect(
        again.resources.find((a) => a.logicalId === r.logicalId && a.stack === r.stack)?.ref,
      ).toBe(r.ref);
    }
    // Another stage gets other ids: two stages never share a pool.
    const other = planCloud({ ...miniApp("/x"), stage: "other" }, planOptions);
    expect(other.resources.find((r) => r.logicalId === "Pool")!.ref).not.toBe(pool);
  });

  it("points AWS URLs of local services at the local cloud, and only those", () => {
    const jwt = resource("Authorizer").properties.JwtConfiguration as {
      Issuer: string;
      Audience: string[];
    };
    expect(jwt.Issuer).toBe(`${EDGE}/${resource("Pool").ref}`);
    expect(jwt.Audience).toEqual([resource("Client").ref]);
    const provider = (
      resource("Identities").properties.CognitoIdentityProviders as { ProviderName: string }[]
    )[0]!;
    // Logins keys stay AWS-shaped, as apps send them.
    expect(provider.ProviderName).toBe(
      `cognito-idp.us-east-1.amazonaws.com/${resource("Pool").ref}`,
    );
  });

  it("writes the outputs a deploy would, without CDK's export plumbing", () => {
    expect(plan.outputs["test-app-App"]).toEqual({
      UserPoolId: resource("Pool").ref,
      ApiUrl: "http://127.0.0.1:4567",
      QueueUrl: `${EDGE}/000000000000/test-app-App-Queue`,
    });
    expect(plan.outputs["test-app-Data"]).toEqual({ TableName: "test-app-Data-Table" });
  });

  it("lists what it does not emulate instead of dropping it silently", () => {
    expect(plan.notEmulated).toEqual([
      { stack: "App", logicalId: "Unknown", type: "AWS::AppSync::GraphQLApi" },
    ]);
  });

  it("keeps generated names within the service limits and unique", () => {
    const long = generatedName(
      "a-very-long-stack-name-for-the-app",
      "SomeConstructWithALongLogicalId0A1B2C3D",
      64,
    );
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(
      generatedName(
        "a-very-long-stack-name-for-the-app",
        "SomeConstructWithALongLogicalId0A1B2C3E",
        64,
      ),
    );
  });

  it("refuses references it cannot resolve rather than guessing", () => {
    const broken = miniApp("/x");
    broken.stacks[1]!.template.Resources.Broken = {
      Type: "AWS::SQS::Queue",
      Properties: { RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": ["Nowhere", "Arn"] } } },
    };
    expect(() => planCloud(broken, planOptions)).toThrow(/Nowhere/);
  });
});

describe("provisionCloud against the local services", () => {
  let aws: LocalAws;
  let bundleDir: string;
  const config = () => ({
    endpoint: aws.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });

  beforeAll(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-bundle-"));
    aws = await startLocalAws({ port: 0, include: BUILT_IN_SERVICES });
  });
  afterAll(async () => {
    await aws?.stop();
    fs.rmSync(bundleDir, { recursive: true, force: true });
  });

  it("creates every resource, and a second pass (a restart) changes nothing", async () => {
    const plan = planCloud(miniApp(bundleDir), { ...planOptions, edgeEndpoint: aws.endpoint });
    const assetDir = (key: string) => (key === "abc123.zip" ? bundleDir : undefined);
    const first = await provisionCloud({ plan, aws, assetDir });
    const second = await provisionCloud({ plan, aws, assetDir });
    expect(second.functions).toEqual(first.functions);
    const ref = (logicalId: string) => plan.resources.find((r) => r.logicalId === logicalId)!.ref;

    const table = await new DynamoDBClient(config()).send(
      new DescribeTableCommand({ TableName: ref("Table") }),
    );
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: "pk", KeyType: "HASH" }]);
    const stream = await new KinesisClient(config()).send(
      new DescribeStreamSummaryCommand({ StreamName: ref("Stream") }),
    );
    expect(stream.StreamDescriptionSummary?.OpenShardCount).toBe(1);

    const queue = await new SQSClient(config()).send(
      new GetQueueAttributesCommand({ QueueUrl: ref("Queue"), AttributeNames: ["All"] }),
    );
    expect(JSON.parse(queue.Attributes!.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:test-app-dlq",
      maxReceiveCount: 3,
    });
    const subscriptions = await new SNSClient(config()).send(
      new ListSubscriptionsByTopicCommand({ TopicArn: ref("Topic") }),
    );
    expect(subscriptions.Subscriptions).toHaveLength(1);
    expect(subscriptions.Subscriptions![0]).toMatchObject({
      Protocol: "sqs",
      Endpoint: "arn:aws:sqs:us-east-1:000000000000:test-app-App-Queue",
    });

    const idp = new CognitoIdentityProviderClient(config());
    const pool = await idp.send(new DescribeUserPoolCommand({ UserPoolId: ref("Pool") }));
    expect(pool.UserPool?.LambdaConfig?.PreSignUp).toBe(
      "arn:aws:lambda:us-east-1:000000000000:function:test-app-App-Fn",
    );
    const client = await idp.send(
      new DescribeUserPoolClientCommand({ UserPoolId: ref("Pool"), ClientId: ref("Client") }),
    );
    expect(client.UserPoolClient?.ExplicitAuthFlows).toContain("ALLOW_USER_SRP_AUTH");
    const groups = await idp.send(new ListGroupsCommand({ UserPoolId: ref("Pool") }));
    expect(groups.Groups?.map((g) => g.GroupName)).toEqual(["member"]);

    const roles = await new CognitoIdentityClient(config()).send(
      new GetIdentityPoolRolesCommand({ IdentityPoolId: ref("Identities") }),
    );
    expect(roles.Roles).toEqual({
      unauthenticated: "arn:aws:iam::000000000000:role/test-app-guest",
    });

    const policy = await new IoTClient(config()).send(
      new GetPolicyCommand({ policyName: "test-app-devices" }),
    );
    expect(JSON.parse(policy.policyDocument!).Statement[0].Action).toBe("iot:Connect");
    const key = await new KMSClient(config()).send(
      new DescribeKeyCommand({ KeyId: ref("SigningKey") }),
    );
    expect(key.KeyMetadata).toMatchObject({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" });
  });

  it("hands the composer what runs: functions, event sources, schedules, routes, roles", async () => {
    const plan = planCloud(miniApp(bundleDir), { ...planOptions, edgeEndpoint: aws.endpoint });
    const cloud = await provisionCloud({
      plan,
      aws,
      assetDir: (key) => (key === "abc123.zip" ? bundleDir : undefined),
    });
    // CDK's own provider function has no app bundle: not run.
    expect(cloud.functions.map((f) => f.name)).toEqual(["test-app-App-Fn"]);
    expect(cloud.functions[0]).toMatchObject({
      bundleDir,
      handler: "packages/functions/src/fn.handler",
      timeoutSeconds: 5,
      memoryMb: 256,
    });
    expect(cloud.eventSources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "sqs", batchSize: 5, reportBatchItemFailures: true }),
        expect.objectContaining({
          kind: "kinesis",
          startingPosition: "TRIM_HORIZON",
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 2,
          onFailureArn: "arn:aws:sqs:us-east-1:000000000000:test-app-dlq",
        }),
      ]),
    );
    expect(cloud.schedules).toEqual([
      expect.objectContaining({
        expression: "rate(1 minute)",
        functionArns: ["arn:aws:lambda:us-east-1:000000000000:function:test-app-App-Fn"],
      }),
    ]);
    expect(cloud.httpApis).toHaveLength(1);
    expect(cloud.httpApis[0]!.routes).toEqual([
      expect.objectContaining({
        routeKey: "GET /profile",
        authorizationType: "JWT",
        jwt: expect.objectContaining({
          issuer: `${aws.endpoint}/${plan.resources.find((r) => r.logicalId === "Pool")!.ref}`,
        }),
      }),
    ]);
    const role = cloud.iam.role(
      "arn:aws:sts::000000000000:assumed-role/test-app-App-FnRole/test-app-App-Fn",
    );
    expect(role?.policies).toHaveLength(1);
  });
});
