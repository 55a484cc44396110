import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { logger } from "../observability";
import { notImplemented } from "./http";

/** JWT-authorized route; its behaviour arrives with the identities issue. */
export async function handler(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  logger.info("route called", { routeKey: event.routeKey });
  return notImplemented();
}
