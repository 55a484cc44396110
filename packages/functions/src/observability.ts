import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/**
 * The one place Powertools singletons are made. Service name, namespace and log level come from
 * the POWERTOOLS_* variables the stacks set on every function.
 *
 * No Powertools Tracer here: it bundles aws-xray-sdk-core, semver and cls-hooked (~110 KiB
 * minified, evaluated at every cold start), and the triggers must stay small and quick to load
 * (bench/triggers.ts). Lambda's active tracing (sst.config.ts) still records every invocation;
 * a function that wants SDK subsegments should create a Tracer in its own module.
 */
export const logger = new Logger();
export const metrics = new Metrics();

export { MetricUnit };

/** What a Lambda context offers that triggers use; tests pass a fake with a fixed deadline. */
export interface TriggerContext {
  getRemainingTimeInMillis?: () => number;
  awsRequestId?: string;
}

/**
 * Milliseconds left, read fresh at every call. A context without the method (a hand-made
 * invocation) gets Cognito's 5 s window, the most a trigger ever has.
 */
export function remainingTimeOf(context: TriggerContext | undefined): () => number {
  const read = context?.getRemainingTimeInMillis;
  if (typeof read !== "function") {
    const deadline = Date.now() + 5000;
    return () => deadline - Date.now();
  }
  return () => read.call(context);
}

/** Request-scoped log keys, never attribute values: no email, no tokens. */
export function startInvocation(
  context: TriggerContext | undefined,
  keys: Record<string, unknown>,
) {
  logger.resetKeys();
  logger.appendKeys({
    ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
    ...keys,
  });
}

/** Flushes metrics; a failure to flush must never fail the user's sign-in. */
export function finishInvocation(): void {
  try {
    // Nothing stored is the hot path's usual case: skip Powertools' "no metrics" warning line.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  } catch (error) {
    logger.warn("metrics flush failed", { error });
  }
}

/** Stable error fields for logs: code and name, never a message that may echo input. */
export function errorFields(error: unknown): Record<string, unknown> {
  const e = error as { code?: unknown; name?: unknown; cause?: { name?: unknown } } | null;
  return {
    errorName: typeof e?.name === "string" ? e.name : typeof error,
    ...(typeof e?.code === "string" ? { errorCode: e.code } : {}),
    ...(typeof e?.cause?.name === "string" ? { causeName: e.cause.name } : {}),
  };
}
