import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { EmulatorStartError, LocalAwsError } from "./edge/errors";
import { findFreePorts } from "./edge/ports";
import { LoopbackUpstream } from "./edge/upstream";
import type { LocalService, ServiceRequest, ServiceResponse } from "./types";

const JSON_1_1 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "Kinesis_20131202.";
const SNAPSHOT_FILE = "kinesis-data.json";
/** kinesis-mock rewrites its whole state file on this period; lower = less lost on kill -9. */
const PERSIST_INTERVAL_MS = 200;
const READY_TIMEOUT_MS = 30_000;

export interface KinesisOptions {
  /** Directory for the persisted state; in memory when undefined. */
  dataDir?: string;
  region: string;
}

export interface KinesisRecordView {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  approximateArrivalTimestamp: number;
  /** The payload as text when it is printable UTF-8, else null. */
  data: string | null;
  dataBase64: string;
}

export interface KinesisService extends LocalService {
  readonly name: "kinesis";
  /**
   * True once every write acknowledged so far is in the durable snapshot (always true in memory).
   * A kill -9 loses at most the writes of the last ~2 persist periods.
   */
  isDurable(): boolean;
  /** Waits (bounded) until `isDurable()`; graceful stop and tests use it. */
  waitUntilDurable(timeoutMs?: number): Promise<boolean>;
  readRecords(stream: string): Promise<KinesisRecordView[]>;
}

/**
 * Kinesis is kinesis-mock (the `kinesis-local` build for Node) in a worker thread of this process:
 * it dies with the process, so a kill -9 leaves no orphan holding a port. The edge reaches it over
 * its plain-HTTP loopback port.
 *
 * Durability: kinesis-mock truncates and rewrites its state file every persist period, so a kill at
 * the wrong moment leaves an empty file. It therefore writes into `live/`, and this module copies
 * each complete (parseable) version atomically to `<dataDir>/kinesis-data.json`, which is what a
 * restart loads.
 */
export async function startKinesis(options: KinesisOptions): Promise<KinesisService> {
  const persistence = options.dataDir ? new SnapshotKeeper(options.dataDir) : undefined;
  await persistence?.prepare();
  let mock = await startMockWithRetry(options.region, persistence?.liveDir);
  let lastMutationAckAt = 0;

  const admin = (operation: string, input: unknown) =>
    mock.upstream.forward(adminRequest(operation, input, options.region));

  const service: KinesisService = {
    name: "kinesis",

    async handle(request) {
      const response = await mock.upstream.forward(request);
      const operation = (request.headers["x-amz-target"] ?? "").slice(TARGET_PREFIX.length);
      if (response.status === 200 && !/^(Describe|List|Get)/.test(operation)) {
        lastMutationAckAt = Date.now();
      }
      return response;
    },

    isDurable() {
      return !persistence || persistence.durableThrough > lastMutationAckAt;
    },

    async waitUntilDurable(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!service.isDurable() && Date.now() < deadline) {
        await persistence?.capture();
        await sleep(PERSIST_INTERVAL_MS / 4);
      }
      return service.isDurable();
    },

    readRecords(stream) {
      return readAllRecords(admin, stream);
    },

    async control(path, query) {
      if (path !== "records") return controlNotFound(path);
      const stream = query.get("stream");
      if (!stream) {
        return jsonResponse(400, {
          __type: "ValidationException",
          message: "Query parameter `stream` (the stream name) is required",
        });
      }
      const region = query.get("region") ?? options.region;
      const read: Admin = (operation, input) =>
        mock.upstream.forward(adminRequest(operation, input, region));
      try {
        return jsonResponse(200, { stream, records: await readAllRecords(read, stream) });
      } catch (error) {
        if (!(error instanceof KinesisCallError)) throw error;
        // Kinesis says 400 for a missing stream; a REST-style control route says 404.
        const status = error.code === "ResourceNotFoundException" ? 404 : error.status;
        return jsonResponse(status, { __type: error.code, message: error.message });
      }
    },

    async reset() {
      await mock.stop();
      await persistence?.wipe();
      lastMutationAckAt = 0;
      mock = await startMockWithRetry(options.region, persistence?.liveDir);
    },

    async close() {
      if (persistence) {
        await service.waitUntilDurable();
        persistence.stop();
      }
      await mock.stop();
    },
  };
  persistence?.start();
  return service;
}

interface RunningMock {
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
const { main, codeCache } = workerData;
// kinesis-mock has no host setting and listens on every interface; this worker's own copy of
// net.Server (workers do not share built-in module state) is pinned to loopback instead.
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] !== "number") return listen.apply(this, args);
  const rest = typeof args[1] === "string" ? args.slice(2) : args.slice(1);
  return listen.call(this, args[0], "127.0.0.1", ...rest);
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
async function startMockWithRetry(
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
  const [plainPort, tlsPort] = (await findFreePorts(2)) as [number, number];
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
    workerData: { main, codeCache },
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

  const upstream = new LoopbackUpstream("127.0.0.1", plainPort);
  const stop = async () => {
    stopping = true;
    upstream.close();
    await worker.terminate();
    await exitedPromise;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new EmulatorStartError(
        `kinesis-mock failed to start: ${exited.message}\n${output.join("").slice(-2000)}`,
        {
          cause: exited,
        },
      );
    }
    if (await isHealthy(plainPort)) {
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

async function isHealthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthcheck`);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Copies kinesis-mock's state file to a durable snapshot whenever it holds a complete version,
 * and tracks up to when acknowledged writes are covered by it.
 */
class SnapshotKeeper {
  readonly liveDir: string;
  readonly #snapshot: string;
  #lastSeenMtime = 0;
  #lastCopiedMtime = 0;
  #lastCopiedText = "";
  /** Writes acknowledged before this instant are in the snapshot on disk. */
  durableThrough = 0;
  #timer: NodeJS.Timeout | undefined;
  #capturing: Promise<void> | undefined;

  constructor(dataDir: string) {
    this.liveDir = join(dataDir, "live");
    this.#snapshot = join(dataDir, SNAPSHOT_FILE);
  }

  /** Seeds kinesis-mock's live file from the last durable snapshot before it starts. */
  async prepare() {
    await rm(this.liveDir, { recursive: true, force: true });
    await mkdir(this.liveDir, { recursive: true });
    try {
      await copyFile(this.#snapshot, join(this.liveDir, SNAPSHOT_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  start() {
    this.#timer = setInterval(() => void this.capture(), PERSIST_INTERVAL_MS / 2);
    this.#timer.unref();
  }

  stop() {
    clearInterval(this.#timer);
  }

  /** Deletes every persisted version; the copy loop is paused so none is resurrected. */
  async wipe() {
    this.stop();
    await this.#capturing;
    await rm(this.#snapshot, { force: true });
    this.#lastSeenMtime = 0;
    this.#lastCopiedMtime = 0;
    this.#lastCopiedText = "";
    this.durableThrough = 0;
    await this.prepare();
    this.start();
  }

  capture(): Promise<void> {
    this.#capturing ??= this.#captureOnce().finally(() => {
      this.#capturing = undefined;
    });
    return this.#capturing;
  }

  async #captureOnce() {
    const live = join(this.liveDir, SNAPSHOT_FILE);
    let mtime: number;
    try {
      mtime = (await stat(live)).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.#lastSeenMtime) return;
    const text = await readFile(live, "utf8");
    if (text.length === 0) return; // truncated for a rewrite
    // kinesis-mock rewrites the file every period even when nothing changed: skip identical copies.
    if (text !== this.#lastCopiedText) {
      try {
        JSON.parse(text);
      } catch {
        return; // caught mid-rewrite; the next period brings a complete one
      }
      await writeFile(`${this.#snapshot}.tmp`, text);
      await rename(`${this.#snapshot}.tmp`, this.#snapshot);
      this.#lastCopiedText = text;
    }
    this.#lastSeenMtime = mtime;
    // kinesis-mock persists, then sleeps, then serialises again: the version finished at the
    // previous mtime was already complete, so this one holds every write acknowledged before it.
    if (this.#lastCopiedMtime > 0) this.durableThrough = this.#lastCopiedMtime;
    this.#lastCopiedMtime = mtime;
  }
}

type Admin = (operation: string, input: unknown) => Promise<ServiceResponse>;

/** An error answer of kinesis-mock to one of the control API's own calls, kept AWS-shaped. */
class KinesisCallError extends LocalAwsError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

async function call<T>(admin: Admin, operation: string, input: unknown): Promise<T> {
  const response = await admin(operation, input);
  const body = JSON.parse(String(response.body ?? "{}")) as T & {
    __type?: string;
    message?: string;
  };
  if (response.status !== 200) {
    throw new KinesisCallError(
      response.status,
      body.__type ?? "InternalFailure",
      `${operation}: ${body.message ?? response.status}`,
    );
  }
  return body;
}

/** Reads a whole stream, shard by shard from TRIM_HORIZON: the control API's view for tests. */
async function readAllRecords(admin: Admin, stream: string): Promise<KinesisRecordView[]> {
  const shards: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const listed = await call<{ Shards: { ShardId: string }[]; NextToken?: string }>(
      admin,
      "ListShards",
      nextToken ? { NextToken: nextToken } : { StreamName: stream },
    );
    shards.push(...listed.Shards.map((shard) => shard.ShardId));
    nextToken = listed.NextToken;
    if (!nextToken) break;
  }

  const records: KinesisRecordView[] = [];
  for (const shardId of shards) {
    let { ShardIterator: iterator } = await call<{ ShardIterator?: string }>(
      admin,
      "GetShardIterator",
      { StreamName: stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" },
    );
    // Bounded: 1,000 pages of up to 10,000 records per shard is far beyond any local test.
    for (let page = 0; page < 1_000 && iterator; page++) {
      const batch = await call<{
        Records: {
          SequenceNumber: string;
          PartitionKey: string;
          Data: string;
          ApproximateArrivalTimestamp: number;
        }[];
        NextShardIterator?: string;
        MillisBehindLatest?: number;
      }>(admin, "GetRecords", { ShardIterator: iterator, Limit: 10_000 });
      for (const record of batch.Records) {
        records.push({
          shardId,
          sequenceNumber: record.SequenceNumber,
          partitionKey: record.PartitionKey,
          approximateArrivalTimestamp: record.ApproximateArrivalTimestamp,
          data: printableUtf8(Buffer.from(record.Data, "base64")),
          dataBase64: record.Data,
        });
      }
      if (batch.Records.length === 0 && (batch.MillisBehindLatest ?? 0) === 0) break;
      iterator = batch.NextShardIterator;
    }
  }
  return records;
}

function printableUtf8(bytes: Buffer): string | null {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

/** kinesis-mock insists on a SigV4-shaped Authorization header; it never checks signatures. */
function adminRequest(operation: string, input: unknown, region: string): ServiceRequest {
  return {
    method: "POST",
    path: "/",
    query: new URLSearchParams(),
    headers: {
      "content-type": JSON_1_1,
      "x-amz-target": `${TARGET_PREFIX}${operation}`,
      "x-amz-date": "20250101T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=local/20250101/${region}/kinesis/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: Buffer.from(JSON.stringify(input)),
    requestId: "local-admin",
    region,
  };
}

function jsonResponse(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function controlNotFound(path: string): ServiceResponse {
  return jsonResponse(404, { __type: "NotFound", message: `No kinesis control route ${path}` });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
