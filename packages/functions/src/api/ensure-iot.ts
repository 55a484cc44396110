import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { eventSource } from "@boarding-pass/core/events";
import { type EnsureIotDeps, ensureCallerIot } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger, traced } from "../observability";
import { ensureIotConfig } from "./config";
import { callerOf, errorResponse, json } from "./http";

/** `POST /identity/iot` (IAM): attaches the per-identity IoT policy to the caller's identity id. */
export function createEnsureIotHandler(deps: EnsureIotDeps) {
  return async function ensureIotRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const result = await ensureCallerIot({ caller: callerOf(event) }, deps);
      logger.info("iot policy ensured", { newlyLinked: result.newlyLinked });
      return json(200, result);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function ensureIotDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): EnsureIotDeps {
  const config = ensureIotConfig(env);
  const dynamo = traced(createDynamoDbDocumentClient());
  return {
    graph: new DynamoIdentityGraph(dynamo, config.tableName),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    iot: new IotClientPolicyAttachments(traced(createIotClient())),
    identityPoolId: config.identityPoolId,
    iotPolicyName: config.iotPolicyName,
    source: eventSource(config.stage, "ensure-iot"),
    now: () => new Date(),
  };
}

let route: ReturnType<typeof createEnsureIotHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  route ??= createEnsureIotHandler(ensureIotDepsFromEnvironment());
  return route(event);
};
