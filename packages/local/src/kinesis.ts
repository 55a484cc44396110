import { PERSIST_INTERVAL_MS, startMockWithRetry } from "./edge/kinesis-mock";
import {
  type Admin,
  adminRequest,
  KinesisCallError,
  type KinesisRecordView,
  readAllRecords,
} from "./edge/kinesis-records";
import { SnapshotKeeper } from "./edge/kinesis-snapshots";
import type { LocalService, ServiceResponse } from "./types";

export type { KinesisRecordView } from "./edge/kinesis-records";

const TARGET_PREFIX = "Kinesis_20131202.";

export interface KinesisOptions {
  /** Directory for the persisted state; in memory when undefined. */
  dataDir?: string;
  region: string;
}

/** How long a persistent write may wait for the snapshot before it is refused (retryable). */
const DURABLE_ACK_TIMEOUT_MS = 5_000;

export interface KinesisService extends LocalService {
  readonly name: "kinesis";
  /**
   * True once every write acknowledged so far is in the durable snapshot (always true in memory).
   * Persistent mode answers a write only once it is durable, so a kill -9 loses no acknowledged
   * write (an unanswered one may or may not have landed, as with any AWS call).
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
 * the wrong moment leaves an empty file. It therefore writes into `live/`, and `SnapshotKeeper`
 * copies each complete (parseable) version atomically to `<dataDir>/kinesis-data.json`, which is
 * what a restart loads.
 */
export async function startKinesis(options: KinesisOptions): Promise<KinesisService> {
  const persistence = options.dataDir ? new SnapshotKeeper(options.dataDir) : undefined;
  await persistence?.prepare();
  let mock = await startMockWithRetry(options.region, persistence?.liveDir);
  let lastMutationAckAt = 0;

  /** Waits (bounded) until the durable snapshot covers writes applied at `appliedAt`. */
  const durableSince = async (appliedAt: number, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (persistence && persistence.durableThrough <= appliedAt) {
      if (Date.now() > deadline) return false;
      await persistence.capture();
      if (persistence.durableThrough > appliedAt) break;
      await sleep(PERSIST_INTERVAL_MS / 8);
    }
    return true;
  };

  const admin = (operation: string, input: unknown) =>
    mock.upstream.forward(adminRequest(operation, input, options.region));

  const service: KinesisService = {
    name: "kinesis",

    async handle(request) {
      const response = await mock.upstream.forward(request);
      const operation = (request.headers["x-amz-target"] ?? "").slice(TARGET_PREFIX.length);
      if (response.status === 200 && !/^(Describe|List|Get)/.test(operation)) {
        const appliedAt = Date.now();
        lastMutationAckAt = appliedAt;
        // Persistent mode acknowledges a write only once the durable snapshot holds it, so a
        // kill -9 never loses an acknowledged record (it costs up to a persist period or two of
        // latency; in memory there is nothing to wait for).
        if (persistence && !(await durableSince(appliedAt, DURABLE_ACK_TIMEOUT_MS))) {
          return jsonResponse(500, {
            __type: "InternalFailure",
            message: "The write could not be made durable in time; retry it.",
          });
        }
      }
      return response;
    },

    isDurable() {
      if (!persistence || lastMutationAckAt === 0) return true; // nothing acknowledged to lose
      return persistence.durableThrough > lastMutationAckAt;
    },

    async waitUntilDurable(timeoutMs = 5_000) {
      if (lastMutationAckAt === 0) return true;
      return durableSince(lastMutationAckAt, timeoutMs);
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

function jsonResponse(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function controlNotFound(path: string): ServiceResponse {
  return jsonResponse(404, { __type: "NotFound", message: `No kinesis control route ${path}` });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
