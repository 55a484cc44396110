/**
 * The three services behind the real edge (`startLocalAws`): routing by SigV4 scope (sns, iot,
 * GetCallerIdentity), unsigned AssumeRoleWithWebIdentity by query Version, and the
 * `/_local/sns/deliveries` control route.
 */
import { CreatePolicyCommand, GetPolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import {
  CreateTopicCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import { createIotService } from "../../src/services/iot/index";
import { createSnsService, type SnsService } from "../../src/services/sns";
import { createStsService, type StsService } from "../../src/services/sts/index";
import { generateSigningKey, signJwt } from "./jwt-helpers";
import { clientConfig } from "./serve";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:edge";
const ISSUER = "https://cognito-identity.amazonaws.com";
const POOL = "us-east-1:11111111-2222-3333-4444-555555555555";
const ROLE = "arn:aws:iam::000000000000:role/Authenticated";

let aws: LocalAws;
let sns: SnsService;
let sts: StsService;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  sns = createSnsService({ region: "us-east-1" });
  sts = createStsService({ region: "us-east-1" });
  aws.register(sns);
  aws.register(sts);
  aws.register(createIotService({ region: "us-east-1" }));
});
afterAll(async () => {
  await aws?.stop();
});

it("serves SNS through the edge, including the deliveries control route", async () => {
  const client = new SNSClient(clientConfig(aws.endpoint));
  try {
    sns.registerLambda(FN, async () => {});
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "edge" }));
    await client.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: FN }));
    const { MessageId } = await client.send(new PublishCommand({ TopicArn, Message: "via edge" }));
    await sns.idle();
    const response = await fetch(
      `${aws.endpoint}/_local/sns/deliveries?topicArn=${encodeURIComponent(TopicArn!)}`,
    );
    expect(response.status).toBe(200);
    const { deliveries } = (await response.json()) as {
      deliveries: Array<{ messageId: string; status: string }>;
    };
    expect(deliveries).toMatchObject([{ messageId: MessageId, status: "delivered" }]);
    await expect(
      client.send(
        new PublishCommand({ TopicArn: "arn:aws:sns:us-east-1:000000000000:none", Message: "x" }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
  } finally {
    client.destroy();
  }
});

it("routes unsigned AssumeRoleWithWebIdentity and signed GetCallerIdentity to STS", async () => {
  const key = generateSigningKey("edge-key");
  sts.registerJwks(ISSUER, { keys: [key.jwk] });
  sts.putRole({
    arn: ROLE,
    trustPolicy: {
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: "cognito-identity.amazonaws.com" },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "cognito-identity.amazonaws.com:aud": POOL },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
          },
        },
      ],
    },
  });
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(key, {
    iss: ISSUER,
    aud: POOL,
    sub: "us-east-1:edge",
    amr: ["authenticated"],
    iat: now,
    exp: now + 600,
  });
  // No credentials at all: the request goes out unsigned, routed by Version=2011-06-15.
  const anonymous = new STSClient({ endpoint: aws.endpoint, region: "us-east-1", maxAttempts: 1 });
  const signed = new STSClient(clientConfig(aws.endpoint));
  try {
    const out = await anonymous.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ROLE,
        RoleSessionName: "edge",
        WebIdentityToken: token,
      }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe(
      "arn:aws:sts::000000000000:assumed-role/Authenticated/edge",
    );
    const root = await signed.send(new GetCallerIdentityCommand({}));
    expect(root.Arn).toBe("arn:aws:iam::000000000000:root");
    const session = new STSClient({
      ...clientConfig(aws.endpoint),
      credentials: {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      },
    });
    try {
      expect((await session.send(new GetCallerIdentityCommand({}))).Arn).toBe(
        out.AssumedRoleUser?.Arn,
      );
    } finally {
      session.destroy();
    }
  } finally {
    anonymous.destroy();
    signed.destroy();
  }
});

it("serves the IoT control plane through the edge", async () => {
  const client = new IoTClient(clientConfig(aws.endpoint));
  try {
    const policyDocument = JSON.stringify({
      Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
    });
    await client.send(new CreatePolicyCommand({ policyName: "edge-policy", policyDocument }));
    expect(
      (await client.send(new GetPolicyCommand({ policyName: "edge-policy" }))).policyDocument,
    ).toBe(policyDocument);
  } finally {
    client.destroy();
  }
});
