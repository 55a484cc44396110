import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Bundles, eventually, testRuntime } from "./bundles";

describe("Lambda runtime: outcomes and isolation", () => {
  const bundles = new Bundles();
  const runtime = testRuntime();

  beforeAll(() => {
    runtime.register(
      bundles.fn(
        "echo",
        `let calls = 0;
export const handler = async (event) => { calls++; console.log("got", event.n); return { echo: event, calls }; };`,
      ),
    );
    runtime.register(
      bundles.fn(
        "thrower",
        `class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError"; } }
export const handler = async () => { throw new ValidationError("bad input"); };`,
      ),
    );
    runtime.register(
      bundles.fn(
        "hang",
        `export const handler = async (event) => {
  if (event.spin) { for (;;) {} }
  return "done";
};`,
        { timeoutSeconds: 1 },
      ),
    );
    runtime.register(
      bundles.fn(
        "exiter",
        `export const handler = async (event) => { if (event.exit) process.exit(3); return "alive"; };`,
      ),
    );
    runtime.register(
      bundles.fn(
        "leaker",
        `export const handler = async (event) => {
  if (event.leak) { Promise.reject(new Error("nobody listens")); await new Promise((r) => setTimeout(r, 1000)); }
  return "fine";
};`,
      ),
    );
    runtime.register(
      bundles.fn(
        "hog",
        `const kept = [];
export const handler = async () => { for (let i = 0; i < 1e5; i++) kept.push(new Array(1e6).fill(i)); };`,
        // A generous timeout: near its heap limit V8 collects hard, slowly on a busy machine.
        { memoryMb: 64, timeoutSeconds: 60 },
      ),
    );
    runtime.register(
      bundles.fn(
        "callback",
        `export const handler = (event, context, callback) => {
  setTimeout(() => (event.fail ? callback(new Error("cb failed")) : callback(null, { via: "callback" })), 10);
};`,
      ),
    );
  });
  afterAll(async () => {
    await runtime.close();
    bundles.cleanup();
  });

  it("returns the handler's result, keeps the environment warm, and records the call", async () => {
    // Act
    const first = await runtime.invoke("echo", { n: 1 }, { source: "test" });
    const second = await runtime.invoke("echo", { n: 2 }, { source: "test" });

    // Assess
    expect(first).toMatchObject({ ok: true, payload: { echo: { n: 1 }, calls: 1 } });
    expect(second).toMatchObject({ ok: true, payload: { echo: { n: 2 }, calls: 2 } });
    const [latest] = runtime.invocations({ functionName: "echo", limit: 1 });
    expect(latest).toMatchObject({
      functionName: "echo",
      requestId: second.requestId,
      source: "test",
      invocationType: "RequestResponse",
      ok: true,
      event: '{"n":2}',
      result: '{"echo":{"n":2},"calls":2}',
    });
    expect(latest?.logs[0]).toBe(`START RequestId: ${second.requestId} Version: $LATEST`);
    expect(latest?.logs[1]).toMatch(new RegExp(`\\t${second.requestId}\\tINFO\\tgot 2$`));
    expect(latest?.logs.at(-2)).toBe(`END RequestId: ${second.requestId}`);
    expect(latest?.logs.at(-1)).toMatch(
      /^REPORT RequestId: .*\tDuration: [\d.]+ ms\tBilled Duration/,
    );
  });

  it("reports a thrown error with its name and message, and the next call still works", async () => {
    // Act
    const result = await runtime.invoke("thrower", {});

    // Assess
    expect(result).toMatchObject({
      ok: false,
      errorType: "ValidationError",
      errorMessage: "bad input",
      timedOut: false,
    });
    const logs = runtime.invocations({ functionName: "thrower" })[0]?.logs ?? [];
    expect(
      logs.some((line) => /\tERROR\tInvoke Error .*"errorType":"ValidationError"/.test(line)),
    ).toBe(true);
  });

  it("times out a busy loop, replaces the environment, and serves the next call", async () => {
    // Act
    const hung = await runtime.invoke("hang", { spin: true });
    const next = await runtime.invoke("hang", {});

    // Assess
    expect(hung).toMatchObject({
      ok: false,
      errorType: "Runtime.TimeoutError",
      errorMessage: "Task timed out after 1.00 seconds",
      timedOut: true,
    });
    expect(next).toMatchObject({ ok: true, payload: "done" });
    const report = runtime.invocations({ functionName: "hang", ok: false })[0]?.logs.at(-1);
    expect(report).toMatch(/Status: timeout/);
  });

  it("honours a shorter timeout from the caller (Cognito waits 5 s whatever the function says)", async () => {
    // Act
    const result = await runtime.invoke("hang", { spin: true }, { timeoutMs: 300 });

    // Assess
    expect(result).toMatchObject({ ok: false, errorMessage: "Task timed out after 0.30 seconds" });
  });

  it("survives process.exit: the call fails with Runtime.ExitError, the next one gets a new environment", async () => {
    // Act
    const exited = await runtime.invoke("exiter", { exit: true });
    const next = await runtime.invoke("exiter", {});

    // Assess
    expect(exited).toMatchObject({
      ok: false,
      errorType: "Runtime.ExitError",
      errorMessage: "Runtime exited with error: exit status 3",
    });
    expect(next).toMatchObject({ ok: true, payload: "alive" });
  });

  it("fails the call on an unhandled rejection, as the Node runtime does, and recovers", async () => {
    // Act
    const leaked = await runtime.invoke("leaker", { leak: true });
    const next = await runtime.invoke("leaker", {});

    // Assess
    expect(leaked).toMatchObject({
      ok: false,
      errorType: "Runtime.UnhandledPromiseRejection",
      errorMessage: "Error: nobody listens",
    });
    expect(next).toMatchObject({ ok: true, payload: "fine" });
  });

  it("stops a function that exhausts its memory without taking the runtime down", async () => {
    // Act
    const result = await runtime.invoke("hog", {});
    const other = await runtime.invoke("echo", { n: 3 });

    // Assess
    expect(result).toMatchObject({ ok: false, errorType: "Runtime.OutOfMemory" });
    expect(other.ok).toBe(true);
  });

  it("runs callback-style handlers, success and error", async () => {
    // Act
    const good = await runtime.invoke("callback", {});
    const bad = await runtime.invoke("callback", { fail: true });

    // Assess
    expect(good).toMatchObject({ ok: true, payload: { via: "callback" } });
    expect(bad).toMatchObject({ ok: false, errorType: "Error", errorMessage: "cb failed" });
  });

  it("finds functions by ARN and $LATEST qualifier, and refuses unknown names and versions", async () => {
    // Act
    const byArn = await runtime.invoke(`arn:aws:lambda:us-east-1:000000000000:function:echo`, {});
    const qualified = await runtime.invoke(
      "arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST",
      {},
    );
    const partial = await runtime.invoke("000000000000:function:echo", {});
    const missing = await runtime.invoke("nope", {});
    const version = await runtime.invoke("echo:7", {});
    const otherAccount = await runtime.invoke(
      "arn:aws:lambda:us-east-1:111111111111:function:echo",
      {},
    );

    const otherPartial = await runtime.invoke("111111111111:function:echo", {});

    // Assess
    expect([byArn.ok, qualified.ok, partial.ok]).toEqual([true, true, true]);
    for (const result of [missing, version, otherAccount, otherPartial]) {
      expect(result).toMatchObject({ ok: false, errorType: "ResourceNotFoundException" });
    }
  });

  it("streams structured log records tagged with the request id", async () => {
    // Act
    const result = await runtime.invoke("echo", { n: 4 });

    // Assess
    const mine = await eventually(() => {
      const lines = runtime.logs.filter((log) => log.requestId === result.requestId);
      return lines.some((line) => line.level === "REPORT") ? lines : undefined;
    }, "the REPORT line");
    expect(mine.map((log) => log.level)).toEqual(["START", "INFO", "END", "REPORT"]);
    expect(mine[1]).toMatchObject({ functionName: "echo", stream: "console", message: "got 4" });
  });

  it("captures console levels and raw stream writes (Powertools' JSON lines) of a call", async () => {
    // Arrange
    runtime.register(
      bundles.fn(
        "chatty",
        `export const handler = async () => {
  console.warn("careful %d", 3);
  console.error("broken");
  process.stdout.write(JSON.stringify({ level: "INFO", message: "structured" }) + "\\n");
  process.stderr.write("raw error\\n");
  return "ok";
};`,
      ),
    );

    // Act
    const result = await runtime.invoke("chatty", { blob: "x".repeat(10_000) });

    // Assess
    const [call] = runtime.invocations({ functionName: "chatty" });
    const body = call?.logs.slice(1, -2) ?? [];
    expect(body[0]).toMatch(new RegExp(`\\t${result.requestId}\\tWARN\\tcareful 3$`));
    expect(body[1]).toMatch(/\tERROR\tbroken$/);
    expect(body.slice(2)).toEqual(['{"level":"INFO","message":"structured"}', "raw error"]);
    // The console keeps a bounded summary of a large event.
    expect(call?.event).toMatch(/…\(\+\d+ chars\)$/);
    expect(call?.event.length).toBeLessThan(4200);
  });

  it("ends a call in flight when closed, without hanging", async () => {
    // Arrange
    const own = testRuntime();
    own.register(bundles.fn("forever", `export const handler = () => new Promise(() => {});`));
    const inFlight = own.invoke("forever", {});
    await eventually(() => own.logs.some((log) => log.level === "START"), "the call to start");

    // Act
    await own.close();
    const result = await inFlight;
    const after = await own.invoke("forever", {});

    // Assess
    expect(result).toMatchObject({ ok: false, errorType: "Runtime.ExitError" });
    expect(after).toMatchObject({ ok: false, errorType: "ServiceException" });
  });

  it("answers a callback once the event loop is empty, unless callbackWaitsForEmptyEventLoop is false", async () => {
    // Arrange
    runtime.register(
      bundles.fn(
        "lingering",
        `export const handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => console.log("timer fired"), 200);
  callback(null, "answered");
};`,
      ),
    );

    // Act
    const waited = await runtime.invoke("lingering", { wait: true });
    const early = await runtime.invoke("lingering", { wait: false });

    // Assess
    const logsOf = (requestId: string) =>
      runtime
        .invocations({ functionName: "lingering" })
        .find((call) => call.requestId === requestId)?.logs ?? [];
    expect([waited.ok, early.ok]).toEqual([true, true]);
    expect(logsOf(waited.requestId).some((line) => line.endsWith("timer fired"))).toBe(true);
    expect(logsOf(early.requestId).some((line) => line.endsWith("timer fired"))).toBe(false);
  });
});

describe("Lambda runtime: warm (provisioned concurrency)", () => {
  const bundles = new Bundles();
  const runtime = testRuntime();
  afterAll(async () => {
    await runtime.close();
    bundles.cleanup();
  });

  it("runs the init phase before the first call, and that call reuses the environment", async () => {
    runtime.register(
      bundles.fn(
        "counted",
        `const loadedAt = Date.now();
let calls = 0;
export const handler = async () => ({ loadedAt, calls: ++calls });`,
      ),
    );
    expect(await runtime.warm("counted")).toBe(true);
    const before = Date.now();
    const first = await runtime.invoke("counted", {});
    expect(first.ok).toBe(true);
    const payload = (first as { payload: { loadedAt: number; calls: number } }).payload;
    // Loaded by warm(), not by this call, and this call is the environment's first.
    expect(payload.loadedAt).toBeLessThanOrEqual(before);
    expect(payload.calls).toBe(1);
  });

  it("counts the initialised environments waiting for a call", async () => {
    runtime.register(bundles.fn("standby", "export const handler = async () => 'ok';"));
    expect(runtime.warmEnvironments("standby")).toBe(0);
    expect(await runtime.warm("standby")).toBe(true);
    expect(runtime.warmEnvironments("standby")).toBe(1);
    // A call takes the environment and gives it back warm: still one, not a second cold one.
    expect(await runtime.invoke("standby", {})).toMatchObject({ ok: true, payload: "ok" });
    expect(runtime.warmEnvironments("standby")).toBe(1);
    expect(runtime.warmEnvironments("nope")).toBe(0);
  });

  it("gives a call that comes during a warm-up the environment being warmed, not a second cold one", async () => {
    runtime.register(
      bundles.fn(
        "slow-init",
        `await new Promise((resolve) => setTimeout(resolve, 300));
export const handler = async () => 'ok';`,
      ),
    );
    const warming = runtime.warm("slow-init");
    const call = await runtime.invoke("slow-init", {});
    expect(call).toMatchObject({ ok: true, payload: "ok" });
    expect(await warming).toBe(true);
    // One environment in all: the call waited for the warmed one instead of starting its own.
    expect(runtime.warmEnvironments("slow-init")).toBe(1);
  });

  it("starts no worker for a warm-up the runtime's close() interrupted", async () => {
    const marker = join(bundles.dir, "started-after-close");
    const issued: Array<() => void> = [];
    const closing = testRuntime({
      // Credentials that arrive only after close(): the environment is stopped by then.
      credentialsFor: () =>
        new Promise((resolve) => {
          issued.push(() => resolve({ accessKeyId: "A", secretAccessKey: "s", sessionToken: "t" }));
        }),
    });
    closing.register(
      bundles.fn(
        "late",
        `import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(marker)}, "init ran");
export const handler = async () => "ok";`,
      ),
    );
    const warming = closing.warm("late");
    await vi.waitFor(() => expect(issued).toHaveLength(1));
    await closing.close();
    for (const issue of issued) issue();
    expect(await warming).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  it("reports a failed init as false, and unknown functions too", async () => {
    runtime.register(bundles.fn("broken", "throw new Error('cannot load');"));
    expect(await runtime.warm("broken")).toBe(false);
    expect(runtime.warmEnvironments("broken")).toBe(0);
    expect(await runtime.warm("nope")).toBe(false);
    const after = await runtime.invoke("broken", {});
    expect(after).toMatchObject({
      ok: false,
      errorMessage: expect.stringContaining("cannot load"),
    });
  });
});
