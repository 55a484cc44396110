import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { functionEnvironment, runtimeMajor } from "../../src/lambda/environment";
import type { AsyncFailure } from "../../src/lambda/types";
import { Bundles, testRuntime } from "./bundles";

describe("Lambda runtime: environment, context, concurrency and Event invocations", () => {
  const bundles = new Bundles();
  const failures: AsyncFailure[] = [];
  const runtime = testRuntime({
    endpoint: inject("localAwsEndpoint"),
    maxConcurrencyPerFunction: 2,
    maxQueuedPerFunction: 1,
    asyncRetryDelaysMs: [20, 20],
    onAsyncFailure: (failure) => failures.push(failure),
  });

  afterAll(async () => {
    await runtime.close();
    bundles.cleanup();
  });

  it("gives the handler the template variables, Lambda's reserved variables and a Lambda context", async () => {
    // Arrange
    const fn = bundles.fn(
      "introspect",
      `export const handler = async (event, context) => {
  process.env.MUTATED_BY_HANDLER = "yes";
  return { env: { ...process.env }, context: { ...context, remaining: context.getRemainingTimeInMillis() } };
};`,
      { environment: { TABLE_NAME: "profiles", POWERTOOLS_SERVICE_NAME: "x" }, memoryMb: 256 },
    );
    runtime.register(fn);

    // Act
    const result = await runtime.invoke(`${fn.arn}:$LATEST`, {});

    // Assess
    expect(result.ok).toBe(true);
    const { env, context } = (
      result as { payload: { env: Record<string, string>; context: Record<string, unknown> } }
    ).payload;
    expect(env).toMatchObject({
      TABLE_NAME: "profiles",
      AWS_LAMBDA_FUNCTION_NAME: "introspect",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      LAMBDA_TASK_ROOT: bundles.dir,
      _HANDLER: "packages/x/introspect.handler",
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/introspect",
      AWS_ACCESS_KEY_ID: "AKIAINTROSPECT",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      AWS_ENDPOINT_URL: inject("localAwsEndpoint"),
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(
      /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/,
    );
    // The plane's own environment does not leak in, and the handler's edits do not leak out.
    expect(env.NODE_ENV).toBeUndefined();
    expect(process.env.MUTATED_BY_HANDLER).toBeUndefined();
    expect(context).toMatchObject({
      awsRequestId: result.requestId,
      functionName: "introspect",
      functionVersion: "$LATEST",
      invokedFunctionArn: `${fn.arn}:$LATEST`,
      memoryLimitInMB: "256",
      logGroupName: "/aws/lambda/introspect",
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.remaining).toBeGreaterThan(0);
    expect(context.remaining).toBeLessThanOrEqual(3000);
  });

  it("runs a slow call and a fast one in separate environments, neither waiting for the other", async () => {
    // Arrange: the slow call holds its environment until the test writes the release file.
    const release = join(bundles.dir, `release-${randomUUID()}`);
    runtime.register(
      bundles.fn(
        "slow",
        `import { existsSync } from "node:fs";
export const handler = async (event, context) => {
  for (let i = 0; event.hold && !existsSync(event.hold) && i < 1000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return context.logStreamName;
};`,
        { timeoutSeconds: 30 },
      ),
    );
    let slowDone = false;

    // Act
    const slow = runtime.invoke("slow", { hold: release }).finally(() => {
      slowDone = true;
    });
    const fast = await runtime.invoke("slow", {});
    const slowDoneWhenFastReturned = slowDone;
    writeFileSync(release, "");
    const slowResult = await slow;

    // Assess
    expect(slowDoneWhenFastReturned).toBe(false);
    expect(fast.ok && slowResult.ok).toBe(true);
    expect(fast.ok && slowResult.ok && fast.payload !== slowResult.payload).toBe(true);
  });

  it("queues beyond the environments, and refuses with TooManyRequests beyond the queue", async () => {
    // Arrange
    runtime.register(
      bundles.fn(
        "busy",
        `export const handler = async () => { await new Promise((resolve) => setTimeout(resolve, 800)); return "ok"; };`,
      ),
    );

    // Act: two environments busy, one call queued, the fourth has no place.
    const running = [runtime.invoke("busy", {}), runtime.invoke("busy", {})];
    const queued = runtime.invoke("busy", {});
    const refused = await runtime.invoke("busy", {});

    // Assess
    expect(refused).toMatchObject({ ok: false, errorType: "TooManyRequestsException" });
    const results = await Promise.all([...running, queued]);
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
  });

  it("answers an Event invocation at once and retries a failing one twice with the same request id", async () => {
    // Arrange
    runtime.register(
      bundles.fn(
        "flaky",
        `let attempts = 0;
export const handler = async () => { attempts++; if (attempts < 3) throw new Error("attempt " + attempts); return attempts; };`,
      ),
    );
    runtime.register(
      bundles.fn(
        "broken",
        `export const handler = async () => { throw new TypeError("always"); };`,
      ),
    );

    // Act
    const flaky = await runtime.invoke(
      "flaky",
      { a: 1 },
      { invocationType: "Event", source: "sns" },
    );
    const broken = await runtime.invoke("broken", { b: 2 }, { invocationType: "Event" });
    await runtime.idle();

    // Assess
    expect(flaky).toMatchObject({ ok: true, payload: undefined });
    const attempts = runtime
      .invocations({ functionName: "flaky" })
      .filter((record) => record.requestId === flaky.requestId)
      .reverse();
    expect(
      attempts.map((record) => [record.attempt, record.ok, record.invocationType, record.source]),
    ).toEqual([
      [1, false, "Event", "sns"],
      [2, false, "Event", "sns"],
      [3, true, "Event", "sns"],
    ]);
    expect(failures).toEqual([
      {
        functionName: "broken",
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:broken",
        requestId: broken.requestId,
        event: { b: 2 },
        attempts: 3,
        errorType: "TypeError",
        errorMessage: "always",
      },
    ]);
  });

  it("picks up new code when a function is registered again", async () => {
    // Arrange
    runtime.register(bundles.fn("versioned", `export const handler = async () => "v1";`));
    const before = await runtime.invoke("versioned", {});

    // Act
    runtime.register(bundles.fn("versioned", `export const handler = async () => "v2";`));
    const after = await runtime.invoke("versioned", {});

    // Assess
    expect([before, after]).toMatchObject([{ payload: "v1" }, { payload: "v2" }]);
  });

  it("reports a missing handler file and a missing export as Lambda does", async () => {
    // Arrange
    const missingExport = bundles.fn("noexport", `export const other = () => 1;`);
    runtime.register(missingExport);
    runtime.register({ ...missingExport, name: "nofile", handler: "packages/x/absent.handler" });

    // Act
    const noExport = await runtime.invoke("noexport", {});
    const noFile = await runtime.invoke("nofile", {});

    // Assess
    expect(noExport).toMatchObject({
      ok: false,
      errorType: "Runtime.HandlerNotFound",
      errorMessage: "packages/x/noexport.handler is undefined or not exported",
    });
    expect(noFile).toMatchObject({ ok: false, errorType: "Runtime.ImportModuleError" });
  });
});

describe("the SDK's Node version warning", () => {
  const fn = (runtime: string, environment: Record<string, string> = {}) =>
    ({
      name: "f",
      runtime,
      environment,
      memoryMb: 128,
      bundleDir: "/tmp",
      handler: "index.handler",
    }) as unknown as Parameters<typeof functionEnvironment>[0];
  const env = (runtime: string, environment?: Record<string, string>) =>
    functionEnvironment(
      fn(runtime, environment),
      { region: "us-east-1", endpoint: "http://127.0.0.1:1" },
      { accessKeyId: "a", secretAccessKey: "b" },
      { logGroupName: "g", logStreamName: "s" },
    ).AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const host = Number(process.versions.node.split(".")[0]);

  it("is switched off only for a function declared for a newer Node than this host's", () => {
    expect(runtimeMajor("nodejs22.x")).toBe(22);
    expect(runtimeMajor("provided.al2023")).toBe(0);
    expect(env(`nodejs${host + 2}.x`)).toBe("true");
    expect(env(`nodejs${host}.x`)).toBeUndefined();
    expect(env("provided.al2023")).toBeUndefined();
  });

  it("keeps what the template sets", () => {
    expect(
      env(`nodejs${host + 2}.x`, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" }),
    ).toBe("false");
  });
});
