import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * The one place Powertools singletons are made. Service name, namespace and log level come from
 * the POWERTOOLS_* variables the stacks set on every function.
 */
export const logger = new Logger();
export const metrics = new Metrics();

/**
 * Whether a Powertools Tracer made here could trace: the same rule as its own
 * (`Tracer.setTracingEnabled`): not with `POWERTOOLS_TRACE_ENABLED=false`, not outside a Lambda
 * execution environment (`AWS_EXECUTION_ENV` unset), not under SAM local or Amplify's mock.
 */
export function tracingPossible(env: NodeJS.ProcessEnv = process.env): boolean {
  const read = (key: string) => (env[key] ?? "").trim();
  if (read("POWERTOOLS_TRACE_ENABLED").toLowerCase() === "false") return false;
  const executionEnv = read("AWS_EXECUTION_ENV");
  return (
    executionEnv !== "" &&
    executionEnv !== "AWS_Lambda_amplify-mock" &&
    read("AWS_SAM_LOCAL") === ""
  );
}

/**
 * The Powertools Tracer, made at cold start where it can trace (a Lambda function with active
 * tracing), and `undefined` wherever it would be disabled anyway (tests, the local cloud, the
 * benchmark, `POWERTOOLS_TRACE_ENABLED=false`). Its module, with aws-xray-sdk-core (~125 KiB and
 * most of a trigger's load time), is imported dynamically: esbuild's ESM splitting puts it in a
 * chunk of its own (sst.config.ts), loaded only by a function that traces. It is made during init
 * rather than at the first traced call, because init is where Lambda spends that time best (and
 * provisioned concurrency pays it before any request), and because the Tracer patches HTTP(S)
 * globally when made, before the first request goes out.
 */
export const tracer: Tracer | undefined = tracingPossible()
  ? new (await import("@aws-lambda-powertools/tracer")).Tracer()
  : undefined;

/**
 * An SDK client whose calls appear as X-Ray subsegments when the function traces; the client
 * itself, unchanged, when it does not.
 */
export function traced<T extends object>(client: T): T {
  return tracer === undefined ? client : tracer.captureAWSv3Client(client);
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
