import { IotThrottledError, UserDeletedError } from "../errors";
import type { IdentityGraph, IotPolicyAttachments } from "./ports";

/**
 * IoT policy lifecycle: attach server-side, to identity ids only, idempotently; detach on merge.
 * AttachPolicy is limited to 15 TPS per account: on throttling back off (bounded exponential with
 * full jitter) a bounded number of times, then fail with `IotThrottledError` (retryable by the
 * caller). The SDK's own retry strategy runs first, inside each attempt.
 */

interface BackoffPolicy {
  /** Attempts, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const IOT_BACKOFF: BackoffPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };

interface BackoffClock {
  sleep(ms: number): Promise<void>;
  random(): number;
}

const realClock: BackoffClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Delay before retry `n` (1-based): full jitter over `min(max, base * 2^(n-1))`. */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

export async function withThrottlingBackoff<T>(
  work: () => Promise<T>,
  policy: BackoffPolicy = IOT_BACKOFF,
  clock: BackoffClock = realClock,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof IotThrottledError) || attempt >= policy.maxAttempts) throw error;
      await clock.sleep(backoffDelay(attempt, policy, clock.random));
    }
  }
}

export interface IotAttachmentDeps {
  iot: IotPolicyAttachments;
  graph: Pick<IdentityGraph, "recordIotPolicy">;
  backoff?: BackoffPolicy;
  clock?: BackoffClock;
}

/**
 * Attaches the policy and records the edge; safe to repeat. Recording refuses an identity whose
 * user was deleted (`UserDeletedError`): then the attachment just made is taken back before the
 * error propagates. The deletion marks identities before it detaches, so whichever of the two
 * writes the record first, no policy stays attached to a deleted user's identity.
 */
export async function ensureIotPolicy(
  identityId: string,
  policyName: string,
  deps: IotAttachmentDeps,
): Promise<void> {
  await withThrottlingBackoff(
    () => deps.iot.attach(policyName, identityId),
    deps.backoff,
    deps.clock,
  );
  try {
    await deps.graph.recordIotPolicy(identityId, policyName, true);
  } catch (error) {
    if (error instanceof UserDeletedError) {
      await withThrottlingBackoff(
        () => deps.iot.detach(policyName, identityId),
        deps.backoff,
        deps.clock,
      );
    }
    throw error;
  }
}

/** Detaches the policy and removes the edge; safe to repeat. */
export async function removeIotPolicy(
  identityId: string,
  policyName: string,
  deps: IotAttachmentDeps,
): Promise<void> {
  await withThrottlingBackoff(
    () => deps.iot.detach(policyName, identityId),
    deps.backoff,
    deps.clock,
  );
  await deps.graph.recordIotPolicy(identityId, policyName, false);
}
