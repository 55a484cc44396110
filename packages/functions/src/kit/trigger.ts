import {
  errorFields,
  finishInvocation,
  logger,
  MetricUnit,
  metrics,
  reportFailure,
  startInvocation,
  type TriggerContext,
} from "../observability";

/**
 * The lifecycle every Cognito trigger shares: request-scoped log keys, the work, Cognito's error
 * shape, and the metrics flush, in one place. Cognito blocks the operation when a trigger throws
 * and shows the error's message (`<Trigger> failed with error <message>.`, "Customizing user pool
 * workflows with Lambda triggers", Amazon Cognito Developer Guide), so every error is mapped here
 * to a short message safe to show a user: never one that echoes input.
 */

/** Blocks the operation with `message` as it stands: the handler has logged what it needs. */
export class TriggerRefusal extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TriggerRefusal";
  }
}

interface TriggerSpec<E, R> {
  /** Request-scoped log keys read from the raw event (never attribute values). */
  keys: (event: unknown) => Record<string, unknown>;
  handle: (event: E, context: TriggerContext | undefined) => Promise<R>;
  /** Expected refusals (a policy's no): logged at info, counted, `message` shown to the user. */
  refusal?: (error: unknown) => { message: string; log: string; metric: string } | undefined;
  /** Anything else: logged at error, counted, and Cognito shows `message` (else the error's). */
  failure: { log: string; metric?: string; message?: string };
}

export function trigger<E, R>(
  spec: TriggerSpec<E, R>,
): (event: E, context?: TriggerContext) => Promise<R> {
  return async function runTrigger(event, context) {
    startInvocation(context, spec.keys(event));
    try {
      return await spec.handle(event, context);
    } catch (error) {
      throw mapTriggerError(error, spec);
    } finally {
      finishInvocation();
    }
  };
}

function mapTriggerError(
  error: unknown,
  spec: Pick<TriggerSpec<unknown, unknown>, "refusal" | "failure">,
): unknown {
  if (error instanceof TriggerRefusal) return new Error(error.message);
  const refusal = spec.refusal?.(error);
  if (refusal !== undefined) {
    logger.info(refusal.log, errorFields(error));
    metrics.addMetric(refusal.metric, MetricUnit.Count, 1);
    return new Error(refusal.message);
  }
  reportFailure(spec.failure, error);
  return spec.failure.message === undefined ? error : new Error(spec.failure.message);
}
