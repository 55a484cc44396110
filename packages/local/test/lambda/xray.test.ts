/**
 * Active tracing in the local Lambda runtime, end to end: a function bundled as SST bundles it,
 * whose DynamoDB client is traced by the functions' own X-Ray emitter (packages/functions
 * observability.ts and tracing.ts), runs in the runtime with the local X-Ray daemon; the daemon
 * then holds the function segment the runtime records and the subsegment the function sent,
 * under one trace id.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalFunction } from "../../src/lambda/types";
import {
  type SegmentDocument,
  startXRayDaemon,
  type XRayDaemon,
} from "../../src/services/xray/index";
import { Bundles, eventually, testRuntime } from "./bundles";

const HEADER = /^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$/;

const SOURCE = `
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { traced, tracer } from "./packages/functions/src/observability";

const client = traced(new DynamoDBClient({}));

export const handler = async (event: { table: string; key: string; spin?: boolean }) => {
  const header = process.env._X_AMZN_TRACE_ID;
  const out = await client.send(
    new GetItemCommand({ TableName: event.table, Key: { pk: { S: event.key } } }),
  );
  if (event.spin) for (;;) {}
  return {
    tracing: tracer !== undefined,
    found: out.Item !== undefined,
    header,
    daemon: process.env.AWS_XRAY_DAEMON_ADDRESS ?? null,
  };
};
`;

interface Answer {
  tracing: boolean;
  found: boolean;
  header: string;
  daemon: string | null;
}

describe("Lambda runtime: active tracing with the local X-Ray daemon", () => {
  const endpoint = inject("localAwsEndpoint");
  const bundles = new Bundles();
  const table = `xray-${randomUUID()}`;
  const key = `item-${randomUUID()}`;
  let daemon: XRayDaemon;
  let runtime: ReturnType<typeof testRuntime>;
  let active: LocalFunction;
  let passThrough: LocalFunction;
  let spinning: LocalFunction;

  beforeAll(async () => {
    daemon = await startXRayDaemon();
    runtime = testRuntime({ endpoint, tracing: daemon });
    const dynamo = new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: key } } }));
    active = await bundles.built("traced-reader", SOURCE, {
      tracing: "Active",
      timeoutSeconds: 10,
    });
    passThrough = await bundles.built("untraced-reader", SOURCE, {
      tracing: "PassThrough",
      timeoutSeconds: 10,
    });
    spinning = await bundles.built("traced-spinner", SOURCE, {
      tracing: "Active",
      timeoutSeconds: 1,
    });
    for (const fn of [active, passThrough, spinning]) runtime.register(fn);
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
    await daemon?.close();
    bundles.cleanup();
  });

  /** The trace's documents once the function segment and `count` subsegments are in. */
  const documentsOf = (root: string, subsegments: number) =>
    eventually(() => {
      const documents = daemon.trace(root)?.documents ?? [];
      const segment = documents.find((doc) => doc.type === undefined);
      const calls = documents.filter((doc) => doc.type === "subsegment");
      return segment && calls.length >= subsegments ? { segment, calls } : undefined;
    }, `trace ${root}`);

  it("records the function segment and the DynamoDB subsegment under one trace", async () => {
    // Act
    const result = await runtime.invoke(active.arn, { table, key }, { source: "test" });

    // Assess: the function was sampled and pointed at the daemon.
    expect(result.ok).toBe(true);
    const answer = (result as { payload: Answer }).payload;
    expect(answer).toMatchObject({ tracing: true, found: true, daemon: daemon.address });
    const [, root, parent, sampled] = HEADER.exec(answer.header) ?? [];
    expect(sampled).toBe("1");

    const { segment, calls } = await documentsOf(root!, 1);
    expect(segment).toMatchObject({
      id: parent,
      trace_id: root,
      name: "traced-reader",
      origin: "AWS::Lambda::Function",
      aws: { function_arn: active.arn, request_id: result.requestId },
    });
    expect(segment).not.toHaveProperty("fault");
    expect(segment.end_time!).toBeGreaterThanOrEqual(segment.start_time);
    expect(calls).toHaveLength(1);
    const [call] = calls as [SegmentDocument];
    expect(call).toMatchObject({
      type: "subsegment",
      trace_id: root,
      parent_id: segment.id,
      name: "DynamoDB",
      namespace: "aws",
      aws: { operation: "GetItem", table_name: table, region: "us-east-1", retries: 0 },
      http: { response: { status: 200 } },
    });
    // The call happened inside the invocation.
    expect(call.start_time).toBeGreaterThanOrEqual(segment.start_time);
    expect(call.end_time!).toBeLessThanOrEqual(segment.end_time!);
  });

  it("marks a failed call as an error and the failed invocation as a fault", async () => {
    const missing = `${table}-missing`;
    const before = new Set(daemon.traces().map((trace) => trace.traceId));

    const result = await runtime.invoke(active.arn, { table: missing, key });

    expect(result).toMatchObject({ ok: false, errorType: "ResourceNotFoundException" });
    const trace = await eventually(
      () =>
        daemon
          .traces()
          .find(
            (t) =>
              !before.has(t.traceId) &&
              t.documents.some((d) => d.type === undefined) &&
              t.documents.some((d) => d.type === "subsegment"),
          ),
      "the failed invocation's trace",
    );
    const segment = trace.documents.find((doc) => doc.type === undefined)!;
    const call = trace.documents.find((doc) => doc.type === "subsegment")!;
    expect(segment).toMatchObject({
      name: "traced-reader",
      fault: true,
      cause: { exceptions: [{ type: "ResourceNotFoundException" }] },
    });
    expect(call).toMatchObject({
      parent_id: segment.id,
      error: true,
      aws: { operation: "GetItem", table_name: missing },
      http: { response: { status: 400 } },
      cause: { exceptions: [{ type: "ResourceNotFoundException", remote: true }] },
    });
    expect(call).not.toHaveProperty("fault");
  });

  it("records a timed-out invocation's segment as a fault", async () => {
    const result = await runtime.invoke(spinning.arn, { table, key, spin: true });

    expect(result).toMatchObject({ ok: false, errorType: "Runtime.TimeoutError", timedOut: true });
    const trace = await eventually(
      () =>
        daemon
          .traces()
          .find((t) => t.documents.some((d) => d.type === undefined && d.name === spinning.name)),
      "the timed-out invocation's trace",
    );
    const segment = trace.documents.find((doc) => doc.type === undefined)!;
    expect(segment).toMatchObject({
      fault: true,
      cause: { exceptions: [{ type: "Runtime.TimeoutError" }] },
    });
    // It lasted the function's timeout. (The GetItem's subsegment may be lost, as on Lambda: the
    // tracer's UDP send is asynchronous and the busy loop never yields to it.)
    expect(segment.end_time! - segment.start_time).toBeGreaterThanOrEqual(0.95);
  });

  it("leaves a function without active tracing unsampled, with no daemon address", async () => {
    const result = await runtime.invoke(passThrough.arn, { table, key });
    const answer = (result as { payload: Answer }).payload;
    // No daemon address: the functions' tracer is not even made (observability.ts).
    expect(answer).toMatchObject({ tracing: false, found: true, daemon: null });
    const [, root, , sampled] = HEADER.exec(answer.header) ?? [];
    expect(sampled).toBe("0");

    // A traced call after it: once its trace is in, the untraced one would have been too.
    const traced = await runtime.invoke(active.arn, { table, key });
    const [, tracedRoot] = HEADER.exec((traced as { payload: Answer }).payload.header) ?? [];
    await documentsOf(tracedRoot!, 1);
    expect(daemon.trace(root!)).toBeUndefined();
  });

  it("samples nothing when the runtime has no daemon, even for active tracing", async () => {
    const plain = testRuntime({ endpoint });
    try {
      const fn = bundles.fn(
        "header-echo",
        `export const handler = async () => ({ header: process.env._X_AMZN_TRACE_ID, daemon: process.env.AWS_XRAY_DAEMON_ADDRESS ?? null });`,
        { tracing: "Active" },
      );
      plain.register(fn);
      const result = await plain.invoke(fn.arn, {});
      const answer = (result as { payload: { header: string; daemon: string | null } }).payload;
      expect(answer.header).toMatch(HEADER);
      expect(answer.header.endsWith(";Sampled=0")).toBe(true);
      expect(answer.daemon).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
