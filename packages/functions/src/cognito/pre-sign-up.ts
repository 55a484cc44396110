import type { PreSignUpTriggerEvent } from "aws-lambda";
import { logger } from "../observability";

/**
 * Pre sign-up. The foundation lets every sign-up through unchanged; the sign-up policy, email
 * canonicalisation and federated linking arrive with the triggers issue.
 */
export async function handler(event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> {
  logger.info("pre sign-up", { triggerSource: event.triggerSource, userName: event.userName });
  return event;
}
