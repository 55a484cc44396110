import type { preSignUp } from "@boarding-pass/core/sign-up";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { logger, MetricUnit, metrics } from "../../observability";
import { isRecord } from "./trigger-input";

/** What pre sign-up reports per outcome, and the response Cognito reads. */

type PreSignUpOutcome = Awaited<ReturnType<typeof preSignUp>>;

export function reportSignUp(outcome: PreSignUpOutcome): void {
  if (outcome.action === "pass-through") {
    logger.info("pre sign-up passed through", { reason: outcome.reason });
    return;
  }
  logger.info("sign-up allowed", {
    autoConfirmUser: outcome.autoConfirmUser,
    autoVerifyEmail: outcome.autoVerifyEmail,
    emailClaim: outcome.emailClaim,
    ...(outcome.link !== undefined ? { link: outcome.link } : {}),
  });
  if (outcome.link?.action === "link") metrics.addMetric("FederatedLinked", MetricUnit.Count, 1);
}

/** A pass-through leaves the event as it came; an allowed sign-up sets the auto flags. */
export function signUpResponse(
  event: PreSignUpTriggerEvent,
  outcome: PreSignUpOutcome,
): PreSignUpTriggerEvent {
  if (outcome.action === "pass-through") return event;
  const response: Record<string, unknown> = isRecord(event.response) ? event.response : {};
  event.response = {
    ...response,
    autoConfirmUser: outcome.autoConfirmUser,
    autoVerifyEmail: outcome.autoVerifyEmail,
    autoVerifyPhone: response.autoVerifyPhone === true,
  };
  return event;
}
