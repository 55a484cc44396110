import { GuestProofLimitError } from "../errors";
import type { GuestProofQuotaStore } from "./ports";

/**
 * A per-identity limit on guest proofs (`POST /identity/guest-proof`). Guests are free to make,
 * and each proof is an RSA `kms:Sign` and a `DescribeIdentity`: without a limit one guest could
 * spend both quotas for everyone.
 *
 * Fixed windows that start at an identity's first proof: a window that started at `windowStart`
 * covers `[windowStart, windowStart + windowSeconds)`; its first `limit` proofs pass, later ones
 * are refused until it ends, then the next proof starts a new window.
 */
export interface GuestProofLimit {
  /** Proofs per window; at least 1. */
  limit: number;
  windowSeconds: number;
}

/**
 * Five proofs per ten minutes. A proof lives ten minutes (as long as the window) and an app asks
 * for one right before each sign-in, so five leave room for four retried sign-ins in one window;
 * more than that from one guest in ten minutes is no person signing in, but it would be five RSA
 * signatures a second from a script.
 */
export const DEFAULT_GUEST_PROOF_LIMIT: GuestProofLimit = { limit: 5, windowSeconds: 600 };

/** True while the window that started at `windowStart` still runs at `nowSeconds`. */
export const isWindowCurrent = (windowStart: number, nowSeconds: number, windowSeconds: number) =>
  windowStart > nowSeconds - windowSeconds;

/** Whole seconds until the window ends (the `Retry-After` header), at least 1. */
export const retryAfterSeconds = (windowStart: number, nowSeconds: number, windowSeconds: number) =>
  Math.max(1, Math.ceil(windowStart + windowSeconds - nowSeconds));

/** Counts one proof for the identity; throws `GuestProofLimitError` when its window is full. */
export async function takeGuestProof(
  identityId: string,
  deps: { quota: GuestProofQuotaStore; limit: GuestProofLimit; now: () => Date },
): Promise<void> {
  const nowSeconds = Math.floor(deps.now().getTime() / 1000);
  const { limit, windowSeconds } = deps.limit;
  const result = await deps.quota.take({ identityId, limit, windowSeconds, nowSeconds });
  if (!result.taken) {
    throw new GuestProofLimitError(
      retryAfterSeconds(result.windowStart, nowSeconds, windowSeconds),
    );
  }
}
