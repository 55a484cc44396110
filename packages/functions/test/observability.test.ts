import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traced, tracer, tracingPossible } from "../src/observability";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");

describe("where the tracer is made", () => {
  const lambda = {
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_XRAY_DAEMON_ADDRESS: "169.254.79.129:2000",
  };
  it.each([
    ["a Lambda function", lambda, true],
    [
      "a Lambda function with POWERTOOLS_TRACE_ENABLED=true",
      { ...lambda, POWERTOOLS_TRACE_ENABLED: "true" },
      true,
    ],
    ["tracing switched off", { ...lambda, POWERTOOLS_TRACE_ENABLED: "false" }, false],
    [
      "tracing switched off, any case and spacing",
      { ...lambda, POWERTOOLS_TRACE_ENABLED: " FALSE " },
      false,
    ],
    ["outside Lambda (tests, the benchmark)", {}, false],
    [
      "a Lambda function with no X-Ray daemon to send to",
      { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" },
      false,
    ],
    ["SAM local", { ...lambda, AWS_SAM_LOCAL: "true" }, false],
    ["Amplify's mock", { ...lambda, AWS_EXECUTION_ENV: "AWS_Lambda_amplify-mock" }, false],
  ])("%s: %s", (_name, env, expected) => {
    expect(tracingPossible(env)).toBe(expected);
  });

  it("is not made where it could not trace, and traced() hands the client back unchanged", () => {
    expect(tracingPossible()).toBe(false);
    expect(tracer).toBeUndefined();
    const client = { send: async () => ({}) };
    expect(traced(client)).toBe(client);
  });
});

/** X-Ray daemon stand-in: every UDP datagram sent to it, parsed. */
async function daemon(): Promise<{
  socket: Socket;
  port: number;
  documents: Record<string, unknown>[];
}> {
  const socket = createSocket("udp4");
  const documents: Record<string, unknown>[] = [];
  socket.on("message", (message) => {
    // `{"format":"json","version":1}` then a newline, then the segment document.
    const [header, ...body] = message.toString("utf8").split("\n");
    expect(JSON.parse(header ?? "")).toEqual({ format: "json", version: 1 });
    documents.push(JSON.parse(body.join("\n")) as Record<string, unknown>);
  });
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
  return { socket, port: socket.address().port, documents };
}

describe("a trigger running on Lambda with active tracing", () => {
  let plane: Plane;
  let dir: string;
  beforeAll(async () => {
    plane = await startPlane();
    dir = await mkdtemp(join(ROOT, "node_modules", ".observability-test-"));
  });
  afterAll(async () => {
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sends a subsegment per DynamoDB call to the X-Ray daemon, under the invocation's trace", async () => {
    const sub = randomUUID();
    await plane.dynamodb.send(
      new PutCommand({
        TableName: plane.tableName,
        Item: {
          pk: `USER#${sub}`,
          sk: "PROFILE",
          sub,
          tenant: "acme",
          plan: "pro",
          roles: ["member"],
          createdAt: "2026-11-26T14:00:00.000Z",
          version: 1,
        },
      }),
    );
    const xray = await daemon();
    const traceId = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, "").slice(0, 24)}`;
    const parentId = randomUUID().replace(/-/g, "").slice(0, 16);
    // A fresh process: the tracer is made (or not) from the Lambda environment when loaded.
    const script = join(dir, "invoke.mts");
    const handlerUrl = pathToFileURL(
      resolve(ROOT, "packages/functions/src/cognito/pre-token-generation.ts"),
    ).href;
    await writeFile(
      script,
      `const { handler } = await import(${JSON.stringify(handlerUrl)});
const { tracer } = await import(${JSON.stringify(pathToFileURL(resolve(ROOT, "packages/functions/src/observability.ts")).href)});
const event = ${JSON.stringify({
        version: "2",
        region: "us-east-1",
        userPoolId: plane.userPoolId,
        userName: sub,
        callerContext: { awsSdkVersion: "test", clientId: "test" },
        triggerSource: "TokenGeneration_Authentication",
        request: {
          userAttributes: { sub },
          groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
          scopes: ["openid"],
        },
        response: { claimsAndScopeOverrideDetails: null },
      })};
const response = await handler(event, { awsRequestId: "req-1", getRemainingTimeInMillis: () => 4000 });
process.stdout.write(JSON.stringify({ tracing: tracer !== undefined, response }));
`,
    );
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", script], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...plane.env,
          POWERTOOLS_TRACE_ENABLED: "true",
          AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
          AWS_LAMBDA_FUNCTION_NAME: "pre-token-generation",
          LAMBDA_TASK_ROOT: dir,
          _X_AMZN_TRACE_ID: `Root=${traceId};Parent=${parentId};Sampled=1`,
          AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${xray.port}`,
        },
      });
      const result = JSON.parse(stdout) as {
        tracing: boolean;
        response: { response: { claimsAndScopeOverrideDetails: unknown } };
      };
      expect(result.tracing).toBe(true);
      // Traced or not, the trigger answers from the profile.
      expect(JSON.stringify(result.response.response)).toContain("acme");
      await expect
        .poll(() => xray.documents.find((doc) => doc.name === "DynamoDB"), { timeout: 5000 })
        .toBeDefined();
      const dynamodb = xray.documents.find((doc) => doc.name === "DynamoDB")!;
      expect(dynamodb).toMatchObject({
        type: "subsegment",
        trace_id: traceId,
        parent_id: parentId,
        namespace: "aws",
        aws: { operation: "GetItem", table_name: plane.tableName, region: "us-east-1", retries: 0 },
        http: { response: { status: 200 } },
      });
      expect(dynamodb.id).toMatch(/^[0-9a-f]{16}$/);
      expect(dynamodb.end_time as number).toBeGreaterThanOrEqual(dynamodb.start_time as number);
      expect(dynamodb).not.toHaveProperty("error");
      expect(dynamodb).not.toHaveProperty("fault");
    } finally {
      xray.socket.close();
    }
  });
});
