import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger } from "../observability";
import { notImplemented } from "./http";

/** IAM-authorized route; its behaviour arrives with the identities issue. */
export async function handler(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
  logger.info("route called", { routeKey: event.routeKey });
  return notImplemented();
}
