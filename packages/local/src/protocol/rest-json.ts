/**
 * AWS restJson1 (IoT's control plane): operations bound to HTTP methods and paths, JSON bodies.
 * An error carries its code in the `x-amzn-ErrorType` header, which is where the SDK looks first,
 * and a body of `message` plus the members the error's model adds (`resourceId`, `resourceArn`).
 */
import type { ServiceResponse } from "../types";
import type { AwsServiceError } from "./errors";

const REST_JSON_CONTENT_TYPE = "application/json";

export function restJsonErrorResponse(error: AwsServiceError, requestId: string): ServiceResponse {
  return {
    status: error.status,
    headers: {
      "content-type": REST_JSON_CONTENT_TYPE,
      "x-amzn-errortype": error.code,
      "x-amzn-requestid": requestId,
    },
    body: JSON.stringify({ message: error.message, ...error.fields }),
  };
}
