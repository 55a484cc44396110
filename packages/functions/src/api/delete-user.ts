import { createCognitoClient } from "@boarding-pass/core/adapters/cognito-admin";
import { createDynamoDbDocumentClient } from "@boarding-pass/core/adapters/dynamodb";
import { CognitoUserAccounts } from "@boarding-pass/core/adapters/identities/cognito-user-accounts";
import { DynamoIdentityGraph } from "@boarding-pass/core/adapters/identities/dynamodb-identity-graph";
import { DynamoUserDeletionStore } from "@boarding-pass/core/adapters/identities/dynamodb-user-deletion";
import {
  createIotClient,
  IotClientPolicyAttachments,
} from "@boarding-pass/core/adapters/identities/iot-policy-attachments";
import { DynamoProfileStore } from "@boarding-pass/core/adapters/profile-store";
import { eventSource } from "@boarding-pass/core/events";
import { type DeleteUserDeps, deleteUser } from "@boarding-pass/core/identities/index";
import * as z from "@boarding-pass/core/zod";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from "aws-lambda";
import { logger, traced } from "../observability";
import { deleteUserConfig } from "./config";
import { outboxEventSink } from "./event-sink";
import { errorResponse, HttpError, json } from "./http";

/**
 * Account deletion (ADR 0007). Cognito has no deletion trigger, so apps delete accounts here, not
 * with Cognito's own `DeleteUser` (which would leave IoT policies attached and the profile behind):
 *
 * - `DELETE /identity/me` (user-pool JWT authorizer): the signed-in user deletes their own
 *   account. Only an **access** token is accepted (`token_use: access`), as Cognito's own
 *   self-service deletion requires; the user is the token's `sub`, never the request's.
 * - `DELETE /admin/users/{sub}` (IAM): only the admin role's policy allows invoking it
 *   (stacks/Api.ts), like `GET /admin/users/{sub}`.
 *
 * Both answer 200 with what happened (`deleted`, or `already-deleted` on a retry), 404 for an
 * unknown user. Safe to retry after any failure (`deleteUser` resumes).
 */

const Sub = z.uuid();

function run(sub: string, deps: DeleteUserDeps, who: "self" | "admin") {
  return deleteUser({ sub }, deps).then((result) => {
    logger.info("user deleted", {
      by: who,
      outcome: result.outcome,
      identitiesReleased: result.released.length,
      eventPublished: result.event.published,
    });
    return json(200, result);
  });
}

export function createDeleteMeHandler(deps: DeleteUserDeps) {
  return async function deleteMeRoute(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
    try {
      const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
      const sub = Sub.safeParse(claims.sub);
      if (!sub.success) throw new HttpError(401, "Unauthorized", "No user in the token.");
      if (claims.token_use !== "access") {
        throw new HttpError(403, "Forbidden", "Delete your account with your access token.");
      }
      return await run(sub.data, deps, "self");
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function createAdminDeleteUserHandler(deps: DeleteUserDeps) {
  return async function adminDeleteUserRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const sub = Sub.safeParse(event.pathParameters?.sub);
      if (!sub.success) throw new HttpError(400, "MalformedPath", "`sub` must be a UUID.");
      return await run(sub.data, deps, "admin");
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function deleteUserDepsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  component = "delete-user",
): DeleteUserDeps {
  const config = deleteUserConfig(env);
  const dynamo = traced(createDynamoDbDocumentClient());
  return {
    graph: new DynamoIdentityGraph(dynamo, config.tableName),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    accounts: new CognitoUserAccounts(traced(createCognitoClient()), config.userPoolId),
    events: outboxEventSink(dynamo, config),
    iot: new IotClientPolicyAttachments(traced(createIotClient())),
    iotPolicyName: config.iotPolicyName,
    defaultTenant: config.defaultTenant,
    source: eventSource(config.stage, component),
    now: () => new Date(),
  };
}
