import type { PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import { logger } from "../observability";

/**
 * Pre token generation (V2_0). Until the triggers issue builds claims from the profile, tokens
 * carry Cognito's own claims and the groups Cognito computed, unchanged.
 */
export async function handler(
  event: PreTokenGenerationV2TriggerEvent,
): Promise<PreTokenGenerationV2TriggerEvent> {
  logger.info("pre token generation", { triggerSource: event.triggerSource });
  return event;
}
