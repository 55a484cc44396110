import { DeadlineExceededError } from "./errors";

/**
 * Budgets for calls made inside a Cognito trigger, which must answer within 5 s whatever its
 * dependencies do ("Customizing user pool workflows with Lambda triggers",
 * https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html).
 * A budget is derived from the time the Lambda has left
 * and is enforced twice: the abort signal cancels the SDK request, and the race below answers even
 * if a dependency ignores the signal (a retry back-off, a stuck socket).
 */

export interface BudgetPolicy {
  /** Time kept back for shaping the response and returning it to Cognito. */
  reserveMs: number;
  /** Upper bound, however much time is left. */
  maxMs: number;
}

/** The budget for one call: what is left minus the reserve, capped, never negative. */
export function budgetFrom(remainingMs: number, policy: BudgetPolicy): number {
  const remaining = Number.isFinite(remainingMs) ? remainingMs : 0;
  return Math.max(0, Math.min(policy.maxMs, Math.floor(remaining - policy.reserveMs)));
}

/**
 * Runs `work` with an abort signal that fires after `budgetMs`, and settles no later than that:
 * with the work's result, or with `DeadlineExceededError`. A budget of 0 fails at once without
 * starting the work.
 */
export async function withDeadline<T>(
  budgetMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (budgetMs <= 0) throw new DeadlineExceededError(0);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(budgetMs);
      controller.abort(error);
      reject(error);
    }, budgetMs);
  });
  const running = work(controller.signal);
  // The loser of the race must not surface as an unhandled rejection.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
