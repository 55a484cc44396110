import type { ServiceName } from "../types";

/**
 * The wire protocol each emulated service speaks. It decides how the edge shapes errors it raises
 * itself (unknown route, unregistered service, internal failure), so that the SDK of that service
 * can parse them into the right exception class.
 */
export type WireProtocol = "json" | "query" | "rest-json";

export const SERVICE_PROTOCOLS: Readonly<Record<ServiceName, WireProtocol>> = {
  dynamodb: "json",
  kinesis: "json",
  "cognito-idp": "json",
  "cognito-identity": "json",
  sns: "query",
  sqs: "json",
  sts: "query",
  iot: "rest-json",
  kms: "json",
  "execute-api": "rest-json",
};

/** JSON protocol content types (JSON 1.0 for DynamoDB and SQS, 1.1 for the others). */
export const JSON_CONTENT_TYPE: Readonly<Partial<Record<ServiceName, string>>> = {
  dynamodb: "application/x-amz-json-1.0",
  sqs: "application/x-amz-json-1.0",
  kinesis: "application/x-amz-json-1.1",
  "cognito-idp": "application/x-amz-json-1.1",
  "cognito-identity": "application/x-amz-json-1.1",
  kms: "application/x-amz-json-1.1",
};

export function isServiceName(value: string): value is ServiceName {
  return Object.hasOwn(SERVICE_PROTOCOLS, value);
}
