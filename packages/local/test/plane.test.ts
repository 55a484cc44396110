import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreatePolicyCommand, GetPolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  NotFoundException,
  SNSClient,
} from "@aws-sdk/client-sns";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, describe, expect, test } from "vitest";
import { BUILT_IN_SERVICES, type LocalAws, startLocalAws } from "../src/index";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const clients = (endpoint: string) => ({
  sns: new SNSClient({ endpoint, region: "us-east-1", credentials }),
  sts: new STSClient({ endpoint, region: "us-east-1", credentials }),
  iot: new IoTClient({ endpoint, region: "us-east-1", credentials }),
});

describe("one endpoint for every part-1 service", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "bp-plane-"));
  let aws: LocalAws | undefined;

  afterAll(async () => {
    await aws?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("SNS, STS and IoT answer unmodified SDK clients on the plane's endpoint, and persist", async () => {
    // Given a persistent plane with the built-in services
    aws = await startLocalAws({ port: 0, dataDir, include: BUILT_IN_SERVICES });
    const first = clients(aws.endpoint);
    const topicName = `plane-${crypto.randomUUID()}`;
    const policyName = `plane-${crypto.randomUUID()}`;

    // When each service is called through the one endpoint
    const { TopicArn } = await first.sns.send(new CreateTopicCommand({ Name: topicName }));
    const caller = await first.sts.send(new GetCallerIdentityCommand({}));
    await first.iot.send(
      new CreatePolicyCommand({
        policyName,
        policyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
        }),
      }),
    );

    // Then each answered as AWS does
    expect(TopicArn).toBe(`arn:aws:sns:us-east-1:000000000000:${topicName}`);
    expect(caller.Account).toBe("000000000000");
    await expect(
      first.sns.send(new GetTopicAttributesCommand({ TopicArn: `${TopicArn}-missing` })),
    ).rejects.toBeInstanceOf(NotFoundException);

    // And after a restart on the same data directory the state is still there
    await aws.stop();
    aws = await startLocalAws({ port: 0, dataDir, include: BUILT_IN_SERVICES });
    const second = clients(aws.endpoint);
    const attributes = await second.sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(attributes.Attributes?.TopicArn).toBe(TopicArn);
    const policy = await second.iot.send(new GetPolicyCommand({ policyName }));
    expect(policy.policyName).toBe(policyName);
  }, 120_000);
});
