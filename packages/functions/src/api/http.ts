import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** JSON responses in one shape for every route. */
export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export const notImplemented = () =>
  json(501, { error: "NotImplemented", message: "This route is not available yet." });
