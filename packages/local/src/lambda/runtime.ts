/**
 * The local Lambda runtime: runs the bundles SST built, each function in its own pool of
 * execution environments (worker threads, see execution-environment.ts), behind the
 * `LambdaInvoker` seam that Cognito, SNS, the HTTP API and the pollers call.
 *
 * Semantics kept from Lambda: one call at a time per environment, warm reuse, a bounded number of
 * environments per function with further calls queued (bounded, then TooManyRequests), the
 * function timeout (the environment is then replaced), `Event` invocations answered at once and
 * tried up to three times, START/END/REPORT log lines, and payload limits (6 MB synchronous,
 * 256 KB asynchronous).
 */
import { randomUUID } from "node:crypto";
import type { InvokeOptions, InvokeResult } from "../cloud/contracts";
import { ExecutionEnvironment, type Outcome, type RawLog } from "./execution-environment";
import { endLine, logRecord, reportLine, startLine } from "./logs";
import { isLatest, parseFunctionReference, splitHandler } from "./names";
import { clip, summarize } from "./summary";
import { epochSeconds, functionSegment, newInvocationTrace, traceHeader } from "./trace";
import type {
  InvocationFilter,
  InvocationRecord,
  LambdaRuntime,
  LambdaRuntimeOptions,
  LocalFunction,
} from "./types";

const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const ASYNC_PAYLOAD_LIMIT = 256 * 1024;
const LINES_PER_RECORD = 200;
const ASYNC_ATTEMPTS = 3;

type Failure = Extract<InvokeResult, { ok: false }>;

interface FunctionState {
  fn: LocalFunction;
  /** Bumped by `register`: environments of an older generation retire instead of serving. */
  generation: number;
  idle: ExecutionEnvironment[];
  /** Environments alive or being started (busy + idle). */
  live: number;
  waiters: Array<(env: ExecutionEnvironment | undefined) => void>;
  /** Environments `warm` is initialising: a call meanwhile waits for one instead of another. */
  warming: number;
}

interface Call {
  requestId: string;
  event: unknown;
  eventJson: string;
  source: string;
  invocationType: "RequestResponse" | "Event";
  attempt: number;
  timeoutMs?: number;
  invokedFunctionArn: string;
  /** Admitted `Event` calls already passed a bounded queue; they wait instead of throttling. */
  mayQueueUnbounded: boolean;
}

function failed(requestId: string, errorType: string, errorMessage: string): Failure {
  return { ok: false, errorType, errorMessage, requestId, durationMs: 0, timedOut: false };
}

export function createLambdaRuntime(options: LambdaRuntimeOptions): LambdaRuntime {
  const maxConcurrency = options.maxConcurrencyPerFunction ?? 4;
  const maxQueued = options.maxQueuedPerFunction ?? 100;
  const maxRecords = options.maxRecords ?? 200;
  const retryDelays = options.asyncRetryDelaysMs ?? [60_000, 120_000];
  const maxAsyncQueue = options.maxAsyncQueue ?? 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60_000;

  const states = new Map<string, FunctionState>();
  const records: InvocationRecord[] = [];
  const listeners = new Set<(record: InvocationRecord) => void>();
  /** Log lines of calls in flight, by request id. */
  const active = new Map<string, string[]>();
  const retryTimers = new Set<NodeJS.Timeout>();
  /** Every environment started and not yet stopped, so `close()` reaches busy ones too. */
  const environments = new Set<ExecutionEnvironment>();
  let asyncInFlight = 0;
  let idleWaiters: Array<() => void> = [];
  let closed = false;

  const sweeper = setInterval(sweepIdle, Math.min(idleTimeoutMs, 60_000));
  sweeper.unref();

  function sweepIdle() {
    const now = Date.now();
    for (const state of states.values()) {
      const stale = state.idle.filter((env) => now - env.lastUsed > idleTimeoutMs);
      for (const env of stale) retire(state, env);
    }
  }

  function retire(state: FunctionState, env: ExecutionEnvironment) {
    state.idle = state.idle.filter((other) => other !== env);
    state.live--;
    void env.terminate();
  }

  function emit(fn: LocalFunction, entry: RawLog) {
    const record = logRecord(fn.name, entry);
    const lines = entry.requestId ? active.get(entry.requestId) : undefined;
    if (lines) {
      lines.push(clip(record.line));
      // A chatty call keeps its START line and its latest output.
      if (lines.length > LINES_PER_RECORD) lines.splice(1, lines.length - LINES_PER_RECORD);
    }
    try {
      options.log?.(record);
    } catch {
      // A console that fails must not fail the function.
    }
  }

  /** Active tracing needs a daemon to send to: without one the function is not sampled. */
  function traces(fn: LocalFunction): boolean {
    return fn.tracing === "Active" && options.tracing !== undefined;
  }

  function recordSegment(document: Record<string, unknown>) {
    try {
      options.tracing?.record(document);
    } catch {
      // Tracing is best effort, here as on Lambda: it never fails the call it describes.
    }
  }

  function platform(fn: LocalFunction, requestId: string, level: string, text: string) {
    emit(fn, { requestId, stream: "platform", level, text, time: Date.now() });
  }

  function newEnvironment(state: FunctionState): ExecutionEnvironment {
    const fn = state.fn;
    const env = new ExecutionEnvironment(fn, state.generation, {
      region: options.region,
      endpoint: options.endpoint,
      ...(traces(fn) ? { xrayDaemonAddress: options.tracing!.address } : {}),
      credentialsFor: options.credentialsFor,
      sink: (entry) => emit(fn, entry),
      onStopped: () => environments.delete(env),
    });
    environments.add(env);
    return env;
  }

  /** A free environment of this function, a new one, a place in the queue, or none (throttled). */
  function acquire(
    state: FunctionState,
    unbounded: boolean,
    forWarmUp = false,
  ): Promise<ExecutionEnvironment | undefined> {
    for (;;) {
      const env = state.idle.pop();
      if (!env) break;
      if (env.dead || env.generation !== state.generation || Date.now() >= env.retireAt) {
        state.live--;
        void env.terminate();
        continue;
      }
      return Promise.resolve(env);
    }
    // An environment being warmed is ready sooner than a new one would be, and a second init
    // meanwhile would only compete with it for the CPU.
    if (!forWarmUp && state.warming > state.waiters.length) {
      return new Promise((resolve) => state.waiters.push(resolve));
    }
    if (state.live < maxConcurrency) {
      state.live++;
      return Promise.resolve(newEnvironment(state));
    }
    if (!unbounded && state.waiters.length >= maxQueued) return Promise.resolve(undefined);
    return new Promise((resolve) => state.waiters.push(resolve));
  }

  function release(state: FunctionState, env: ExecutionEnvironment) {
    const reusable = !env.dead && env.generation === state.generation && !closed;
    if (!reusable) {
      state.live--;
      void env.terminate();
    }
    const waiter = state.waiters.shift();
    if (!waiter) {
      if (reusable) state.idle.push(env);
      return;
    }
    if (reusable) {
      waiter(env);
    } else {
      state.live++;
      waiter(newEnvironment(state));
    }
  }

  function lookup(reference: string): FunctionState | undefined {
    const parsed = parseFunctionReference(reference);
    if (!parsed || !isLatest(parsed.qualifier)) return undefined;
    const state = states.get(parsed.name);
    if (!state) return undefined;
    // An ARN must name this account (and, in full, this region) too.
    if (reference.startsWith("arn:")) {
      const unqualified = reference.split(":").slice(0, 7).join(":");
      if (unqualified !== state.fn.arn) return undefined;
    } else if (/^\d{12}:/.test(reference) && !reference.startsWith(`${options.accountId}:`)) {
      return undefined;
    }
    return state;
  }

  function record(
    call: Call,
    fn: LocalFunction,
    result: InvokeResult,
    startedAt: Date,
    logs: string[],
  ) {
    const entry: InvocationRecord = {
      functionName: fn.name,
      requestId: call.requestId,
      source: call.source,
      invocationType: call.invocationType,
      attempt: call.attempt,
      startedAt: startedAt.toISOString(),
      durationMs: result.durationMs,
      ok: result.ok,
      event: summarize(call.event),
      logs,
    };
    if (result.ok) {
      entry.result = summarize(result.payload);
    } else {
      entry.errorType = result.errorType;
      entry.errorMessage = result.errorMessage;
      entry.timedOut = result.timedOut;
    }
    records.push(entry);
    if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
    for (const listener of listeners) {
      try {
        listener(entry);
      } catch {
        // Listeners are consoles; one failing must not stop the others.
      }
    }
  }

  async function execute(state: FunctionState, call: Call): Promise<InvokeResult> {
    const startedAt = new Date();
    const began = performance.now();
    const env = await acquire(state, call.mayQueueUnbounded);
    const fn = env?.fn ?? state.fn;
    if (!env && closed) {
      return failed(call.requestId, "ServiceException", "The Lambda runtime is closed");
    }
    if (!env) {
      const result = failed(
        call.requestId,
        "TooManyRequestsException",
        `Rate Exceeded. ${fn.name} has ${maxConcurrency} busy environments and ${maxQueued} calls queued`,
      );
      record(call, fn, result, startedAt, []);
      return result;
    }
    if (closed) {
      release(state, env);
      return failed(call.requestId, "ServiceException", "The Lambda runtime is closed");
    }
    const lines: string[] = [];
    active.set(call.requestId, lines);
    platform(fn, call.requestId, "START", startLine(call.requestId));
    const configuredMs = fn.timeoutSeconds * 1000;
    const sampled = traces(fn);
    const trace = newInvocationTrace(sampled);
    const segmentStart = epochSeconds();
    const outcome: Outcome = await env.invoke({
      requestId: call.requestId,
      event: call.eventJson,
      timeoutMs: Math.min(call.timeoutMs ?? configuredMs, configuredMs),
      invokedFunctionArn: call.invokedFunctionArn,
      traceHeader: traceHeader(trace),
    });
    release(state, env);
    if (sampled) {
      recordSegment(
        functionSegment(trace, fn, {
          requestId: call.requestId,
          startTime: segmentStart,
          endTime: epochSeconds(),
          ...(outcome.ok
            ? {}
            : { error: { errorType: outcome.errorType, timedOut: outcome.timedOut } }),
        }),
      );
    }
    if (!outcome.ok) {
      const where = outcome.timedOut ? "" : "Error: ";
      const text = `${new Date().toISOString()} ${call.requestId} ${where}${outcome.errorMessage}`;
      if (outcome.errorType.startsWith("Runtime.")) platform(fn, call.requestId, "ERROR", text);
    }
    platform(fn, call.requestId, "END", endLine(call.requestId));
    platform(
      fn,
      call.requestId,
      "REPORT",
      reportLine(call.requestId, {
        durationMs: outcome.durationMs,
        memoryMb: fn.memoryMb,
        heapUsedMb: outcome.heapUsedMb,
        initDurationMs: outcome.initDurationMs,
        ...(outcome.ok
          ? {}
          : {
              status: outcome.timedOut ? "timeout" : env.dead ? "error" : undefined,
              errorType: env.dead ? outcome.errorType : undefined,
            }),
      }),
    );
    active.delete(call.requestId);
    const durationMs = performance.now() - began;
    const result = toResult(call.requestId, outcome, durationMs);
    record(call, fn, result, startedAt, lines);
    return result;
  }

  function toResult(requestId: string, outcome: Outcome, durationMs: number): InvokeResult {
    if (!outcome.ok) {
      return {
        ok: false,
        errorType: outcome.errorType,
        errorMessage: outcome.errorMessage,
        requestId,
        durationMs,
        timedOut: outcome.timedOut,
      };
    }
    if (Buffer.byteLength(outcome.payload) > SYNC_PAYLOAD_LIMIT) {
      return {
        ...failed(
          requestId,
          "Function.ResponseSizeTooLarge",
          `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
        ),
        durationMs,
      };
    }
    return { ok: true, payload: JSON.parse(outcome.payload), requestId, durationMs };
  }

  function enqueueAsync(state: FunctionState, call: Call) {
    asyncInFlight++;
    const attempt = async (number: number) => {
      const result = await execute(state, { ...call, attempt: number });
      if (result.ok || closed) return settleAsync();
      if (number < ASYNC_ATTEMPTS) {
        const timer = setTimeout(
          () => {
            retryTimers.delete(timer);
            void attempt(number + 1);
          },
          retryDelays[number - 1],
        );
        retryTimers.add(timer);
        return;
      }
      try {
        options.onAsyncFailure?.({
          functionName: state.fn.name,
          functionArn: state.fn.arn,
          requestId: call.requestId,
          event: call.event,
          attempts: number,
          errorType: result.errorType,
          errorMessage: result.errorMessage,
        });
      } finally {
        settleAsync();
      }
    };
    setImmediate(() => void attempt(1));
  }

  function settleAsync() {
    if (closed) return;
    asyncInFlight--;
    if (asyncInFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  return {
    async warm(reference: string) {
      const state = lookup(reference);
      if (!state || closed) return false;
      // Counted from now: a call that comes while this one is acquired joins it.
      state.warming++;
      const env = await acquire(state, true, true);
      if (!env) {
        state.warming--;
        return false;
      }
      try {
        return await env.prepare();
      } finally {
        state.warming--;
        release(state, env);
      }
    },
    warmEnvironments(reference: string) {
      const state = lookup(reference);
      if (!state || closed) return 0;
      return state.idle.filter((env) => !env.dead && env.generation === state.generation).length;
    },
    async invoke(reference: string, event: unknown, invokeOptions: InvokeOptions = {}) {
      const requestId = randomUUID();
      if (closed) return failed(requestId, "ServiceException", "The Lambda runtime is closed");
      const state = lookup(reference);
      if (!state) {
        return failed(requestId, "ResourceNotFoundException", `Function not found: ${reference}`);
      }
      let eventJson: string;
      try {
        eventJson = JSON.stringify(event ?? null);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return failed(
          requestId,
          "InvalidRequestContentException",
          `Could not parse request body into json: ${message}`,
        );
      }
      const invocationType = invokeOptions.invocationType ?? "RequestResponse";
      const limit = invocationType === "Event" ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
      const size = Buffer.byteLength(eventJson);
      if (size > limit) {
        return failed(
          requestId,
          "RequestTooLargeException",
          `Request must be smaller than ${limit} bytes for the ${invocationType} invocation type (was ${size})`,
        );
      }
      const call: Call = {
        requestId,
        event,
        eventJson,
        source: invokeOptions.source ?? "invoke",
        invocationType,
        attempt: 1,
        timeoutMs: invokeOptions.timeoutMs,
        invokedFunctionArn: reference.startsWith("arn:") ? reference : state.fn.arn,
        mayQueueUnbounded: invocationType === "Event",
      };
      if (invocationType === "Event") {
        if (asyncInFlight >= maxAsyncQueue) {
          return failed(
            requestId,
            "TooManyRequestsException",
            "Rate Exceeded. The asynchronous queue is full",
          );
        }
        enqueueAsync(state, call);
        return { ok: true, payload: undefined, requestId, durationMs: 0 };
      }
      return execute(state, call);
    },

    register(fn: LocalFunction) {
      splitHandler(fn.handler); // a malformed handler fails here, at provisioning, not per call
      const existing = states.get(fn.name);
      if (existing) {
        existing.fn = fn;
        existing.generation++;
        for (const env of existing.idle) void env.terminate();
        existing.live -= existing.idle.length;
        existing.idle = [];
        return;
      }
      states.set(fn.name, { fn, generation: 0, idle: [], live: 0, waiters: [], warming: 0 });
    },

    functions() {
      return [...states.values()].map((state) => state.fn);
    },

    invocations(filter: InvocationFilter = {}) {
      const matching = records.filter(
        (entry) =>
          (filter.functionName === undefined || entry.functionName === filter.functionName) &&
          (filter.source === undefined || entry.source === filter.source) &&
          (filter.ok === undefined || entry.ok === filter.ok),
      );
      return matching.reverse().slice(0, filter.limit ?? matching.length);
    },

    onInvocation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    idle() {
      if (asyncInFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      for (const state of states.values()) {
        for (const waiter of state.waiters.splice(0)) waiter(undefined);
        state.idle = [];
        state.live = 0;
      }
      // Busy environments too: their calls end now as Runtime.ExitError.
      await Promise.all([...environments].map((env) => env.terminate()));
      // Nothing queued will run any more: whoever waits for idle() may go on.
      asyncInFlight = 0;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    },
  };
}
