/**
 * SQS's wire protocol as SDK v3 speaks it: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`) with the
 * awsQueryCompatible trait. Errors carry the JSON `__type` (`com.amazonaws.sqs#QueueDoesNotExist`)
 * and, as AWS sends them, an `x-amzn-query-error: <legacy query code>;Sender` header, which the
 * SDK prefers to pick the exception class and fills into `error.Code` for code written against
 * the query-protocol era (`AWS.SimpleQueueService.NonExistentQueue`).
 */
import { AwsServiceError, type Fault } from "../../protocol/errors";
import { JSON_1_0, type JsonErrorDialect } from "../../protocol/json";
import type { ServiceResponse } from "../../types";

const SQS_CONTENT_TYPE = JSON_1_0;
export const SQS_TARGET_PREFIX = "AmazonSQS";

/** Modeled errors whose legacy query code differs from their name (from the SQS model). */
const QUERY_CODES: Readonly<Record<string, string>> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  QueueNameExists: "QueueAlreadyExists",
  BatchEntryIdsNotDistinct: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
  BatchRequestTooLong: "AWS.SimpleQueueService.BatchRequestTooLong",
  EmptyBatchRequest: "AWS.SimpleQueueService.EmptyBatchRequest",
  InvalidBatchEntryId: "AWS.SimpleQueueService.InvalidBatchEntryId",
  TooManyEntriesInBatchRequest: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
  MessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
  PurgeQueueInProgress: "AWS.SimpleQueueService.PurgeQueueInProgress",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
};

const STATUS: Readonly<Record<string, number>> = {
  ReceiptHandleIsInvalid: 404,
  PurgeQueueInProgress: 403,
  OverLimit: 403,
};

/** An SQS error: its model's status (400 unless listed, 500 for a server fault), its query code. */
export function sqsError(code: string, message: string, fault: Fault = "client"): AwsServiceError {
  return new AwsServiceError(code, message, {
    status: fault === "server" ? 500 : (STATUS[code] ?? 400),
    fault,
    queryCode: QUERY_CODES[code] ?? code,
  });
}

/** `__type` as a shape id and the legacy code in `x-amzn-query-error`; no `x-amzn-ErrorType`. */
export const SQS_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_0,
  typePrefix: "com.amazonaws.sqs#",
  headers: ["x-amzn-query-error"],
};

export const queueDoesNotExist = () =>
  sqsError("QueueDoesNotExist", "The specified queue does not exist.");

export function invalidParameter(message: string): AwsServiceError {
  return sqsError("InvalidParameterValue", message);
}

export function sqsResponse(body: unknown): ServiceResponse {
  return {
    status: 200,
    headers: { "content-type": SQS_CONTENT_TYPE },
    body: JSON.stringify(body ?? {}),
  };
}

/** The request body as a JSON object; SQS answers malformed JSON as a serialization error. */
export function parseInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw sqsError("SerializationException", "Start of structure or map found where not expected.");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw sqsError("SerializationException", "The request body must be a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

export function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") {
    throw sqsError("MissingParameter", `The request must contain the parameter ${name}.`);
  }
  return value;
}

export function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidParameter(`Value for parameter ${name} is invalid.`);
  return value;
}

/** An integer parameter within [min, max], or undefined when absent. */
export function optionalInt(
  input: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return value;
}

export function stringMap(input: Record<string, unknown>, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalidParameter(`Value for parameter ${name} is invalid.`);
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string")
      throw sqsError("InvalidAttributeValue", `Invalid value for the parameter ${key}.`);
    out[key] = item;
  }
  return out;
}

export function stringList(input: Record<string, unknown>, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw invalidParameter(`Value for parameter ${name} is invalid.`);
  }
  return value as string[];
}

/** Batch entry ids: up to 80 alphanumerics, hyphens and underscores, distinct. */
export function checkBatchIds(entries: Array<Record<string, unknown>>, max = 10): string[] {
  if (entries.length === 0) {
    throw sqsError("EmptyBatchRequest", "There should be at least one entry in the request.");
  }
  if (entries.length > max) {
    throw sqsError(
      "TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are ${max}. You have sent ${entries.length}.`,
    );
  }
  const ids = entries.map((entry) => entry.Id);
  for (const id of ids) {
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw sqsError(
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
      );
    }
  }
  if (new Set(ids).size !== ids.length) {
    throw sqsError(
      "BatchEntryIdsNotDistinct",
      "Two or more batch entries in the request have the same Id.",
    );
  }
  return ids as string[];
}

export function batchEntries(
  input: Record<string, unknown>,
  name: string,
): Array<Record<string, unknown>> {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => !item || typeof item !== "object")) {
    throw invalidParameter(`Value for parameter ${name} is invalid.`);
  }
  return value as Array<Record<string, unknown>>;
}

/**
 * Runs `each` on every batch entry, as the batch operations answer: its result joins
 * `Successful` under the entry's Id, an SQS error becomes a `Failed` entry, anything else throws.
 */
export function batchResults(
  entries: Array<Record<string, unknown>>,
  ids: string[],
  each: (entry: Record<string, unknown>) => object,
): { Successful: unknown[]; Failed: unknown[] } {
  const successful: unknown[] = [];
  const failed: unknown[] = [];
  entries.forEach((entry, index) => {
    const id = ids[index]!;
    try {
      successful.push({ Id: id, ...each(entry) });
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      failed.push({
        Id: id,
        SenderFault: error.fault === "client",
        Code: error.queryCode ?? error.code,
        Message: error.message,
      });
    }
  });
  return { Successful: successful, Failed: failed };
}
