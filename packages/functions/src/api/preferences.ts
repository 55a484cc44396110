import {
  createDynamoDbDocumentClient,
  DynamoIdentityDataStore,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { eventSource } from "@boarding-pass/core/events";
import {
  authenticatedCaller,
  type DataCaller,
  getPreferences,
  identifyCaller,
  MAX_DOCUMENT_BYTES,
  type PreferencesDeps,
  putPreferences,
} from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { traced } from "../observability";
import { identityRoutesConfig } from "./config";
import { callerOf, errorResponse, HttpError, json, parseJsonBody } from "./http";

/**
 * `GET|PUT /identity/preferences` (IAM; guests and members): the caller identity's preferences, a
 * small JSON object. A guest's preferences follow it into the user's identity on merge; a write
 * to a merged-away guest gets 409 with `mergedInto`, to an identity whose user was deleted 410
 * `UserDeleted`, and guest credentials of an identity someone has since signed in on 403
 * `NotAGuest`. A signed-in caller's identity is recorded as its user's on the first `PUT`
 * (`GET` only reads: its function has no write grant).
 */

interface PreferencesRouteDeps extends PreferencesDeps {
  identityPoolId: string;
}

export function createPreferencesHandler(deps: PreferencesRouteDeps) {
  return async function preferencesRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const identity = callerOf(event);
      const { identityId, authenticated } = identifyCaller(identity, deps.identityPoolId);
      const caller: DataCaller = authenticated
        ? { identityId, signedIn: authenticatedCaller(identity, deps.identityPoolId) }
        : { identityId };
      const method = event.requestContext.http.method;
      if (method === "GET") return json(200, await getPreferences(caller, deps));
      if (method === "PUT") {
        if (Buffer.byteLength(event.body ?? "", "utf8") > 2 * MAX_DOCUMENT_BYTES) {
          throw new HttpError(413, "PayloadTooLarge", `At most ${MAX_DOCUMENT_BYTES} bytes.`);
        }
        const body = parseJsonBody(event, z.strictObject({ preferences: z.unknown() }));
        return json(200, await putPreferences(caller, body.preferences, deps));
      }
      throw new HttpError(405, "MethodNotAllowed", "GET or PUT.");
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function preferencesDepsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): PreferencesRouteDeps {
  const config = identityRoutesConfig(env);
  const dynamo = traced(createDynamoDbDocumentClient());
  return {
    data: new DynamoIdentityDataStore(dynamo, config.tableName),
    graph: new DynamoIdentityGraph(dynamo, config.tableName),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    identityPoolId: config.identityPoolId,
    source: eventSource(config.stage, "preferences"),
    now: () => new Date(),
  };
}

let route: ReturnType<typeof createPreferencesHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  route ??= createPreferencesHandler(preferencesDepsFromEnvironment());
  return route(event);
};
