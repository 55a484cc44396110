import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { adminDeleteUserDepsFromEnvironment, createAdminDeleteUserHandler } from "./delete-user";

let route: ReturnType<typeof createAdminDeleteUserHandler> | undefined;

/** `DELETE /admin/users/{sub}` (IAM, admin role only, checked again by the handler): see delete-user.ts and ADR 0007. */
export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  route ??= createAdminDeleteUserHandler(adminDeleteUserDepsFromEnvironment(process.env));
  return route(event);
};
