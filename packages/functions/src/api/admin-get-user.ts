import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { describeUser, type IdentityGraph, type ProfileReader } from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger, traced } from "../observability";
import { adminActorOf, logAdminAction } from "./admin-caller";
import { adminRoutesConfig } from "./config";
import { errorResponse, HttpError, json } from "./http";

/**
 * `GET /admin/users/{sub}` (IAM): a user's profile and identity links. Only the admin role's
 * policy allows `execute-api:Invoke` on this route (stacks/Api.ts), and the handler checks the
 * caller's session is of the admin role too (`adminActorOf`): a stray grant makes nobody an admin.
 */

const Sub = z.uuid();

export function createAdminGetUserHandler(deps: {
  graph: IdentityGraph;
  profiles: ProfileReader;
  adminRoleArn: string;
}) {
  return async function adminGetUserRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const actor = adminActorOf(event, deps.adminRoleArn);
      const sub = Sub.safeParse(event.pathParameters?.sub);
      if (!sub.success) throw new HttpError(400, "MalformedPath", "`sub` must be a UUID.");
      logAdminAction("read-user", actor, { sub: sub.data });
      const user = await describeUser(sub.data, deps);
      logger.info("admin read user", { identities: user.identities.length });
      if (user.profile === null && user.identities.length === 0) {
        return json(404, { error: "NotFound", message: "No such user." });
      }
      return json(200, { sub: sub.data, ...user });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

let route: ReturnType<typeof createAdminGetUserHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  if (route === undefined) {
    const config = adminRoutesConfig();
    const dynamo = traced(createDynamoDbDocumentClient());
    route = createAdminGetUserHandler({
      graph: new DynamoIdentityGraph(dynamo, config.tableName),
      profiles: new DynamoProfileStore(dynamo, config.tableName),
      adminRoleArn: config.adminRoleArn,
    });
  }
  return route(event);
};
