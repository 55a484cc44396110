import type { confirmUser } from "@boarding-pass/core/profile";
import { logger, MetricUnit, metrics } from "../../observability";

/** What post confirmation reports for the profile it created or found. */
export function reportConfirmation(result: Awaited<ReturnType<typeof confirmUser>>): void {
  logger.info("profile", {
    outcome: result.outcome,
    eventId: result.eventId,
    published: result.published,
  });
  metrics.addMetric(
    result.outcome === "created" ? "ProfileCreated" : "ProfileAlreadyExisted",
    MetricUnit.Count,
    1,
  );
  if (result.outcome === "created" && !result.published) {
    metrics.addMetric("EventLeftForRelay", MetricUnit.Count, 1);
  }
}
