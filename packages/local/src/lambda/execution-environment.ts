/**
 * One execution environment: a worker thread that loads the bundle once and then serves one
 * invocation at a time, like a warm Lambda sandbox.
 *
 * Why worker threads and not child processes: a worker starts in tens of milliseconds on the
 * process's own Node (no second runtime per function on a 2-core machine), takes its own
 * `process.env` (`env` option) and a V8 heap cap (`resourceLimits`, from the function's memory),
 * `process.exit` in it ends only that thread, and `terminate()` stops even a busy loop. What a
 * thread cannot fence off (native crashes, `process.abort()`, `process.chdir()`, TZ) is listed in
 * docs/local-cloud.md; `process.kill` of our own pid is turned into an exit of the worker.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { environmentNames, functionEnvironment } from "./environment";
import { splitHandler } from "./names";
import type { FunctionCredentials, LocalFunction, LogStream } from "./types";

/** Lambda gives a function's init phase 10 s of its own, outside the invocation timeout. */
const INIT_TIMEOUT_MS = 10_000;
const HANDLER_EXTENSIONS = [".mjs", ".js", ".cjs"];
const WORKER_ENTRY = new URL("./worker-entry.mjs", import.meta.url);

export interface RawLog {
  requestId: string | null;
  stream: LogStream;
  level?: string;
  text: string;
  time: number;
}

export type Outcome =
  | { ok: true; payload: string; durationMs: number; initDurationMs?: number; heapUsedMb?: number }
  | {
      ok: false;
      errorType: string;
      errorMessage: string;
      trace?: string[];
      timedOut: boolean;
      durationMs: number;
      initDurationMs?: number;
      heapUsedMb?: number;
    };

type Failure = Extract<Outcome, { ok: false }>;

interface EnvironmentSettings {
  region: string;
  endpoint: string;
  /** Set for a function with active tracing: its `AWS_XRAY_DAEMON_ADDRESS`. */
  xrayDaemonAddress?: string;
  credentialsFor(fn: LocalFunction): FunctionCredentials | Promise<FunctionCredentials>;
  sink(entry: RawLog): void;
  /** Called once, when the environment will serve no more calls. */
  onStopped?(): void;
}

interface Pending {
  requestId: string;
  finish(outcome: Outcome): void;
}

function failure(errorType: string, errorMessage: string, extra: Partial<Failure> = {}): Failure {
  return { ok: false, errorType, errorMessage, timedOut: false, durationMs: 0, ...extra };
}

/** `<bundleDir>/<module>.mjs`, `.js` or `.cjs`, the first that exists. */
function handlerFile(fn: LocalFunction): string | undefined {
  const { module } = splitHandler(fn.handler);
  return HANDLER_EXTENSIONS.map((ext) => join(fn.bundleDir, `${module}${ext}`)).find((file) =>
    existsSync(file),
  );
}

export class ExecutionEnvironment {
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private starting: ((message: { type: string; [key: string]: unknown }) => void) | undefined;
  /** Set once the worker is gone or must not serve again. */
  dead = false;
  lastUsed = Date.now();
  /** Epoch ms after which the environment must not start a call (credentials expiring). */
  retireAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly fn: LocalFunction,
    readonly generation: number,
    private readonly settings: EnvironmentSettings,
  ) {}

  async invoke(call: {
    requestId: string;
    event: string;
    timeoutMs: number;
    invokedFunctionArn: string;
    /** The invocation's `_X_AMZN_TRACE_ID`. */
    traceHeader: string;
  }): Promise<Outcome> {
    let initDurationMs: number | undefined;
    if (!this.worker) {
      const started = await this.start(call.requestId);
      if (!started.ok) {
        this.dead = true;
        await this.terminate();
        return started;
      }
      initDurationMs = started.initDurationMs;
    }
    const worker = this.worker!;
    const began = performance.now();
    const outcome = await new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        // The worker may be stuck in a loop: only terminate() reaches it. It is replaced lazily.
        this.dead = true;
        void this.terminate();
        const seconds = (call.timeoutMs / 1000).toFixed(2);
        finish(
          failure("Runtime.TimeoutError", `Task timed out after ${seconds} seconds`, {
            timedOut: true,
          }),
        );
      }, call.timeoutMs);
      const finish = (result: Outcome) => {
        clearTimeout(timer);
        if (this.pending?.requestId === call.requestId) this.pending = undefined;
        resolve(result);
      };
      this.pending = { requestId: call.requestId, finish };
      worker.postMessage({
        type: "invoke",
        requestId: call.requestId,
        event: call.event,
        deadline: Date.now() + call.timeoutMs,
        invokedFunctionArn: call.invokedFunctionArn,
        traceHeader: call.traceHeader,
      });
    });
    this.lastUsed = Date.now();
    const durationMs = performance.now() - began;
    return initDurationMs === undefined
      ? { ...outcome, durationMs }
      : { ...outcome, durationMs, initDurationMs };
  }

  /**
   * Runs the init phase now (loads the bundle) without an invocation, as provisioned concurrency
   * does; false if the init failed (the environment is then dead).
   */
  async prepare(): Promise<boolean> {
    if (this.worker) return !this.dead;
    const started = await this.start(`init-${this.fn.name}`);
    if (started.ok) return true;
    this.dead = true;
    await this.terminate();
    return false;
  }

  async terminate(): Promise<void> {
    this.dead = true;
    this.settings.onStopped?.();
    const worker = this.worker;
    if (worker) await worker.terminate().catch(() => undefined);
  }

  private async start(requestId: string): Promise<{ ok: true; initDurationMs: number } | Failure> {
    const { fn, settings } = this;
    const file = handlerFile(fn);
    if (!file) {
      const { module } = splitHandler(fn.handler);
      return failure(
        "Runtime.ImportModuleError",
        `Error: Cannot find module '${module}' in ${fn.bundleDir} (.mjs, .js or .cjs)`,
      );
    }
    let credentials: FunctionCredentials;
    try {
      credentials = await settings.credentialsFor(fn);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return failure("ServiceException", `No credentials for role ${fn.roleArn}: ${message}`);
    }
    // Stopped while the credentials were issued (the runtime closed during a warm-up): starting a
    // worker now would outlive close().
    if (this.dead) {
      return failure("Runtime.ExitError", "The environment was stopped before its init");
    }
    if (credentials.expiration) this.retireAt = credentials.expiration.getTime() - 60_000;
    const names = environmentNames(fn);
    const worker = new Worker(WORKER_ENTRY, {
      env: functionEnvironment(fn, settings, credentials, names),
      workerData: {
        handlerFile: file,
        exportPath: splitHandler(fn.handler).exportPath,
        handler: fn.handler,
        functionName: fn.name,
        memoryMb: fn.memoryMb,
        ...names,
      },
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
      // Output that bypasses the worker's capture (it patches console and the streams) must not
      // reach the plane's own terminal either: it is logged against the current call.
      stdout: true,
      stderr: true,
    });
    this.worker = worker;
    for (const stream of ["stdout", "stderr"] as const) {
      worker[stream].on("data", (chunk: Buffer) =>
        settings.sink({
          requestId: this.pending?.requestId ?? requestId,
          stream,
          text: chunk.toString("utf8").replace(/\n$/, ""),
          time: Date.now(),
        }),
      );
    }
    worker.on("message", (message) => this.onMessage(message));
    worker.on("error", (error: Error & { code?: string }) => {
      this.dead = true;
      const outcome =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? failure(
              "Runtime.OutOfMemory",
              `Runtime exited with error: out of memory (Memory Size: ${fn.memoryMb} MB)`,
            )
          : failure(error.name || "Error", error.message);
      this.settle(outcome);
    });
    worker.on("exit", (code) => {
      this.dead = true;
      this.settle(failure("Runtime.ExitError", `Runtime exited with error: exit status ${code}`));
    });

    const ready = await new Promise<{ type: string; [key: string]: unknown }>((resolve) => {
      const timer = setTimeout(() => resolve({ type: "init-timeout" }), INIT_TIMEOUT_MS);
      this.starting = (message) => {
        clearTimeout(timer);
        this.starting = undefined;
        resolve(message);
      };
    });
    if (ready.type === "ready") return { ok: true, initDurationMs: Number(ready.initDurationMs) };
    if (ready.type === "init-timeout") {
      return failure(
        "Runtime.InitTimeout",
        `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
        {
          timedOut: true,
        },
      );
    }
    return failure(String(ready.errorType), String(ready.errorMessage));
  }

  /** The worker died or failed: whoever waits (init or a call) gets the first reason. */
  private settle(outcome: Failure) {
    if (this.starting) {
      this.starting({ type: "init-error", ...outcome });
      return;
    }
    this.pending?.finish(outcome);
  }

  private onMessage(message: { type: string; requestId?: string | null; [key: string]: unknown }) {
    switch (message.type) {
      case "log":
        this.settings.sink(message as unknown as RawLog);
        return;
      case "ready":
      case "init-error":
        this.starting?.(message);
        return;
      case "result": {
        if (message.requestId !== this.pending?.requestId) return;
        const heapUsedMb = Number(message.heapUsedMb);
        this.pending?.finish(
          message.ok
            ? { ok: true, payload: String(message.payload), durationMs: 0, heapUsedMb }
            : failure(String(message.errorType), String(message.errorMessage), {
                trace: message.trace as string[],
                heapUsedMb,
              }),
        );
        return;
      }
      case "crash":
        // The worker exits right after; this is the better reason than "exit status 128".
        this.dead = true;
        this.settle(failure(String(message.errorType), String(message.errorMessage)));
        return;
    }
  }
}
