import {
  finishInvocation,
  reportFailure,
  startInvocation,
  type TriggerContext,
} from "../observability";

/**
 * The lifecycle of a function invoked by a schedule or an event source (Kinesis, SQS, SNS): its
 * work, then the metrics flush, in one place. Unlike a Cognito trigger, an error is rethrown as it
 * stands: the invoker's retry (the next schedule tick, the event source mapping's retry of the
 * batch) is the recovery, and no user reads the message.
 */
interface ConsumerSpec<E, R> {
  /** Request-scoped log keys read from the raw event; without them the logger's keys are left. */
  keys?: (event: unknown) => Record<string, unknown>;
  handle: (event: E, context: TriggerContext | undefined) => Promise<R>;
  /** Logged at error (and counted) before the error is rethrown; without it, rethrown unlogged. */
  failure?: { log: string; metric?: string };
}

export function consumer<E, R>(
  spec: ConsumerSpec<E, R>,
): (event: E, context?: TriggerContext) => Promise<R> {
  return async function runConsumer(event, context) {
    if (spec.keys !== undefined) startInvocation(context, spec.keys(event));
    try {
      return await spec.handle(event, context);
    } catch (error) {
      if (spec.failure !== undefined) reportFailure(spec.failure, error);
      throw error;
    } finally {
      finishInvocation();
    }
  };
}
