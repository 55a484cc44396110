import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { createDeleteMeHandler, deleteMeDepsFromEnvironment } from "./delete-user";

let route: ReturnType<typeof createDeleteMeHandler> | undefined;

/** `DELETE /identity/me` (user-pool JWT, access token): see delete-user.ts and ADR 0007. */
export const handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
  route ??= createDeleteMeHandler(deleteMeDepsFromEnvironment(process.env));
  return route(event);
};
