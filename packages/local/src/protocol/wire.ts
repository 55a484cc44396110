/**
 * Which wire protocol each emulated service speaks, and how an error is rendered in it. The edge
 * uses it for the errors it raises itself (unknown route, unregistered service, refused origin,
 * internal failure), so that the SDK of the service a request was for can still parse them.
 */
import type { ServiceName, ServiceResponse } from "../types";
import type { AwsServiceError } from "./errors";
import { JSON_1_0, JSON_1_1, type JsonContentType, jsonErrorResponse } from "./json";
import { queryErrorResponse } from "./query";
import { restJsonErrorResponse } from "./rest-json";

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
const JSON_CONTENT_TYPE: Readonly<Partial<Record<ServiceName, JsonContentType>>> = {
  dynamodb: JSON_1_0,
  sqs: JSON_1_0,
  kinesis: JSON_1_1,
  "cognito-idp": JSON_1_1,
  "cognito-identity": JSON_1_1,
  kms: JSON_1_1,
};

export function isServiceName(value: string): value is ServiceName {
  return Object.hasOwn(SERVICE_PROTOCOLS, value);
}

/**
 * An error in `protocol`, as the edge answers for a service whose own dialect it does not apply:
 * JSON with the code and message in headers and body, in the service's JSON version when known.
 */
export function renderError(
  protocol: WireProtocol,
  error: AwsServiceError,
  requestId: string,
  service?: ServiceName,
): ServiceResponse {
  if (protocol === "query") return queryErrorResponse(error, requestId);
  if (protocol === "rest-json") return restJsonErrorResponse(error, requestId);
  return jsonErrorResponse(error, {
    contentType: (service && JSON_CONTENT_TYPE[service]) ?? JSON_1_1,
    headers: ["x-amzn-errortype", "x-amzn-errormessage"],
  });
}
