import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * The one place Powertools singletons are made. Service name, namespace and log level come from
 * the POWERTOOLS_* variables the stacks set on every function.
 *
 * The Tracer costs about 110 KiB of bundle (aws-xray-sdk-core) and some cold-start time
 * (bench/triggers.ts measures it); it buys a subsegment per AWS call, which is what tells a slow
 * DynamoDB read from a slow trigger when a sign-in is slow. Outside Lambda it is disabled.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();

/** An SDK client whose calls appear as X-Ray subsegments (unchanged when tracing is off). */
export function traced<T extends object>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

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
