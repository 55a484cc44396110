import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { primeSdkClient } from "@boarding-pass/core/adapters/sdk";
import { eventSource } from "@boarding-pass/core/events";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { ensureIotConfig } from "./config";
import { createEnsureIotHandler } from "./handlers/ensure-iot";

/** `POST /identity/iot` (IAM): see handlers/ensure-iot.ts. */
const config = ensureIotConfig();
const dynamo = traced(createDynamoDbDocumentClient());
const iot = traced(createIotClient());

export const handler = createEnsureIotHandler({
  graph: new DynamoIdentityGraph(dynamo, config.tableName),
  profiles: new DynamoProfileStore(dynamo, config.tableName),
  deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
  iot: new IotClientPolicyAttachments(iot),
  identityPoolId: config.identityPoolId,
  iotPolicyName: config.iotPolicyName,
  source: eventSource(config.stage, "ensure-iot"),
  now: () => new Date(),
});

await primeAtInit(
  () => primeDocumentClient(dynamo),
  () => primeSdkClient(iot),
);
