import { UserSub } from "@boarding-pass/contracts/routes";
import { describeUser, type IdentityGraph, type ProfileReader } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { HttpError, json } from "../../kit/http";
import { route } from "../../kit/route";
import { logger } from "../../observability";
import { adminActorOf, logAdminAction } from "../admin-caller";

/**
 * `GET /admin/users/{sub}` (IAM): a user's profile and identity links. Only the admin role's
 * policy allows `execute-api:Invoke` on this route (stacks/Api.ts), and the handler checks the
 * caller's session is of the admin role too (`adminActorOf`): a stray grant makes nobody an admin.
 */
export function createAdminGetUserHandler(deps: {
  graph: IdentityGraph;
  profiles: ProfileReader;
  adminRoleArn: string;
}) {
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const actor = adminActorOf(event, deps.adminRoleArn);
    const sub = UserSub.safeParse(event.pathParameters?.sub);
    if (!sub.success) throw new HttpError(400, "MalformedPath", "`sub` must be a UUID.");
    logAdminAction("read-user", actor, { sub: sub.data });
    const user = await describeUser(sub.data, deps);
    logger.info("admin read user", { identities: user.identities.length });
    if (user.profile === null && user.identities.length === 0) {
      return json(404, { error: "NotFound", message: "No such user." });
    }
    return json(200, { sub: sub.data, ...user });
  });
}
