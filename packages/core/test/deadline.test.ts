import { budgetFrom, withDeadline } from "@boarding-pass/core/deadline";
import { DeadlineExceededError } from "@boarding-pass/core/errors";
import { describe, expect, it } from "vitest";

describe("budgetFrom", () => {
  it.each([
    [5000, 1000],
    [2400, 900],
    [1500, 0],
    [100, 0],
    [Number.NaN, 0],
  ])("with %d ms left gives %d ms (reserve 1500, max 1000)", (remaining, expected) => {
    expect(budgetFrom(remaining, { reserveMs: 1500, maxMs: 1000 })).toBe(expected);
  });
});

describe("withDeadline", () => {
  it("returns the work's result when it finishes in time", async () => {
    await expect(withDeadline(1000, async () => "done")).resolves.toBe("done");
  });

  it("settles at the deadline even when the work ignores the abort signal", async () => {
    const never = new Promise<string>(() => {});
    const started = Date.now();
    await expect(withDeadline(20, () => never)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("aborts the signal it handed out", async () => {
    let seen: AbortSignal | undefined;
    await expect(
      withDeadline(10, (signal) => {
        seen = signal;
        return new Promise(() => {});
      }),
    ).rejects.toThrow(DeadlineExceededError);
    expect(seen?.aborted).toBe(true);
  });

  it("a zero budget fails without starting the work", async () => {
    let started = false;
    await expect(
      withDeadline(0, async () => {
        started = true;
      }),
    ).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(started).toBe(false);
  });

  it("keeps the work's own error", async () => {
    await expect(
      withDeadline(1000, async () => {
        throw new TypeError("boom");
      }),
    ).rejects.toBeInstanceOf(TypeError);
  });
});
