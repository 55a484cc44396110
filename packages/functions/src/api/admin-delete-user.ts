import { primeAtInit } from "../kit/route";
import { adminDeleteUserConfig } from "./config";
import { createDeletionClients, deletionDeps, deletionPrimers } from "./delete-user";
import { createAdminDeleteUserHandler } from "./handlers/delete-user";

/**
 * `DELETE /admin/users/{sub}` (IAM, admin role only, checked again by the handler): see
 * handlers/delete-user.ts and ADR 0007.
 */
const config = adminDeleteUserConfig();
const clients = createDeletionClients();

export const handler = createAdminDeleteUserHandler({
  ...deletionDeps(config, clients, "admin-delete-user"),
  adminRoleArn: config.adminRoleArn,
});

await primeAtInit(...deletionPrimers(clients));
