import type { ServiceRequest, ServiceResponse } from "../types";
import { LocalAwsError } from "./errors";

const JSON_1_1 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "Kinesis_20131202.";

export interface KinesisRecordView {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  approximateArrivalTimestamp: number;
  /** The payload as text when it is printable UTF-8, else null. */
  data: string | null;
  dataBase64: string;
}

export type Admin = (operation: string, input: unknown) => Promise<ServiceResponse>;

/** An error answer of kinesis-mock to one of the control API's own calls, kept AWS-shaped. */
export class KinesisCallError extends LocalAwsError {
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
export async function readAllRecords(admin: Admin, stream: string): Promise<KinesisRecordView[]> {
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
export function adminRequest(operation: string, input: unknown, region: string): ServiceRequest {
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
