import { UserSub } from "@boarding-pass/contracts/routes";
import type { ProfileReader } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { json } from "../../kit/http";
import { route } from "../../kit/route";

/**
 * `GET /profile` (user-pool JWT authorizer): the signed-in user's own profile, keyed on the
 * verified token's `sub` claim (API Gateway checked signature, issuer, audience and expiry).
 */
export function createGetProfileHandler(deps: { profiles: ProfileReader }) {
  return route(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
    const sub = UserSub.safeParse(event.requestContext.authorizer?.jwt?.claims?.sub);
    if (!sub.success) return json(401, { error: "Unauthorized", message: "No user in the token." });
    const profile = await deps.profiles.get(sub.data);
    if (profile === null) {
      return json(404, { error: "NotFound", message: "Your profile is not ready yet." });
    }
    return json(200, { profile });
  });
}
