import { AwsServiceError } from "../../../protocol/errors";

/**
 * User-pool Lambda triggers, the one place for how Cognito calls them: its budget (5 s, one timer
 * per attempt, started when Cognito calls, so a cold start counts), its retries (three attempts in
 * all, on timeout only) and how it maps what the function did to the caller's error
 * (UserLambdaValidationException carrying the function's message, UnexpectedLambdaException after
 * the last timeout, InvalidLambdaResponseException for a response it refuses, in
 * pre-token-generation.ts). The events are in events.ts; the pool's runners in pool-triggers.ts.
 *
 * "Amazon Cognito invokes Lambda functions synchronously. When called, your Lambda function must
 * respond within 5 seconds. If it doesn't and if the call can be retried, Amazon Cognito retries
 * the call. After three unsuccessful attempts, the function times out." (Customizing user pool
 * workflows with Lambda triggers, Important things to know about triggers).
 */

export * from "./events";
export * from "./pre-token-generation";

export type InvokeTrigger = (
  functionArn: string,
  event: object,
  options: { timeoutMs: number },
) => Promise<object>;

/** Cognito waits 5 s and tries a timed-out trigger up to three times in all. */
export const DEFAULT_TRIGGER_TIMEOUT_MS = 5000;
const TRIGGER_ATTEMPTS = 3;

type TriggerName = "PreSignUp" | "PostConfirmation" | "PreTokenGeneration";

/**
 * A trigger that did not answer in time. Thrown by the timer below, or by an `InvokeTrigger` whose
 * function ran out of its own configured timeout first: both are retried the same way.
 */
export class TriggerTimeout extends Error {}

/** Cognito's budget for one attempt: the only timer that enforces it. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TriggerTimeout()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Calls a trigger as Cognito does: a timeout is retried (three attempts in all), then fails the
 * operation with UnexpectedLambdaException; a thrown error fails it at once with
 * UserLambdaValidationException carrying the function's message.
 */
export async function invokeWithCognitoSemantics<T extends object>(
  invoke: InvokeTrigger,
  trigger: TriggerName,
  functionArn: string,
  event: T,
  timeoutMs: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // Each attempt gets its own copy: a half-finished attempt must not leak edits into the next.
    const copy = structuredClone(event);
    try {
      const result = await withTimeout(
        Promise.resolve().then(() => invoke(functionArn, copy, { timeoutMs })),
        timeoutMs,
      );
      return (result ?? copy) as T;
    } catch (error) {
      if (error instanceof TriggerTimeout) {
        if (attempt < TRIGGER_ATTEMPTS) continue;
        throw new AwsServiceError(
          "UnexpectedLambdaException",
          `${trigger} invocation failed due to error Socket timeout while invoking Lambda function.`,
          { cause: error },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new AwsServiceError(
        "UserLambdaValidationException",
        `${trigger} failed with error ${message}.`,
        { cause: error },
      );
    }
  }
}

/** What a Lambda runtime answers for one invocation (the local runtime's result, structurally). */
export type LambdaInvocationResult =
  | { ok: true; payload: unknown }
  | { ok: false; errorMessage: string; timedOut: boolean };

/**
 * An `InvokeTrigger` over a Lambda runtime: the function's response, its error (thrown, so the
 * message becomes UserLambdaValidationException's), or its own timeout (retried as Cognito's).
 *
 * The runtime is not handed Cognito's budget: the timer above is the one that enforces it, and the
 * function runs under its own configured timeout, as in AWS, where Cognito giving up does not stop
 * the function. (The app's triggers are configured with the same 5 s.)
 */
export function lambdaTrigger(
  invoke: (
    functionArn: string,
    event: object,
    options: { source: "cognito-idp" },
  ) => Promise<LambdaInvocationResult>,
): InvokeTrigger {
  return async (functionArn, event) => {
    const result = await invoke(functionArn, event, { source: "cognito-idp" });
    if (result.ok) return (result.payload ?? {}) as object;
    if (result.timedOut) throw new TriggerTimeout(result.errorMessage);
    throw new Error(result.errorMessage);
  };
}
