import { onFirstUse } from "@boarding-pass/core/adapters/on-first-use";
import { describe, expect, it } from "vitest";

/** The triggers' lazily made clients (Cognito admin, SNS and Kinesis) share this loader. */
describe("onFirstUse", () => {
  it("loads nothing until the first call, then once for every caller, concurrent ones included", async () => {
    let loads = 0;
    const client = onFirstUse(async () => {
      loads++;
      return { id: loads };
    });
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([client(), client()]);
    expect(await client()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it("tries again after a failed load instead of keeping the failure", async () => {
    let attempts = 0;
    const client = onFirstUse(async () => {
      attempts++;
      if (attempts === 1) throw new Error("module not loaded");
      return "ready";
    });
    await expect(client()).rejects.toThrow("module not loaded");
    await expect(client()).resolves.toBe("ready");
    expect(attempts).toBe(2);
  });
});
