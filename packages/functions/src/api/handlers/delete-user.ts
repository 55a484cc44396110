import { type DeleteUserResult, UserSub } from "@boarding-pass/contracts/routes";
import type { DeletionActor } from "@boarding-pass/core/events";
import {
  type DeleteUserDeps,
  deleteUser,
  type RecentSessionPolicy,
  requireRecentSession,
} from "@boarding-pass/core/identity";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from "aws-lambda";
import { HttpError, json } from "../../kit/http";
import { route } from "../../kit/route";
import { logger } from "../../observability";
import { adminActorOf, logAdminAction } from "../admin-caller";

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

async function run(sub: string, deps: DeleteUserDeps, actor: DeletionActor) {
  const result: DeleteUserResult = await deleteUser({ sub, actor }, deps);
  logger.info("user deleted", {
    by: actor.kind,
    outcome: result.outcome,
    identitiesReleased: result.released.length,
    eventPublished: result.event.published,
  });
  return json(200, result);
}

/** The token the JWT authorizer verified: its identity source, `Authorization: Bearer <token>`. */
function bearerToken(event: APIGatewayProxyEventV2WithJWTAuthorizer): string {
  const header = event.headers?.authorization ?? event.headers?.Authorization ?? "";
  const token = header.replace(/^Bearer\s+/i, "").trim();
  if (token === "") throw new HttpError(401, "Unauthorized", "No access token.");
  return token;
}

export function createDeleteMeHandler(deps: DeleteUserDeps & { session: RecentSessionPolicy }) {
  return route(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
    const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
    const sub = UserSub.safeParse(claims.sub);
    if (!sub.success) throw new HttpError(401, "Unauthorized", "No user in the token.");
    if (claims.token_use !== "access") {
      throw new HttpError(403, "Forbidden", "Delete your account with your access token.");
    }
    // A deletion already started was asked for by a recent, live session; its retry must resume
    // even once the Cognito user is gone (the pool then refuses every token of theirs).
    const started = (await deps.deletions.get(sub.data)) !== null;
    if (!started) {
      const session = {
        accessToken: bearerToken(event),
        sub: sub.data,
        authTime: claims.auth_time,
      };
      await requireRecentSession(session, deps.session);
    }
    return run(sub.data, deps, { kind: "self", sub: sub.data });
  });
}

export function createAdminDeleteUserHandler(deps: DeleteUserDeps & { adminRoleArn: string }) {
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const actor = adminActorOf(event, deps.adminRoleArn);
    const sub = UserSub.safeParse(event.pathParameters?.sub);
    if (!sub.success) throw new HttpError(400, "MalformedPath", "`sub` must be a UUID.");
    logAdminAction("delete-user", actor, { sub: sub.data });
    return run(sub.data, deps, actor);
  });
}
