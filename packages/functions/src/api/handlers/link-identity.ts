import { LinkIdentityBody, type LinkIdentityResult } from "@boarding-pass/contracts/routes";
import { type LinkDeps, linkIdentity } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { callerOf, json, parseJsonBody } from "../../kit/http";
import { route } from "../../kit/route";
import { logger } from "../../observability";

/**
 * `POST /identity/link` (IAM): after sign-in, the app sends the guest proof it kept. The caller is
 * the signed-in identity from the request context; the body never names it. Answers `linked`
 * (same identity) or `merged` (the guest was folded into the caller's identity).
 */
export function createLinkIdentityHandler(deps: LinkDeps) {
  return route(async (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
    const caller = callerOf(event);
    const { guestProof, guestIdentityId } = parseJsonBody(event, LinkIdentityBody);
    const input = {
      caller,
      guestProof,
      ...(guestIdentityId !== undefined ? { guestIdentityId } : {}),
    };
    const result: LinkIdentityResult = await linkIdentity(input, deps);
    logger.info("identity link", {
      outcome: result.outcome,
      alreadyDone: result.alreadyDone,
      eventsPending: result.events.filter((e) => !e.published).length,
    });
    return json(200, result);
  });
}
