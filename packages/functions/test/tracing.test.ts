import { randomUUID } from "node:crypto";
import { ListUsersCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { createCognitoClient } from "@boarding-pass/core/adapters/cognito-user-pool";
import { lazySnsKinesisEventPublisher } from "@boarding-pass/core/adapters/on-first-use";
import { buildEvent } from "@boarding-pass/core/events";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AwsCallTracer,
  awsCallSubsegment,
  downstreamTraceHeader,
  parseDaemonAddress,
  parseTraceHeader,
  type SegmentSink,
} from "../src/tracing";
import { freshSub } from "./support/fixtures";

const ROOT = "1-5759e988-bd862e3fe1be46a994272793";
const PARENT = "53995c3f42cd8ad8";
const SAMPLED = `Root=${ROOT};Parent=${PARENT};Sampled=1`;

describe("the trace header", () => {
  it("reads root, parent and the sampling decision, keeping other fields verbatim", () => {
    expect(parseTraceHeader(`${SAMPLED};Lineage=a87bd80c:1`)).toEqual({
      root: ROOT,
      parent: PARENT,
      sampled: true,
      others: ["Lineage=a87bd80c:1"],
    });
    expect(parseTraceHeader(`Root=${ROOT};Parent=${PARENT};Sampled=0`)?.sampled).toBe(false);
    expect(parseTraceHeader(`Root=${ROOT};Parent=${PARENT}`)?.sampled).toBe(false);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["root only (no parent to attach to)", `Root=${ROOT};Sampled=1`],
    ["a malformed root", `Root=1-xyz;Parent=${PARENT};Sampled=1`],
    ["a malformed parent", `Root=${ROOT};Parent=123;Sampled=1`],
    ["oversized", `${SAMPLED};${"x=y;".repeat(300)}`],
    ["garbage", ";;==;Root"],
  ])("gives nothing for a header that is %s", (_name, value) => {
    expect(parseTraceHeader(value)).toBeUndefined();
  });

  it("reads keys in any case, drops Self (a load balancer's own hop) and caps what travels on", () => {
    const trace = parseTraceHeader(
      `root=${ROOT};PARENT=${PARENT};sampled=1;Self=1-67891233-12456789abcdef012345678;Lineage=a87bd80c:1`,
    );
    expect(trace).toEqual({
      root: ROOT,
      parent: PARENT,
      sampled: true,
      others: ["Lineage=a87bd80c:1"],
    });
    const long = parseTraceHeader(
      `${SAMPLED};Lineage=a87bd80c:1;${Array.from({ length: 40 }, (_, i) => `K${i}=${"v".repeat(10)}`).join(";")}`,
    )!;
    const header = downstreamTraceHeader(long, "0123456789abcdef");
    expect(
      header.startsWith(`Root=${ROOT};Parent=0123456789abcdef;Sampled=1;Lineage=a87bd80c:1;K0=`),
    ).toBe(true);
    const carried = header.split(";").slice(3).join(";");
    expect(Buffer.byteLength(carried)).toBeLessThanOrEqual(256);
  });

  it("carries Lineage downstream (Lambda's recursive-loop detection reads it), under the subsegment", () => {
    const trace = parseTraceHeader(`${SAMPLED};Lineage=a87bd80c:1`);
    expect(trace).toBeDefined();
    expect(downstreamTraceHeader(trace!, "0123456789abcdef")).toBe(
      `Root=${ROOT};Parent=0123456789abcdef;Sampled=1;Lineage=a87bd80c:1`,
    );
  });
});

describe("the daemon address", () => {
  it.each([
    [undefined, { host: "127.0.0.1", port: 2000 }],
    ["169.254.79.129:2000", { host: "169.254.79.129", port: 2000 }],
    ["tcp:127.0.0.1:2000 udp:127.0.0.2:2001", { host: "127.0.0.2", port: 2001 }],
    ["udp:10.0.0.1:3000 tcp:10.0.0.1:3001", { host: "10.0.0.1", port: 3000 }],
    ["[::1]:2000", { host: "::1", port: 2000 }],
    ["no-port", { host: "127.0.0.1", port: 2000 }],
    ["host:99999", { host: "127.0.0.1", port: 2000 }],
  ])("%s -> %o", (value, expected) => {
    expect(parseDaemonAddress(value)).toEqual(expected);
  });
});

describe("the subsegment of one AWS call", () => {
  const trace = parseTraceHeader(SAMPLED)!;
  const call = {
    service: "DynamoDB",
    operation: "PutItem",
    region: "eu-west-1",
    startTime: 1_764_000_000.001,
    endTime: 1_764_000_000.012,
    input: { TableName: "profiles", Item: { pk: { S: "USER#secret-sub" } } },
    metadata: { httpStatusCode: 200, requestId: "REQ1", attempts: 2 },
  };

  it("records service, operation, region, request id, retries, status and the table, not the item", () => {
    const document = awsCallSubsegment(trace, "00000000000000aa", call);
    expect(document).toEqual({
      id: "00000000000000aa",
      trace_id: ROOT,
      parent_id: PARENT,
      type: "subsegment",
      name: "DynamoDB",
      namespace: "aws",
      start_time: call.startTime,
      end_time: call.endTime,
      aws: {
        operation: "PutItem",
        region: "eu-west-1",
        request_id: "REQ1",
        retries: 1,
        table_name: "profiles",
      },
      http: { response: { status: 200 } },
    });
    expect(JSON.stringify(document)).not.toContain("secret-sub");
  });

  const failure = (status: number | undefined, error: Record<string, unknown>) =>
    awsCallSubsegment(trace, "00000000000000aa", {
      ...call,
      metadata: status === undefined ? undefined : { httpStatusCode: status, attempts: 1 },
      error: Object.assign(new Error("The conditional request failed for USER#secret-sub"), error),
    });

  it.each([
    [
      "a 4xx is the caller's error",
      400,
      { name: "ConditionalCheckFailedException" },
      { error: true },
    ],
    [
      "a 429 is a throttle",
      429,
      { name: "TooManyRequestsException" },
      { error: true, throttle: true },
    ],
    [
      "a throttling error by name is a throttle",
      400,
      { name: "ProvisionedThroughputExceededException" },
      { error: true, throttle: true },
    ],
    [
      "a throttling error by the SDK's own list (DynamoDB's TransactionInProgressException)",
      400,
      { name: "TransactionInProgressException" },
      { error: true, throttle: true },
    ],
    ["a 5xx is a fault", 500, { name: "InternalServerError" }, { fault: true }],
    [
      "an answer that could not be read (a 200 whose body did not parse) is a fault",
      200,
      { name: "SyntaxError" },
      { fault: true },
    ],
    [
      "a 503 marked throttling is a throttled fault",
      503,
      { name: "SlowDown", $retryable: { throttling: true } },
      { fault: true, throttle: true },
    ],
    [
      "no answer at all (timeout, network) is a fault",
      undefined,
      { name: "TimeoutError" },
      { fault: true },
    ],
    [
      "a client-side error without an answer is an error",
      undefined,
      { name: "ValidationError", $fault: "client" },
      { error: true },
    ],
  ])("%s", (_name, status, error, flags) => {
    const document = failure(status, error);
    for (const flag of ["error", "fault", "throttle"]) {
      expect(document[flag], flag).toBe((flags as Record<string, boolean>)[flag]);
    }
    expect(document.cause).toEqual({
      exceptions: [
        {
          id: expect.stringMatching(/^[0-9a-f]{16}$/),
          type: error.name,
          remote: status !== undefined,
        },
      ],
    });
    // The name only: AWS error messages can echo request values.
    expect(JSON.stringify(document)).not.toContain("secret-sub");
  });
});

/** A sink that keeps what it is sent (the UDP one is exercised in observability.test.ts). */
function recordingSink(): SegmentSink & { documents: Record<string, unknown>[] } {
  const documents: Record<string, unknown>[] = [];
  return { documents, send: (document) => documents.push(document) };
}

/** The X-Amzn-Trace-Id each request carried on the wire, seen after signing. */
function recordTraceHeaders(client: DynamoDBClient): string[] {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      seen.push(headers["X-Amzn-Trace-Id"] ?? "(none)");
      return next(args);
    },
    { step: "finalizeRequest", name: "testRecordTraceHeader", priority: "low" },
  );
  return seen;
}

describe("AWS SDK calls captured, against the embedded DynamoDB", () => {
  let plane: Plane;
  beforeAll(async () => {
    plane = await startPlane();
  });
  afterAll(async () => {
    await plane?.stop();
  });

  function tracedClient(header: () => string | undefined, sink: SegmentSink = recordingSink()) {
    const base = new DynamoDBClient({
      ...plane.sdk,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const wire = recordTraceHeaders(base);
    const client = new AwsCallTracer(sink, header).capture(DynamoDBDocumentClient.from(base));
    return { client, wire };
  }

  it("sends one subsegment per call of a sampled invocation and propagates the trace under it", async () => {
    const sink = recordingSink();
    const { client, wire } = tracedClient(() => `${SAMPLED};Lineage=a87bd80c:1`, sink);
    const pk = `TRACE#${randomUUID()}`;
    await client.send(new PutCommand({ TableName: plane.tableName, Item: { pk, sk: "A" } }));
    const got = await client.send(
      new GetCommand({ TableName: plane.tableName, Key: { pk, sk: "A" } }),
    );
    expect(got.Item).toEqual({ pk, sk: "A" });

    expect(sink.documents.map((d) => (d.aws as { operation: string }).operation)).toEqual([
      "PutItem",
      "GetItem",
    ]);
    for (const [i, document] of sink.documents.entries()) {
      expect(document).toMatchObject({
        type: "subsegment",
        name: "DynamoDB",
        namespace: "aws",
        trace_id: ROOT,
        parent_id: PARENT,
        aws: { region: plane.sdk.region, table_name: plane.tableName, retries: 0 },
        http: { response: { status: 200 } },
      });
      expect(wire[i]).toBe(`Root=${ROOT};Parent=${document.id};Sampled=1;Lineage=a87bd80c:1`);
    }
  });

  it("records a failed call with its flags and answers the caller with the same error", async () => {
    const sink = recordingSink();
    const { client } = tracedClient(() => SAMPLED, sink);
    const pk = `TRACE#${randomUUID()}`;
    await client.send(new PutCommand({ TableName: plane.tableName, Item: { pk, sk: "A" } }));
    const conditional = client.send(
      new PutCommand({
        TableName: plane.tableName,
        Item: { pk, sk: "A" },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    await expect(conditional).rejects.toHaveProperty("name", "ConditionalCheckFailedException");
    expect(sink.documents[1]).toMatchObject({
      error: true,
      http: { response: { status: 400 } },
      cause: { exceptions: [{ type: "ConditionalCheckFailedException", remote: true }] },
    });
    expect(sink.documents[1]).not.toHaveProperty("fault");
  });

  it("records a call that got no answer as a fault", async () => {
    const sink = recordingSink();
    const base = new DynamoDBClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const client = new AwsCallTracer(sink, () => SAMPLED).capture(base);
    await expect(
      client.send(new GetItemCommand({ TableName: "t", Key: { pk: { S: "x" } } })),
    ).rejects.toBeDefined();
    expect(sink.documents).toHaveLength(1);
    expect(sink.documents[0]).toMatchObject({ fault: true, aws: { operation: "GetItem" } });
  });

  it("sends nothing and leaves the header alone for an unsampled or untraced invocation", async () => {
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
    for (const header of [`Root=${ROOT};Parent=${PARENT};Sampled=0`, undefined]) {
      const sink = recordingSink();
      const { client, wire } = tracedClient(() => header, sink);
      await client.send(
        new GetCommand({
          TableName: plane.tableName,
          Key: { pk: `TRACE#${randomUUID()}`, sk: "A" },
        }),
      );
      expect(sink.documents).toEqual([]);
      // Untouched: outside Lambda the SDK's own recursion detection adds nothing either.
      expect(wire).toEqual(["(none)"]);
    }
  });

  it("traces the SNS and Kinesis clients a trigger makes on first use, as it traces DynamoDB", async () => {
    const sink = recordingSink();
    const tracer = new AwsCallTracer(sink, () => SAMPLED);
    const publisher = lazySnsKinesisEventPublisher({
      topicArn: plane.topicArn,
      streamName: plane.streamName,
      sdk: plane.sdk,
      capture: (client) => tracer.capture(client),
    });
    const sub = freshSub();
    const event = buildEvent("boardingpass.user.confirmed.v1", {
      subject: sub,
      data: { sub, tenant: "default", plan: "free" },
      time: new Date(),
      source: "boardingpass/local/post-confirmation",
    });
    const outcome = await publisher.publish([event]);
    expect(outcome.failed).toEqual([]);
    const calls = sink.documents.map(
      (d) => `${d.name} ${(d.aws as { operation: string }).operation}`,
    );
    expect(calls.sort()).toEqual(["Kinesis PutRecords", "SNS PublishBatch"]);
    expect(sink.documents.find((d) => d.name === "SNS")?.aws).toMatchObject({
      topic_arn: plane.topicArn,
    });
    expect(sink.documents.find((d) => d.name === "Kinesis")?.aws).toMatchObject({
      stream_name: plane.streamName,
    });
  });

  it("never lets a failing sink change the call's outcome", async () => {
    const { client } = tracedClient(() => SAMPLED, {
      send: () => {
        throw new Error("sink down");
      },
    });
    const pk = `TRACE#${randomUUID()}`;
    await expect(
      client.send(new PutCommand({ TableName: plane.tableName, Item: { pk, sk: "A" } })),
    ).resolves.toBeDefined();
  });

  it("names services as the X-Ray SDK does and stamps calls with the wall clock", async () => {
    const sink = recordingSink();
    const cognito = new AwsCallTracer(sink, () => SAMPLED).capture(createCognitoClient(plane.sdk));
    const before = Date.now() / 1000;
    await cognito.send(new ListUsersCommand({ UserPoolId: plane.userPoolId, Limit: 1 }));
    const after = Date.now() / 1000;
    expect(sink.documents).toHaveLength(1);
    const document = sink.documents[0]!;
    expect(document).toMatchObject({
      name: "CognitoIdentityProvider",
      aws: { operation: "ListUsers", user_pool_id: plane.userPoolId },
    });
    expect(document.start_time as number).toBeGreaterThanOrEqual(before - 0.001);
    expect(document.end_time as number).toBeLessThanOrEqual(after + 0.001);
    expect(document.end_time as number).toBeGreaterThanOrEqual(document.start_time as number);
  });
});

/**
 * The middleware on its own, driven as the SDK's stack would drive it, with faults injected where
 * a real client cannot produce them.
 */
describe("the tracer's faults never become the call's", () => {
  type Middleware = (
    next: (args: unknown) => Promise<unknown>,
    context: object,
  ) => (args: { input: unknown; request?: unknown }) => Promise<unknown>;
  function middlewareOf(tracer: AwsCallTracer): Middleware {
    let added: Middleware | undefined;
    tracer.capture({
      middlewareStack: { add: (middleware: Middleware) => (added = middleware) },
      config: { serviceId: "DynamoDB", region: async () => "us-east-1" },
    });
    return added!;
  }
  const args = { input: { TableName: "t" }, request: { headers: {} } };
  const context = { clientName: "DynamoDBClient", commandName: "GetItemCommand" };

  it("an unreadable trace header: the call goes out untraced", async () => {
    const sink = recordingSink();
    const middleware = middlewareOf(
      new AwsCallTracer(sink, () => {
        throw new Error("store gone");
      }),
    );
    const output = { output: { $metadata: {} } };
    await expect(middleware(async () => output, context)({ ...args })).resolves.toBe(output);
    expect(sink.documents).toEqual([]);
  });

  it("a handler below that answers nothing: the call's answer is passed on as it is", async () => {
    const sink = recordingSink();
    const middleware = middlewareOf(new AwsCallTracer(sink, () => SAMPLED));
    await expect(middleware(async () => undefined, context)({ ...args })).resolves.toBeUndefined();
    expect(sink.documents).toHaveLength(1);
  });

  it("the call's own error reaches the caller untouched, once", async () => {
    const sink = recordingSink();
    const middleware = middlewareOf(new AwsCallTracer(sink, () => SAMPLED));
    const failure = Object.assign(new Error("boom"), { name: "InternalServerError" });
    let calls = 0;
    const next = async () => {
      calls++;
      throw failure;
    };
    await expect(middleware(next, context)({ ...args })).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(sink.documents[0]).toMatchObject({ fault: true });
  });
});
