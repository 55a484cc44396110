import {
  createDynamoDbDocumentClient,
  DynamoProfileStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { getProfileConfig } from "./config";
import { createGetProfileHandler } from "./handlers/get-profile";

/** `GET /profile` (user-pool JWT): see handlers/get-profile.ts. */
const config = getProfileConfig();
const dynamo = traced(createDynamoDbDocumentClient());

export const handler = createGetProfileHandler({
  profiles: new DynamoProfileStore(dynamo, config.tableName),
});

await primeAtInit(() => primeDocumentClient(dynamo));
