/**
 * Emulated Amazon Kinesis Data Streams (JSON 1.1, `X-Amz-Target: Kinesis_20131202.<Op>`; the edge
 * speaks HTTP/1.1 and the h2c the SDK's default Kinesis client uses). See
 * docs/adr/0011-our-own-kinesis-on-the-journal.md for why it replaced kinesis-mock.
 *
 * - Streams: CreateStream (PROVISIONED with ShardCount, or ON_DEMAND with four shards), DeleteStream,
 *   DescribeStream, DescribeStreamSummary, ListStreams, ListShards; ACTIVE at once.
 * - Records: PutRecord, PutRecords, GetShardIterator (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER,
 *   AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP; five-minute expiry), GetRecords (ChildShards at the end
 *   of a closed shard).
 * - Resharding: SplitShard, MergeShards, UpdateShardCount (UNIFORM_SCALING).
 * - Settings: Start/StopStreamEncryption (recorded and reported; data is not encrypted),
 *   Increase/DecreaseStreamRetentionPeriod (records past retention are no longer returned).
 *
 * Durability: with a data directory every change is in the fsynced journal
 * (`<dataDir>/kinesis.journal.jsonl`) before it is answered, so a kill -9 loses nothing
 * acknowledged. Not emulated: throughput quotas (no ProvisionedThroughputExceededException),
 * enhanced fan-out consumers and SubscribeToShard, tags, resource policies.
 */
import {
  AwsServiceError,
  answerServiceErrors,
  internalError,
  type ServiceErrorRendering,
} from "../../protocol/errors";
import { JSON_1_1, jsonErrorResponse } from "../../protocol/json";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import { KINESIS_ERRORS, shardId } from "./model";
import type { Body } from "./operations/input";
import { getRecords, getShardIterator, putRecord, putRecords } from "./operations/records";
import { mergeShards, splitShard, updateShardCount } from "./operations/reshard";
import {
  changeRetention,
  createStream,
  deleteStream,
  describeStream,
  describeStreamSummary,
  listShards,
  listStreams,
  type OperationContext,
  startStreamEncryption,
  stopStreamEncryption,
} from "./operations/streams";
import { KinesisState } from "./state";

const CONTENT_TYPE = JSON_1_1;
const TARGET_PREFIX = "Kinesis_20131202.";

interface KinesisOptions {
  /** Directory of the journal; in memory when undefined. */
  dataDir?: string;
  region: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /** Epoch milliseconds; tests move it (iterator expiry, retention). */
  now?: () => number;
}

export interface KinesisRecordView {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** Epoch seconds, as Kinesis answers it. */
  approximateArrivalTimestamp: number;
  /** The payload as text when it is printable UTF-8, else null. */
  data: string | null;
  dataBase64: string;
}

export interface KinesisService extends LocalService {
  readonly name: "kinesis";
  readRecords(stream: string, region?: string): Promise<KinesisRecordView[]>;
}

type Operation = (ctx: OperationContext, body: Body) => unknown;

const OPERATIONS: Record<string, Operation> = {
  CreateStream: createStream,
  DeleteStream: deleteStream,
  DescribeStream: describeStream,
  DescribeStreamSummary: describeStreamSummary,
  ListStreams: listStreams,
  ListShards: listShards,
  PutRecord: putRecord,
  PutRecords: putRecords,
  GetShardIterator: getShardIterator,
  GetRecords: getRecords,
  SplitShard: splitShard,
  MergeShards: mergeShards,
  UpdateShardCount: updateShardCount,
  StartStreamEncryption: startStreamEncryption,
  StopStreamEncryption: stopStreamEncryption,
  IncreaseStreamRetentionPeriod: changeRetention("increase"),
  DecreaseStreamRetentionPeriod: changeRetention("decrease"),
};

export function createKinesisService(options: KinesisOptions): KinesisService {
  const state = new KinesisState(options);
  const now = options.now ?? Date.now;

  function readRecords(stream: string, region = options.region): KinesisRecordView[] {
    const stored = state.get(region, stream);
    state.trim(stored);
    return stored.shards.flatMap((shard) =>
      shard.records.map((record) => ({
        shardId: shardId(shard.index),
        sequenceNumber: record.sequenceNumber,
        partitionKey: record.partitionKey,
        approximateArrivalTimestamp: record.arrivedAt / 1000,
        data: printableUtf8(Buffer.from(record.data, "base64")),
        dataBase64: record.data,
      })),
    );
  }

  return {
    name: "kinesis",

    async handle(request: ServiceRequest): Promise<ServiceResponse> {
      return answerServiceErrors(ERRORS, () => {
        const target = request.headers["x-amz-target"] ?? "";
        const operation = target.startsWith(TARGET_PREFIX)
          ? OPERATIONS[target.slice(TARGET_PREFIX.length)]
          : undefined;
        if (!operation || !Object.hasOwn(OPERATIONS, target.slice(TARGET_PREFIX.length))) {
          throw new AwsServiceError("UnknownOperationException", `Unknown operation ${target}`);
        }
        const result = operation({ state, region: request.region, now }, parseBody(request.body));
        return {
          status: 200,
          headers: { "content-type": CONTENT_TYPE },
          body: result === undefined ? "" : JSON.stringify(result),
        };
      });
    },

    async readRecords(stream, region) {
      return readRecords(stream, region);
    },

    async control(path, query) {
      if (path !== "records") {
        return renderError(
          new AwsServiceError("NotFound", `No kinesis control route ${path}`, { status: 404 }),
        );
      }
      const stream = query.get("stream");
      if (!stream) {
        return renderError(
          new AwsServiceError(
            "ValidationException",
            "Query parameter `stream` (the stream name) is required",
          ),
        );
      }
      try {
        const records = readRecords(stream, query.get("region") ?? options.region);
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ stream, records }),
        };
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        // Kinesis says 400 for a missing stream; a REST-style control route says 404.
        return renderError(
          new AwsServiceError(error.code, error.message, {
            status: error.code === "ResourceNotFoundException" ? 404 : error.status,
          }),
        );
      }
    },

    async reset() {
      state.reset();
    },

    async close() {
      state.close();
    },
  };
}

function parseBody(body: Buffer): Body {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new AwsServiceError(
      "SerializationException",
      `Request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError("SerializationException", "Request body must be a JSON object");
  }
  return parsed as Body;
}

function renderError(error: AwsServiceError): ServiceResponse {
  return jsonErrorResponse(error, KINESIS_ERRORS);
}

const ERRORS: ServiceErrorRendering = {
  render: renderError,
  unexpected: internalError("InternalFailure"),
};

function printableUtf8(bytes: Buffer): string | null {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}
