import {
  createDynamoDbDocumentClient,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import type { ProfileReader } from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { parseEnvironment } from "../config";
import { traced } from "../observability";
import { errorResponse, json } from "./http";

/**
 * `GET /profile` (user-pool JWT authorizer): the signed-in user's own profile, keyed on the
 * verified token's `sub` claim (API Gateway checked signature, issuer, audience and expiry).
 */
export function createGetProfileHandler(deps: { profiles: ProfileReader }) {
  return async function getProfileRoute(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
    try {
      const sub = z.uuid().safeParse(event.requestContext.authorizer?.jwt?.claims?.sub);
      if (!sub.success)
        return json(401, { error: "Unauthorized", message: "No user in the token." });
      const profile = await deps.profiles.get(sub.data);
      if (profile === null) {
        return json(404, { error: "NotFound", message: "Your profile is not ready yet." });
      }
      return json(200, { profile });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

let route: ReturnType<typeof createGetProfileHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  if (route === undefined) {
    const { TABLE_NAME } = parseEnvironment({
      TABLE_NAME: z.string().check(z.minLength(1, "is required")),
    });
    route = createGetProfileHandler({
      profiles: new DynamoProfileStore(traced(createDynamoDbDocumentClient()), TABLE_NAME),
    });
  }
  return route(event);
};
