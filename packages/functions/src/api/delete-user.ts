import {
  CognitoLiveSessions,
  CognitoUserAccounts,
  createCognitoClient,
} from "@boarding-pass/core/adapters/cognito-user-pool";
import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { type DeletionActor, eventSource } from "@boarding-pass/core/events";
import {
  type DeleteUserDeps,
  deleteUser,
  type RecentSessionPolicy,
  requireRecentSession,
} from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from "aws-lambda";
import { logger, traced } from "../observability";
import { adminActorOf, logAdminAction } from "./admin-caller";
import { adminRoutesConfig, deleteUserConfig, recentSessionMaxAgeSeconds } from "./config";
import { outboxEventSink } from "./event-sink";
import { errorResponse, HttpError, json } from "./http";

/**
 * Account deletion (ADR 0007). Cognito has no deletion trigger, so apps delete accounts here, not
 * with Cognito's own `DeleteUser` (which would leave IoT policies attached and the profile behind):
 *
 * - `DELETE /identity/me` (user-pool JWT authorizer): the signed-in user deletes their own
 *   account. Only an **access** token is accepted (`token_use: access`), as Cognito's own
 *   self-service deletion requires; the user is the token's `sub`, never the request's. The
 *   session must be recent and live (`requireRecentSession`): API Gateway verifies the JWT
 *   offline, so a signed-out token still reaches us; 401 `ReauthenticationRequired` otherwise.
 * - `DELETE /admin/users/{sub}` (IAM): only the admin role's policy allows invoking it
 *   (stacks/Api.ts), and the handler checks the caller's session is of the admin role too.
 *
 * Both answer 200 with what happened (`deleted`, or `already-deleted` on a retry), 404 for an
 * unknown user. Safe to retry after any failure (`deleteUser` resumes); a retry of the user's own
 * deletion after the Cognito user is gone is answered from the deletion record, since the pool no
 * longer knows the session.
 */

const Sub = z.uuid();

function run(sub: string, deps: DeleteUserDeps, actor: DeletionActor) {
  return deleteUser({ sub, actor }, deps).then((result) => {
    logger.info("user deleted", {
      by: actor.kind,
      outcome: result.outcome,
      identitiesReleased: result.released.length,
      eventPublished: result.event.published,
    });
    return json(200, result);
  });
}

/** The token the JWT authorizer verified: its identity source, `Authorization: Bearer <token>`. */
function bearerToken(event: APIGatewayProxyEventV2WithJWTAuthorizer): string {
  const header = event.headers?.authorization ?? event.headers?.Authorization ?? "";
  const token = header.replace(/^Bearer\s+/i, "").trim();
  if (token === "") throw new HttpError(401, "Unauthorized", "No access token.");
  return token;
}

export function createDeleteMeHandler(deps: DeleteUserDeps & { session: RecentSessionPolicy }) {
  return async function deleteMeRoute(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
    try {
      const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
      const sub = Sub.safeParse(claims.sub);
      if (!sub.success) throw new HttpError(401, "Unauthorized", "No user in the token.");
      if (claims.token_use !== "access") {
        throw new HttpError(403, "Forbidden", "Delete your account with your access token.");
      }
      // A deletion already started was asked for by a recent, live session; its retry must resume
      // even once the Cognito user is gone (the pool then refuses every token of theirs).
      const started = (await deps.deletions.get(sub.data)) !== null;
      if (!started) {
        await requireRecentSession(
          { accessToken: bearerToken(event), sub: sub.data, authTime: claims.auth_time },
          deps.session,
        );
      }
      return await run(sub.data, deps, { kind: "self", sub: sub.data });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function createAdminDeleteUserHandler(deps: DeleteUserDeps & { adminRoleArn: string }) {
  return async function adminDeleteUserRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const actor = adminActorOf(event, deps.adminRoleArn);
      const sub = Sub.safeParse(event.pathParameters?.sub);
      if (!sub.success) throw new HttpError(400, "MalformedPath", "`sub` must be a UUID.");
      logAdminAction("delete-user", actor, { sub: sub.data });
      return await run(sub.data, deps, actor);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/** `DELETE /identity/me`: the deletion, and the recent-session check over the user pool. */
export function deleteMeDepsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): DeleteUserDeps & { session: RecentSessionPolicy } {
  const deps = deleteUserDepsFromEnvironment(env, "delete-me");
  return {
    ...deps,
    session: {
      sessions: new CognitoLiveSessions(cognito()),
      maxAgeSeconds: recentSessionMaxAgeSeconds(env),
      now: () => new Date(),
    },
  };
}

/** `DELETE /admin/users/{sub}`: the deletion, for callers of the admin role only. */
export function adminDeleteUserDepsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): DeleteUserDeps & { adminRoleArn: string } {
  return {
    ...deleteUserDepsFromEnvironment(env, "admin-delete-user"),
    adminRoleArn: adminRoutesConfig(env).adminRoleArn,
  };
}

let cognitoClient: ReturnType<typeof createCognitoClient> | undefined;
const cognito = () => {
  cognitoClient ??= traced(createCognitoClient());
  return cognitoClient;
};

function deleteUserDepsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  component = "delete-user",
): DeleteUserDeps {
  const config = deleteUserConfig(env);
  const dynamo = traced(createDynamoDbDocumentClient());
  return {
    graph: new DynamoIdentityGraph(dynamo, config.tableName),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    accounts: new CognitoUserAccounts(cognito(), config.userPoolId),
    ...outboxEventSink(dynamo, config),
    iot: new IotClientPolicyAttachments(traced(createIotClient())),
    iotPolicyName: config.iotPolicyName,
    defaultTenant: config.defaultTenant,
    source: eventSource(config.stage, component),
    now: () => new Date(),
  };
}
