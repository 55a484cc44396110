import type { EnsureIotResult } from "@boarding-pass/contracts/routes";
import { type EnsureIotDeps, ensureCallerIot } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { callerOf, json } from "../../kit/http";
import { route } from "../../kit/route";
import { logger } from "../../observability";

/** `POST /identity/iot` (IAM): attaches the per-identity IoT policy to the caller's identity id. */
export function createEnsureIotHandler(deps: EnsureIotDeps) {
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const result: EnsureIotResult = await ensureCallerIot({ caller: callerOf(event) }, deps);
    logger.info("iot policy ensured", { newlyLinked: result.newlyLinked });
    return json(200, result);
  });
}
