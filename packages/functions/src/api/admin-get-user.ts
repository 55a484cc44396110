import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { adminRoutesConfig } from "./config";
import { createAdminGetUserHandler } from "./handlers/admin-get-user";

/** `GET /admin/users/{sub}` (IAM, admin role only): see handlers/admin-get-user.ts. */
const config = adminRoutesConfig();
const dynamo = traced(createDynamoDbDocumentClient());

export const handler = createAdminGetUserHandler({
  graph: new DynamoIdentityGraph(dynamo, config.tableName),
  profiles: new DynamoProfileStore(dynamo, config.tableName),
  adminRoleArn: config.adminRoleArn,
});

await primeAtInit(() => primeDocumentClient(dynamo));
