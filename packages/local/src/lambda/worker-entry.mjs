/**
 * One Lambda execution environment, inside a worker thread started by `execution-environment.ts`.
 * Plain JavaScript on purpose: Node starts it without a TypeScript loader, under vitest, tsx or
 * a plain `node`. The protocol (all messages on parentPort, in order):
 *   worker → { type: "ready", initDurationMs } | { type: "init-error", errorType, errorMessage }
 *   main   → { type: "invoke", requestId, event (JSON text), deadline (epoch ms), invokedFunctionArn,
 *              traceHeader }
 *   worker → { type: "log", requestId, stream, level?, text, time }*  then
 *            { type: "result", requestId, ok, payload (JSON text) | errorType, errorMessage, trace, heapUsedMb }
 *   worker → { type: "crash", requestId, errorType, errorMessage } just before it exits.
 * Logs and the result share the port, so every line of a call arrives before its result.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";

const { handlerFile, exportPath, handler: handlerName, functionName, memoryMb } = workerData;
const { logGroupName, logStreamName } = workerData;

/** The call in progress; output between calls is attributed to the last one, as in CloudWatch. */
let current;
let lastRequestId = null;

const post = (message) => parentPort.postMessage(message);
const emit = (stream, level, text) =>
  post({
    type: "log",
    requestId: current?.requestId ?? lastRequestId,
    stream,
    level,
    text,
    time: Date.now(),
  });

// Capture before the handler module loads, so loggers that keep a reference to process.stdout
// (Powertools builds its own Console on it) are captured too.
const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };
for (const [method, level] of Object.entries(levels)) {
  console[method] = (...args) => emit("console", level, format(...args));
}
console.trace = (...args) => {
  const stack = new Error(format(...args)).stack ?? "";
  emit("console", "TRACE", stack.replace(/^Error/, "Trace").replace(/\n.*worker-entry.*$/m, ""));
};
for (const name of ["stdout", "stderr"]) {
  process[name].write = (chunk, encoding, callback) => {
    const done = typeof encoding === "function" ? encoding : callback;
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    emit(name, undefined, text.replace(/\n$/, ""));
    if (typeof done === "function") process.nextTick(done);
    return true;
  };
}

// process.exit already ends only this thread; a signal to our own pid would end the whole plane.
const kill = process.kill.bind(process);
process.kill = (pid, signal) => {
  if (pid === process.pid || pid === 0 || pid === -process.pid) process.exit(137);
  return kill(pid, signal);
};

function describe(error) {
  if (error instanceof Error) {
    const errorType =
      error.name && error.name !== "Error" ? error.name : (error.constructor?.name ?? "Error");
    return {
      errorType,
      errorMessage: error.message,
      trace: (error.stack ?? "")
        .split("\n")
        .slice(1, 30)
        .map((line) => line.trim()),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// Lambda's Node runtime reports these and then exits the environment; so do we.
function crash(errorType, errorMessage, code) {
  post({ type: "crash", requestId: current?.requestId ?? null, errorType, errorMessage });
  process.exit(code);
}
process.on("unhandledRejection", (reason) => {
  const { errorType, errorMessage } = describe(reason);
  crash("Runtime.UnhandledPromiseRejection", `${errorType}: ${errorMessage}`, 128);
});
process.on("uncaughtException", (error) => {
  const { errorType, errorMessage } = describe(error);
  crash(errorType, errorMessage, 129);
});

if ((process.env.NODE_OPTIONS ?? "").includes("--enable-source-maps")) {
  process.setSourceMapsEnabled?.(true);
}

function exported(module, path) {
  let value = module;
  for (const key of path) value = value?.[key];
  return value;
}

async function load() {
  const started = performance.now();
  let module;
  try {
    module = await import(pathToFileURL(handlerFile).href);
  } catch (error) {
    const { errorType, errorMessage } = describe(error);
    const type =
      errorType === "SyntaxError"
        ? "Runtime.UserCodeSyntaxError"
        : error?.code === "ERR_MODULE_NOT_FOUND"
          ? "Runtime.ImportModuleError"
          : errorType;
    // Lambda prefixes the original error type only when it reports one of its own types.
    const message = type === errorType ? errorMessage : `${errorType}: ${errorMessage}`;
    return { type: "init-error", errorType: type, errorMessage: message };
  }
  // A CommonJS bundle imported as ESM shows its exports on `default` as well.
  const fn = exported(module, exportPath) ?? exported(module.default, exportPath);
  if (typeof fn !== "function") {
    return {
      type: "init-error",
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `${handlerName} is undefined or not exported`,
    };
  }
  handler = fn;
  return { type: "ready", initDurationMs: performance.now() - started };
}

let handler;

/** Async handlers resolve; callback handlers call back (the first outcome wins, as in Lambda). */
function run(event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const succeed = (value) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    const fail = (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    const settle = (error, value) => (error == null ? succeed(value) : fail(error));
    // Lambda answers a callback only once the event loop is empty, unless the handler set
    // callbackWaitsForEmptyEventLoop = false; a loop that never empties times the call out.
    const callback = (error, value) =>
      context.callbackWaitsForEmptyEventLoop
        ? whenEventLoopEmpty(() => settle(error, value))
        : settle(error, value);
    context.done = settle;
    context.succeed = succeed;
    context.fail = (error) => fail(error ?? new Error("handled"));
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      fail(error);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then(succeed, (error) => fail(error ?? new Error("Promise rejected")));
    }
    // Otherwise wait for the callback, and time out without one, like Lambda.
  });
}

/**
 * Polls, on an unref'd timer (which does not count itself), until nothing but the message ports
 * to the runtime keeps the loop alive. Free keep-alive sockets are unref'd and do not count.
 */
function whenEventLoopEmpty(then) {
  const check = () => {
    const busy = process.getActiveResourcesInfo().filter((type) => type !== "MessagePort");
    if (busy.length === 0) then();
    else setTimeout(check, 5).unref();
  };
  setTimeout(check, 0).unref();
}

/**
 * Lambda's per-invocation X-Ray header (`Root=1-<epoch s, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0`):
 * tracing libraries (Powertools Tracer, aws-xray-sdk) read it on every call and log "Missing AWS
 * Lambda trace data" without it. The runtime sends one with each call (sampled for functions with
 * active tracing, see trace.ts); this unsampled one is the fallback for a call that has none.
 */
function unsampledTraceHeader() {
  const epoch = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, "0");
  const root = `1-${epoch}-${randomBytes(12).toString("hex")}`;
  return `Root=${root};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

async function invoke({ requestId, event, deadline, invokedFunctionArn, traceHeader }) {
  current = { requestId };
  lastRequestId = requestId;
  process.env._X_AMZN_TRACE_ID =
    typeof traceHeader === "string" ? traceHeader : unsampledTraceHeader();
  const context = {
    awsRequestId: requestId,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn,
    memoryLimitInMB: String(memoryMb),
    logGroupName,
    logStreamName,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let outcome;
  try {
    const value = await run(JSON.parse(event), context);
    try {
      outcome = { ok: true, payload: JSON.stringify(value ?? null) };
    } catch (error) {
      outcome = { ok: false, errorType: "Runtime.MarshalError", ...rest(describe(error)) };
    }
  } catch (error) {
    const described = describe(error);
    emit(
      "console",
      "ERROR",
      `Invoke Error \t${JSON.stringify({ errorType: described.errorType, errorMessage: described.errorMessage, stack: described.trace })}`,
    );
    outcome = { ok: false, ...described };
  }
  current = undefined;
  const heapUsedMb = Math.ceil(getHeapStatistics().used_heap_size / 1048576);
  post({ type: "result", requestId, heapUsedMb, ...outcome });
}

function rest({ errorMessage, trace }) {
  return { errorMessage, trace };
}

const ready = await load();
post(ready);
if (ready.type === "ready") {
  parentPort.on("message", (message) => {
    if (message?.type === "invoke") void invoke(message);
  });
} else {
  process.exit(1);
}
