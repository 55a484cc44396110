/**
 * Each service's journal snapshot must reproduce its state exactly: compact after every few
 * records, then reopen and compare what the SDK sees. A wrong snapshot would lose data silently.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DetachPolicyCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListTargetsForPolicyCommand,
} from "@aws-sdk/client-iot";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createIotService } from "../../src/services/iot/index";
import { createSnsService } from "../../src/services/sns";
import { createStsService } from "../../src/services/sts/index";
import type { LocalService } from "../../src/types";
import { clientConfig, serve } from "./serve";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:f";
const IDENTITY = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "compaction-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** Serves a service, runs `body` with its endpoint, then shuts everything down. */
async function withServed<S extends LocalService>(
  service: S,
  body: (endpoint: string) => Promise<void>,
) {
  const served = await serve(service);
  try {
    await body(served.endpoint);
  } finally {
    await served.close();
    await service.close();
  }
}

const journalLines = (name: string) =>
  readFileSync(join(dataDir, `${name}.journal.jsonl`), "utf8")
    .trim()
    .split("\n").length;

it("SNS state survives compaction", async () => {
  let before: unknown;
  const read = async (client: SNSClient) => {
    const topics = (await client.send(new ListTopicsCommand({}))).Topics ?? [];
    const subs = (await client.send(new ListSubscriptionsCommand({}))).Subscriptions ?? [];
    const topicAttrs = await Promise.all(
      topics.map(
        async (t) =>
          (await client.send(new GetTopicAttributesCommand({ TopicArn: t.TopicArn }))).Attributes,
      ),
    );
    // Pending subscriptions are listed without an ARN; their count shows in the topic attributes.
    const confirmed = subs.filter((sub) => sub.SubscriptionArn !== "PendingConfirmation");
    const subAttrs = await Promise.all(
      confirmed.map(
        async (s) =>
          (
            await client.send(
              new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }),
            )
          ).Attributes,
      ),
    );
    return { topics, subs, topicAttrs, subAttrs };
  };
  await withServed(
    createSnsService({ region: "us-east-1", dataDir, compactAfter: 4 }),
    async (endpoint) => {
      const client = new SNSClient(clientConfig(endpoint));
      const arns: string[] = [];
      for (const name of ["a", "b", "c"])
        arns.push((await client.send(new CreateTopicCommand({ Name: name }))).TopicArn!);
      await client.send(
        new SetTopicAttributesCommand({
          TopicArn: arns[0],
          AttributeName: "DisplayName",
          AttributeValue: "A",
        }),
      );
      const keep = await client.send(
        new SubscribeCommand({ TopicArn: arns[0], Protocol: "lambda", Endpoint: FN }),
      );
      await client.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: keep.SubscriptionArn,
          AttributeName: "FilterPolicy",
          AttributeValue: '{"k":["v"]}',
        }),
      );
      const drop = await client.send(
        new SubscribeCommand({ TopicArn: arns[1], Protocol: "lambda", Endpoint: FN }),
      );
      await client.send(new UnsubscribeCommand({ SubscriptionArn: drop.SubscriptionArn }));
      await client.send(
        new SubscribeCommand({
          TopicArn: arns[2],
          Protocol: "http",
          Endpoint: "http://127.0.0.1:9/pending",
        }),
      );
      await client.send(new DeleteTopicCommand({ TopicArn: arns[1] }));
      before = await read(client);
      client.destroy();
    },
  );
  expect(journalLines("sns")).toBeLessThan(10);
  await withServed(createSnsService({ region: "us-east-1", dataDir }), async (endpoint) => {
    const client = new SNSClient(clientConfig(endpoint));
    expect(await read(client)).toEqual(before);
    client.destroy();
  });
});

it("IoT state survives compaction", async () => {
  const doc = JSON.stringify({
    Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
  });
  const read = async (client: IoTClient) => ({
    policies: (await client.send(new ListPoliciesCommand({}))).policies,
    attached: (await client.send(new ListAttachedPoliciesCommand({ target: IDENTITY }))).policies,
    targets: (await client.send(new ListTargetsForPolicyCommand({ policyName: "p1" }))).targets,
  });
  let before: unknown;
  await withServed(
    createIotService({ region: "us-east-1", dataDir, compactAfter: 3 }),
    async (endpoint) => {
      const client = new IoTClient(clientConfig(endpoint));
      for (const name of ["p1", "p2", "p3"])
        await client.send(new CreatePolicyCommand({ policyName: name, policyDocument: doc }));
      for (const name of ["p1", "p2"])
        await client.send(new AttachPolicyCommand({ policyName: name, target: IDENTITY }));
      await client.send(new DetachPolicyCommand({ policyName: "p2", target: IDENTITY }));
      await client.send(new DeletePolicyCommand({ policyName: "p3" }));
      before = await read(client);
      client.destroy();
    },
  );
  expect(journalLines("iot")).toBeLessThan(7);
  await withServed(createIotService({ region: "us-east-1", dataDir }), async (endpoint) => {
    const client = new IoTClient(clientConfig(endpoint));
    expect(await read(client)).toEqual(before);
    client.destroy();
  });
});

it("STS roles, keys and credentials survive compaction", async () => {
  const sts = createStsService({ region: "us-east-1", dataDir, compactAfter: 3 });
  const role = "arn:aws:iam::000000000000:role/R";
  sts.putRole({
    arn: role,
    trustPolicy: { Statement: [{ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity" }] },
  });
  sts.registerJwks("https://issuer.example", { keys: [] });
  const issued = [1, 2, 3].map((i) =>
    sts.issueCredentials({
      roleArn: role,
      sessionName: `s${i}`,
      subject: `sub${i}`,
      durationSeconds: 900,
    }),
  );
  await sts.close();
  expect(journalLines("sts")).toBeLessThan(6);
  const reopened = createStsService({ region: "us-east-1", dataDir });
  try {
    for (const c of issued) expect(reopened.lookupCredentials(c.accessKeyId)).toEqual(c);
  } finally {
    await reopened.close();
  }
});
