import { describe, expect, it } from "vitest";
import { GuestProofLimitError } from "../../src/errors";
import {
  DEFAULT_GUEST_PROOF_LIMIT,
  isWindowCurrent,
  retryAfterSeconds,
  takeGuestProof,
} from "../../src/identity/guest-proof-quota";
import type { GuestProofQuotaStore } from "../../src/identity/ports";

describe("guest proof windows", () => {
  it("a window covers [start, start + length): its last second is in, its end is out", () => {
    expect(isWindowCurrent(1_000, 1_000, 600)).toBe(true);
    expect(isWindowCurrent(1_000, 1_599, 600)).toBe(true);
    expect(isWindowCurrent(1_000, 1_600, 600)).toBe(false);
    expect(isWindowCurrent(1_000, 5_000, 600)).toBe(false);
  });

  it("Retry-After is the whole seconds left in the window, never less than 1", () => {
    expect(retryAfterSeconds(1_000, 1_000, 600)).toBe(600);
    expect(retryAfterSeconds(1_000, 1_450, 600)).toBe(150);
    expect(retryAfterSeconds(1_000, 1_599, 600)).toBe(1);
    // A clock that already passed the end (a counter read late) still says "retry", not 0 or less.
    expect(retryAfterSeconds(1_000, 1_700, 600)).toBe(1);
  });

  it("defaults to five proofs per ten minutes", () => {
    expect(DEFAULT_GUEST_PROOF_LIMIT).toEqual({ limit: 5, windowSeconds: 600 });
  });

  it("a refused proof is a GuestProofLimitError with the seconds until the window ends", async () => {
    // Prepare: a store whose window started 100 s before now and is full.
    const asked: unknown[] = [];
    const quota: GuestProofQuotaStore = {
      take: async (input) => {
        asked.push(input);
        return { taken: false, windowStart: input.nowSeconds - 100 };
      },
    };
    const now = () => new Date(1_700_000_000_500);

    // Act
    const error = await takeGuestProof("us-east-1:00000000-0000-4000-8000-000000000001", {
      quota,
      limit: { limit: 5, windowSeconds: 600 },
      now,
    }).catch((caught: unknown) => caught);

    // Assess: whole seconds of the clock, the limit and window passed through.
    expect(error).toBeInstanceOf(GuestProofLimitError);
    expect((error as GuestProofLimitError).retryAfterSeconds).toBe(500);
    expect(asked).toEqual([
      {
        identityId: "us-east-1:00000000-0000-4000-8000-000000000001",
        limit: 5,
        windowSeconds: 600,
        nowSeconds: 1_700_000_000,
      },
    ]);
  });
});
