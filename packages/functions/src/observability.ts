import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { AwsCallTracer } from "./tracing";

/**
 * The one place the observability singletons are made: the Powertools logger and metrics here, the
 * tracer below. Service name, namespace and log level come from the POWERTOOLS_* variables the
 * stacks set on every function.
 */
export const logger = new Logger();
export const metrics = new Metrics();

/**
 * Whether this function traces: a Lambda execution environment (`AWS_EXECUTION_ENV` set, not SAM
 * local or Amplify's mock) without `POWERTOOLS_TRACE_ENABLED=false`, the rule the Powertools
 * Tracer had, and with an X-Ray daemon to send to (`AWS_XRAY_DAEMON_ADDRESS`). Lambda then
 * decides per invocation: only sampled invocations send subsegments.
 */
export function tracingPossible(env: NodeJS.ProcessEnv = process.env): boolean {
  const read = (key: string) => (env[key] ?? "").trim();
  if (read("POWERTOOLS_TRACE_ENABLED").toLowerCase() === "false") return false;
  const executionEnv = read("AWS_EXECUTION_ENV");
  return (
    executionEnv !== "" &&
    executionEnv !== "AWS_Lambda_amplify-mock" &&
    read("AWS_SAM_LOCAL") === "" &&
    read("AWS_XRAY_DAEMON_ADDRESS") !== ""
  );
}

/**
 * The tracer, made where the function can trace and `undefined` elsewhere (tests, the benchmark,
 * `POWERTOOLS_TRACE_ENABLED=false`). It is our own small X-Ray subsegment emitter rather than the
 * Powertools Tracer: the X-Ray SDK under that one cost a trigger about 30 ms of every cold start,
 * on the sign-in path, for the one thing we used it for, and is at end of support in February
 * 2027 (ADR 0009). Made at cold start: its UDP socket opens during init, not in a request.
 */
export const tracer: AwsCallTracer | undefined = tracingPossible()
  ? new AwsCallTracer()
  : undefined;

/**
 * An SDK client whose calls appear as X-Ray subsegments when the function traces; the client
 * itself, unchanged, when it does not.
 */
export function traced<T extends object>(client: T): T {
  return tracer === undefined ? client : tracer.capture(client);
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

/** An unexpected failure, as the kit's lifecycles report it: logged at error, counted if named. */
export function reportFailure(failure: { log: string; metric?: string }, error: unknown): void {
  logger.error(failure.log, errorFields(error));
  if (failure.metric !== undefined) metrics.addMetric(failure.metric, MetricUnit.Count, 1);
}
