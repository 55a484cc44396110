/**
 * Acknowledged means durable, across kill -9: a child process publishes to SNS (its lambda
 * delivery still running) and writes to SQS, and is killed with SIGKILL. A new plane on the same
 * data directory delivers the SNS message once the function registers, and serves the SQS
 * messages that were acknowledged (and not the deleted one).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SNSEvent } from "aws-lambda";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalAws } from "../../src/index";
import { KILL_WRITER_FN } from "./fixtures/sns-sqs-kill-writer-constants";
import { writeThenKill } from "./kill-writer";
import { clientConfig } from "./serve";

interface Written {
  TopicArn: string;
  MessageId: string;
  keptMessageId: string;
}

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-sns-kill-"));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it("delivers an acknowledged SNS message and keeps acknowledged SQS writes after kill -9", async () => {
  const written = await writeThenKill<Written>("sns-sqs-kill-writer.ts", dataDir, (exit) =>
    expect(exit).toBe("SIGKILL"),
  );
  const aws = await startLocalAws({ port: 0, dataDir, include: ["sns", "sqs"] });
  const sqs = new SQSClient(clientConfig(aws.endpoint));
  try {
    // Recovered, and waiting for its function rather than failing against a missing one.
    expect(aws.sns!.pending()).toEqual([
      expect.objectContaining({ messageId: written.MessageId, waitingFor: [KILL_WRITER_FN] }),
    ]);
    const events: SNSEvent[] = [];
    aws.sns!.registerLambda(KILL_WRITER_FN, async (event) => {
      events.push(event);
    });
    await aws.sns!.idle();
    expect(events.map((e) => e.Records[0]!.Sns.MessageId)).toEqual([written.MessageId]);
    const record = events[0]!.Records[0]!.Sns;
    expect(record.TopicArn).toBe(written.TopicArn);
    expect(record.Message).toBe("accepted before the crash");
    expect(record.MessageAttributes.blob).toEqual({
      Type: "Binary",
      Value: Buffer.from([1, 2, 3, 250]).toString("base64"),
    });
    expect(aws.sns!.pending()).toEqual([]);

    const QueueUrl = `${aws.endpoint}/000000000000/kill-9`;
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    expect(Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[written.keptMessageId, "kept"]]);
    // The receive before the crash was acknowledged too: it still counts.
    expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
  } finally {
    sqs.destroy();
    await aws.stop();
  }
}, 120_000); // a child boots tsx and the plane on a loaded 2-core box
