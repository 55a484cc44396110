import type { profileForToken } from "@boarding-pass/core/profile";
import type { syncEmailClaim } from "@boarding-pass/core/sign-up";
import { errorFields, logger, MetricUnit, metrics } from "../../observability";

/** What pre token generation reports per outcome: logs for people, metrics for alarms. */

export function reportUnusableSub(): void {
  logger.warn("token request without a usable sub: base claims");
  metrics.addMetric("DegradedClaims", MetricUnit.Count, 1);
}

export function reportProfile(result: Awaited<ReturnType<typeof profileForToken>>): void {
  if (result.outcome === "degraded") {
    logger.warn("profile unavailable: base claims", {
      stage: result.stage,
      ...errorFields(result.error),
    });
    metrics.addMetric("DegradedClaims", MetricUnit.Count, 1);
  } else if (result.outcome !== "found") {
    logger.info("profile repaired", {
      outcome: result.outcome,
      ...(result.outcome === "repaired"
        ? { eventId: result.eventId, published: result.published }
        : {}),
    });
    metrics.addMetric("ProfileRepaired", MetricUnit.Count, 1);
  }
}

export function reportEmailClaim(result: Awaited<ReturnType<typeof syncEmailClaim>>): void {
  if (result.outcome === "claimed") {
    logger.info("email claim moved to the verified email", { released: result.released });
    metrics.addMetric("EmailClaimMoved", MetricUnit.Count, 1);
  } else if (result.outcome === "conflict") {
    // Another user holds the verified address: the user keeps their old claim. Surfaced for
    // operators (the alarmable metric); the user's sign-in goes on.
    logger.warn("verified email is claimed by another user: old claim kept");
    metrics.addMetric("EmailClaimConflict", MetricUnit.Count, 1);
  }
}

export function reportEmailClaimSyncFailure(error: unknown): void {
  logger.warn("email claim sync failed: retried at the next token", errorFields(error));
  metrics.addMetric("EmailClaimSyncFailed", MetricUnit.Count, 1);
}
