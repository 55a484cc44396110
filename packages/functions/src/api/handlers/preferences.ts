import {
  maxPreferencesBodyBytes,
  type PreferencesResult,
  PutPreferencesBody,
} from "@boarding-pass/contracts/routes";
import {
  authenticatedCaller,
  type DataCaller,
  getPreferences,
  identifyCaller,
  MAX_DOCUMENT_BYTES,
  type PreferencesDeps,
  putPreferences,
} from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { callerOf, HttpError, json, parseJsonBody } from "../../kit/http";
import { route } from "../../kit/route";

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
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const identity = callerOf(event);
    const { identityId, authenticated } = identifyCaller(identity, deps.identityPoolId);
    const caller: DataCaller = authenticated
      ? { identityId, signedIn: authenticatedCaller(identity, deps.identityPoolId) }
      : { identityId };
    const method = event.requestContext.http.method;
    if (method === "GET") {
      const current: PreferencesResult = await getPreferences(caller, deps);
      return json(200, current);
    }
    if (method !== "PUT") throw new HttpError(405, "MethodNotAllowed", "GET or PUT.");
    if (Buffer.byteLength(event.body ?? "", "utf8") > maxPreferencesBodyBytes(MAX_DOCUMENT_BYTES)) {
      throw new HttpError(413, "PayloadTooLarge", `At most ${MAX_DOCUMENT_BYTES} bytes.`);
    }
    const body = parseJsonBody(event, PutPreferencesBody);
    const written: PreferencesResult = await putPreferences(caller, body.preferences, deps);
    return json(200, written);
  });
}
