import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { logger } from "../observability";

/** Post confirmation. Profile creation and its event arrive with the triggers issue. */
export async function handler(
  event: PostConfirmationTriggerEvent,
): Promise<PostConfirmationTriggerEvent> {
  logger.info("post confirmation", {
    triggerSource: event.triggerSource,
    userName: event.userName,
  });
  return event;
}
