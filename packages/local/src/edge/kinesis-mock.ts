/**
 * Runs kinesis-mock (the `kinesis-local` build for Node) in a worker thread of this process: it
 * dies with the process, so a kill -9 leaves no orphan holding a port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { EmulatorStartError } from "./errors";
import { findFreePorts } from "./ports";
import { LoopbackUpstream } from "./upstream";

/** kinesis-mock rewrites its whole state file on this period; lower = less lost on kill -9. */
export const PERSIST_INTERVAL_MS = 200;
const READY_TIMEOUT_MS = 30_000;

export interface RunningMock {
  upstream: LoopbackUpstream;
  stop(): Promise<void>;
}

function kinesisMockPaths() {
  const require = createRequire(import.meta.url);
  const main = require.resolve("kinesis-local/main.js");
  const { version } = require("kinesis-local/package.json") as { version: string };
  return {
    main,
    certificate: join(dirname(main), "server.json"),
    // Under node_modules/.cache (owned by whoever installed the project), not a shared /tmp where
    // another user could plant bytecode for us to run.
    codeCache: join(
      dirname(main),
      "..",
      ".cache",
      "boarding-pass-local",
      `kinesis-mock-${version}-${process.version}-${process.arch}.v8cache`,
    ),
  };
}

/**
 * Worker entry: runs kinesis-mock's 9 MB bundle through a V8 code cache. Compiling it is about a
 * third of the boot time; the cache is written once the service answers (so it holds the functions
 * compiled during start-up) and is simply rebuilt when V8 rejects it (another Node version).
 */
const WORKER_BOOTSTRAP = `
const { workerData, parentPort, threadId } = require("node:worker_threads");
const fs = require("node:fs");
const vm = require("node:vm");
const Module = require("node:module");
const path = require("node:path");
const { main, codeCache, sockets } = workerData;
// kinesis-mock has no host setting and listens on every interface, answering any web page with
// "Access-Control-Allow-Origin: *". This worker's own copy of net.Server (workers do not share
// built-in module state) puts its ports on Unix sockets in a private directory instead: no TCP
// port for a page to find. It reads back the address it bound, so that keeps naming the port.
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const socketPath = typeof args[0] === "number" ? sockets[String(args[0])] : undefined;
  if (!socketPath) return listen.apply(this, args);
  const port = args[0];
  const callbacks = args.filter((arg) => typeof arg === "function");
  this.address = () => ({ address: "127.0.0.1", family: "IPv4", port });
  // Its connections read their peer's address too, which a Unix socket does not have.
  this.prependListener("connection", (socket) => {
    Object.defineProperties(socket, {
      remoteAddress: { value: "127.0.0.1" },
      remoteFamily: { value: "IPv4" },
      remotePort: { value: 0 },
      localAddress: { value: "127.0.0.1" },
      localPort: { value: port },
    });
  });
  return listen.call(this, socketPath, ...callbacks);
};
const source = fs.readFileSync(main, "utf8").replace(/^#!.*/, "");
let cachedData;
try { cachedData = fs.readFileSync(codeCache); } catch {}
const script = new vm.Script(Module.wrap(source), { filename: main, cachedData });
const needsCache = !cachedData || script.cachedDataRejected;
const module_ = { exports: {} };
script.runInThisContext().call(module_.exports, module_.exports, Module.createRequire(main), module_, main, path.dirname(main));
parentPort.once("message", () => {
  if (!needsCache) return;
  try {
    fs.mkdirSync(path.dirname(codeCache), { recursive: true });
    const temporary = codeCache + "." + process.pid + "-" + threadId + ".tmp";
    fs.writeFileSync(temporary, script.createCachedData());
    fs.renameSync(temporary, codeCache);
  } catch {} // no cache is only slower
});
`;

/** Another process can take a probed port before kinesis-mock binds it: try fresh ports. */
export async function startMockWithRetry(
  region: string,
  liveDir: string | undefined,
): Promise<RunningMock> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMock(region, liveDir);
    } catch (error) {
      const portTaken = error instanceof EmulatorStartError && /EADDRINUSE/.test(error.message);
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

async function startMock(region: string, liveDir: string | undefined): Promise<RunningMock> {
  const { main, certificate, codeCache } = kinesisMockPaths();
  // kinesis-mock reads its ports from the environment; the worker binds them as Unix sockets in a
  // directory mkdtemp makes 0700, so only this user reaches them.
  const [plainPort, tlsPort] = (await findFreePorts(2)) as [number, number];
  const socketDir = mkdtempSync(join(tmpdir(), "bp-kinesis-"));
  const plainSocket = join(socketDir, "plain.sock");
  const sockets = {
    [String(plainPort)]: plainSocket,
    [String(tlsPort)]: join(socketDir, "tls.sock"),
  };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    // It always opens a TLS port too; give it a free one so parallel planes never collide.
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: certificate,
    AWS_REGION: region,
    LOG_LEVEL: "ERROR",
    ROOT_LOG_LEVEL: "ERROR",
    SHOULD_PERSIST_DATA: liveDir ? "true" : "false",
    ...(liveDir
      ? {
          PERSIST_PATH: liveDir,
          PERSIST_INTERVAL: `${PERSIST_INTERVAL_MS}ms`,
          LOAD_DATA_IF_EXISTS: "true",
        }
      : {}),
  };
  // Streams are ACTIVE at once: local tests gain nothing from AWS's provisioning delays.
  for (const name of [
    "CREATE_STREAM_DURATION",
    "DELETE_STREAM_DURATION",
    "REGISTER_STREAM_CONSUMER_DURATION",
    "DEREGISTER_STREAM_CONSUMER_DURATION",
    "START_STREAM_ENCRYPTION_DURATION",
    "STOP_STREAM_ENCRYPTION_DURATION",
    "MERGE_SHARDS_DURATION",
    "SPLIT_SHARD_DURATION",
    "UPDATE_SHARD_COUNT_DURATION",
    "UPDATE_STREAM_MODE_DURATION",
  ]) {
    env[name] = "0ms";
  }

  const worker = new Worker(WORKER_BOOTSTRAP, {
    eval: true,
    env,
    stdout: true,
    stderr: true,
    workerData: { main, codeCache, sockets },
  });
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (output.length > 50) output.shift();
  };
  worker.stdout.on("data", remember);
  worker.stderr.on("data", remember);

  let exited: Error | undefined;
  let ready = false;
  let stopping = false;
  const exitedPromise = new Promise<void>((resolve) => {
    worker.once("error", (error) => {
      exited = error;
    });
    worker.once("exit", (code) => {
      exited ??= new Error(`kinesis-mock exited with code ${code}`);
      if (ready && !stopping) {
        // Requests will now fail with UpstreamUnavailable; say why once, where a developer looks.
        console.error("[local-aws] kinesis-mock stopped unexpectedly", exited, output.join(""));
      }
      resolve();
    });
  });

  const upstream = new LoopbackUpstream({ socketPath: plainSocket });
  const removeSockets = () => rmSync(socketDir, { recursive: true, force: true });
  const stop = async () => {
    stopping = true;
    upstream.close();
    await worker.terminate();
    await exitedPromise;
    removeSockets();
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      removeSockets();
      throw new EmulatorStartError(
        `kinesis-mock failed to start: ${exited.message}\n${output.join("").slice(-2000)}`,
        {
          cause: exited,
        },
      );
    }
    if (await isHealthy(plainSocket)) {
      ready = true;
      worker.postMessage("ready");
      break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new EmulatorStartError(`kinesis-mock not ready after ${READY_TIMEOUT_MS} ms`);
    }
    await sleep(15);
  }
  return { upstream, stop };
}

function isHealthy(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request({ socketPath, path: "/healthcheck", timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    probe.once("timeout", () => probe.destroy());
    probe.once("error", () => resolve(false));
    probe.end();
  });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
