/**
 * AWS JSON 1.0 and 1.1 (DynamoDB, SQS, Kinesis, KMS, the two Cognito APIs): a POST naming its
 * operation in `X-Amz-Target`, JSON in and out. An error is a JSON body
 * `{"__type": <code>, "message": <text>}` with a 4xx/5xx status; the SDK takes the exception class
 * from `x-amzn-ErrorType` when present, else from `__type` (dropping any `namespace#` prefix).
 *
 * Services differ in the headers they send beside that body, and the SDK's users can see them, so
 * each service names its own `JsonErrorDialect`.
 */
import type { ServiceResponse } from "../types";
import type { AwsServiceError } from "./errors";

export const JSON_1_0 = "application/x-amz-json-1.0";
export const JSON_1_1 = "application/x-amz-json-1.1";
export type JsonContentType = typeof JSON_1_0 | typeof JSON_1_1;

type JsonErrorHeader =
  /** The code, which the SDK prefers to the body's `__type`. */
  | "x-amzn-errortype"
  /** The message again; not for a service whose messages quote input a header cannot carry. */
  | "x-amzn-errormessage"
  /**
   * awsQueryCompatible services (SQS): `<query code>;Sender|Receiver`, which the SDK prefers to
   * pick the exception class and copies into `error.Code` for code of the query-protocol era.
   */
  | "x-amzn-query-error";

export interface JsonErrorDialect {
  contentType: JsonContentType;
  /** Prefix of `__type`: SQS names its errors by shape id (`com.amazonaws.sqs#QueueDoesNotExist`). */
  typePrefix?: string;
  /** The error headers the service sends, in this order. */
  headers: readonly JsonErrorHeader[];
}

export function jsonErrorResponse(
  error: AwsServiceError,
  dialect: JsonErrorDialect,
): ServiceResponse {
  const headers: Record<string, string> = { "content-type": dialect.contentType };
  for (const header of dialect.headers) {
    if (header === "x-amzn-errortype") headers[header] = error.code;
    else if (header === "x-amzn-errormessage") headers[header] = error.message;
    else {
      const fault = error.fault === "server" ? "Receiver" : "Sender";
      headers[header] = `${error.queryCode ?? error.code};${fault}`;
    }
  }
  return {
    status: error.status,
    headers,
    body: JSON.stringify({
      __type: `${dialect.typePrefix ?? ""}${error.code}`,
      message: error.message,
      ...error.fields,
    }),
  };
}
