import type { ServiceRequest, ServiceResponse } from "../../types";
import type { UserPoolContext } from "./state";
import { issuer } from "./token-issuer";

/**
 * The pool's OpenID Connect discovery document (`/<poolId>/.well-known/openid-configuration`).
 *
 * Cognito's own document also names `authorization_endpoint`, `token_endpoint` and
 * `userinfo_endpoint` on the pool's domain, with response types `code` and `token` (developer
 * guide, "Understanding user pool JSON web tokens", and the user pool endpoints reference). The
 * local pool serves none of them (no hosted UI, no `/oauth2/*`), so it advertises only what it
 * does serve: the issuer, the JWKS it publishes and how its ID tokens are signed. A client that
 * reads the document to find an authorization endpoint learns there is none here, instead of
 * being sent to a URL that answers 404. `response_types_supported` (required by OpenID Connect
 * Discovery 1.0) is therefore empty.
 */
function openIdConfiguration(issuer: string) {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ["RS256"],
    subject_types_supported: ["public"],
    response_types_supported: [] as string[],
  };
}

/** `GET /<poolId>/.well-known/jwks.json` and `.../openid-configuration`; 404 for any other path. */
export function handleDiscoveryPath(
  ctx: Pick<UserPoolContext, "pools" | "endpoint">,
  request: ServiceRequest,
): ServiceResponse {
  const match = /^\/([^/]+)\/\.well-known\/(jwks\.json|openid-configuration)$/.exec(request.path);
  const pool = match ? ctx.pools.get(match[1] ?? "") : undefined;
  if (!match || !pool) {
    return {
      status: 404,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "User pool not found" }),
    };
  }
  const body =
    match[2] === "jwks.json"
      ? { keys: [pool.keys.publicJwk] }
      : openIdConfiguration(issuer(ctx, pool.record.id));
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
