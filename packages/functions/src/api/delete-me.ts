import { CognitoLiveSessions } from "@boarding-pass/core/adapters/cognito-user-pool";
import { primeAtInit } from "../kit/route";
import { deleteMeConfig } from "./config";
import { createDeletionClients, deletionDeps, deletionPrimers } from "./delete-user";
import { createDeleteMeHandler } from "./handlers/delete-user";

/** `DELETE /identity/me` (user-pool JWT, access token): see handlers/delete-user.ts and ADR 0007. */
const config = deleteMeConfig();
const clients = createDeletionClients();

export const handler = createDeleteMeHandler({
  ...deletionDeps(config, clients, "delete-me"),
  session: {
    sessions: new CognitoLiveSessions(clients.cognito),
    maxAgeSeconds: config.recentSessionMaxAgeSeconds,
    now: () => new Date(),
  },
});

await primeAtInit(...deletionPrimers(clients));
