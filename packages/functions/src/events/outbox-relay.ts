import { logger } from "../observability";

/** Outbox relay. Publishing pending events arrives with the triggers issue. */
export async function handler(): Promise<{ relayed: number }> {
  logger.debug("outbox relay tick");
  return { relayed: 0 };
}
