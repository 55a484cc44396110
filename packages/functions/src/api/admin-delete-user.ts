import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { createAdminDeleteUserHandler, deleteUserDepsFromEnvironment } from "./delete-user";

let route: ReturnType<typeof createAdminDeleteUserHandler> | undefined;

/** `DELETE /admin/users/{sub}` (IAM, admin role only): see delete-user.ts and ADR 0007. */
export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  route ??= createAdminDeleteUserHandler(
    deleteUserDepsFromEnvironment(process.env, "admin-delete-user"),
  );
  return route(event);
};
