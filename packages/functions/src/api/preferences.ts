import {
  createDynamoDbDocumentClient,
  DynamoIdentityDataStore,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { eventSource } from "@boarding-pass/core/events";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { identityRoutesConfig } from "./config";
import { createPreferencesHandler } from "./handlers/preferences";

/** `GET|PUT /identity/preferences` (IAM; guests and members): see handlers/preferences.ts. */
const config = identityRoutesConfig();
const dynamo = traced(createDynamoDbDocumentClient());

export const handler = createPreferencesHandler({
  data: new DynamoIdentityDataStore(dynamo, config.tableName),
  graph: new DynamoIdentityGraph(dynamo, config.tableName),
  profiles: new DynamoProfileStore(dynamo, config.tableName),
  deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
  identityPoolId: config.identityPoolId,
  source: eventSource(config.stage, "preferences"),
  now: () => new Date(),
});

await primeAtInit(() => primeDocumentClient(dynamo));
