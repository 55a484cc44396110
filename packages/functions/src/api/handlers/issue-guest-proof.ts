import type { GuestProofIssued } from "@boarding-pass/contracts/routes";
import { type GuestProofIssuerDeps, issueGuestProof } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { callerOf, json } from "../../kit/http";
import { route } from "../../kit/route";
import { logger } from "../../observability";

/**
 * `POST /identity/guest-proof` (IAM, guest role): a 10-minute proof that the caller holds its
 * guest identity, for the link route after sign-in. Needed because `GetOpenIdToken` is refused on
 * pools with classic flow off (ADR 0006). Refused (403 `NotAGuest`) when the identity pool says
 * the identity has a login, whatever the credentials' `amr` says; limited per identity (429
 * `GuestProofLimit` with `Retry-After`).
 */
export function createIssueGuestProofHandler(deps: GuestProofIssuerDeps) {
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const result: GuestProofIssued = await issueGuestProof({ caller: callerOf(event) }, deps);
    logger.info("guest proof issued");
    return json(200, result, { "cache-control": "no-store" });
  });
}
