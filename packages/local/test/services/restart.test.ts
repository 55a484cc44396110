/**
 * Durability: a child process writes through the SDK and is killed with SIGKILL (no shutdown
 * hooks); reopening the same data directory must show every acknowledged write.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IoTClient, ListAttachedPoliciesCommand } from "@aws-sdk/client-iot";
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
} from "@aws-sdk/client-sns";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createIotService } from "../../src/services/iot/index";
import { createSnsService } from "../../src/services/sns";
import { createStsService } from "../../src/services/sts/index";
import { writeThenKill } from "./kill-writer";
import { clientConfig, serve } from "./serve";

interface Written {
  TopicArn: string;
  SubscriptionArn: string;
  accessKeyId: string;
  identity: string;
}

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-restart-"));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it("keeps SNS, STS and IoT state across kill -9, tolerating a torn final journal line", async () => {
  const written = await writeThenKill<Written>("restart-writer.ts", dataDir, (exit) =>
    expect(exit).toBeTruthy(),
  );
  // Simulate a crash in the middle of a later write: a torn, unacknowledged record.
  appendFileSync(join(dataDir, "sns.journal.jsonl"), '{"op":"createTopic","arn":"arn:aws:sns:us-');

  const sns = createSnsService({ region: "us-east-1", dataDir });
  const sts = createStsService({ region: "us-east-1", dataDir });
  const iot = createIotService({ region: "us-east-1", dataDir });
  const servers = await Promise.all([serve(sns), serve(sts), serve(iot)]);
  const [snsServer, stsServer, iotServer] = servers;
  const snsClient = new SNSClient(clientConfig(snsServer!.endpoint));
  const iotClient = new IoTClient(clientConfig(iotServer!.endpoint));
  try {
    const { Topics } = await snsClient.send(new ListTopicsCommand({}));
    expect(Topics).toEqual([{ TopicArn: written.TopicArn }]);
    const topic = await snsClient.send(
      new GetTopicAttributesCommand({ TopicArn: written.TopicArn }),
    );
    expect(topic.Attributes?.DisplayName).toBe("Durable");
    const sub = await snsClient.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: written.SubscriptionArn }),
    );
    expect(JSON.parse(sub.Attributes!.FilterPolicy!)).toEqual({ kind: ["keep"] });

    // The restored filter policy is live, not just stored.
    const events: SNSEvent[] = [];
    sns.registerLambda("arn:aws:lambda:us-east-1:000000000000:function:consumer", async (e) => {
      events.push(e);
    });
    for (const kind of ["drop", "keep"]) {
      await snsClient.send(
        new PublishCommand({
          TopicArn: written.TopicArn,
          Message: kind,
          MessageAttributes: { kind: { DataType: "String", StringValue: kind } },
        }),
      );
    }
    await sns.idle();
    expect(events.map((e) => e.Records[0]!.Sns.Message)).toEqual(["keep"]);

    const creds = sts.lookupCredentials(written.accessKeyId);
    expect(creds).toMatchObject({
      roleArn: "arn:aws:iam::000000000000:role/Authenticated",
      subject: written.identity,
      identityId: written.identity,
    });
    const caller = new STSClient({
      ...clientConfig(stsServer!.endpoint),
      credentials: {
        accessKeyId: creds!.accessKeyId,
        secretAccessKey: creds!.secretAccessKey,
        sessionToken: creds!.sessionToken,
      },
    });
    try {
      const who = await caller.send(new GetCallerIdentityCommand({}));
      expect(who.Arn).toBe("arn:aws:sts::000000000000:assumed-role/Authenticated/restart");
    } finally {
      caller.destroy();
    }

    const attached = await iotClient.send(
      new ListAttachedPoliciesCommand({ target: written.identity }),
    );
    expect(attached.policies?.map((p) => p.policyName)).toEqual(["device"]);
    expect(iot.attachedPolicies(written.identity)).toHaveLength(1);

    // reset() wipes the journal too: a further reopen starts empty.
    await sns.reset();
  } finally {
    snsClient.destroy();
    iotClient.destroy();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all([sns.close(), sts.close(), iot.close()]);
  }
  const reopened = createSnsService({ region: "us-east-1", dataDir });
  const server = await serve(reopened);
  const client = new SNSClient(clientConfig(server.endpoint));
  try {
    expect((await client.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
  } finally {
    client.destroy();
    await server.close();
    await reopened.close();
  }
}, 90_000); // a child process boots tsx and three SDK clients: slow on a loaded 2-core box
