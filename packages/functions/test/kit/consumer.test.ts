import { fakeContext } from "@boarding-pass/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consumer } from "../../src/kit/consumer";
import { logger, metrics } from "../../src/observability";

const spies = () => ({
  reset: vi.spyOn(logger, "resetKeys"),
  append: vi.spyOn(logger, "appendKeys"),
  error: vi.spyOn(logger, "error"),
  metric: vi.spyOn(metrics, "addMetric"),
  flush: vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics),
});

afterEach(() => {
  vi.restoreAllMocks();
  metrics.clearMetrics();
});

describe("consumer(): the scheduled and event-source lifecycle", () => {
  it("returns what the work returned and flushes its metrics", async () => {
    const spy = spies();
    const relay = consumer({
      handle: async () => {
        metrics.addMetric("Relayed", "Count", 1);
        return { relayed: 1 };
      },
    });
    await expect(relay({}, fakeContext())).resolves.toEqual({ relayed: 1 });
    expect(spy.flush).toHaveBeenCalledOnce();
    // No keys asked for: the logger's keys are left as they are.
    expect(spy.reset).not.toHaveBeenCalled();
  });

  it("scopes the log keys to the invocation when asked", async () => {
    const spy = spies();
    const context = fakeContext();
    const reading = consumer({
      keys: (event) => ({ records: (event as { Records: unknown[] }).Records.length }),
      handle: async () => undefined,
    });
    await reading({ Records: [1, 2] }, context);
    expect(spy.reset).toHaveBeenCalledOnce();
    expect(spy.append).toHaveBeenCalledWith({ requestId: context.awsRequestId, records: 2 });
  });

  it("rethrows the error as it stands, logged and counted only when a failure is named", async () => {
    const spy = spies();
    const boom = new Error("boom");
    const quiet = consumer({
      handle: async () => {
        metrics.addMetric("Attempted", "Count", 1);
        throw boom;
      },
    });
    await expect(quiet({}, fakeContext())).rejects.toBe(boom);
    expect(spy.error).not.toHaveBeenCalled();
    expect(spy.flush).toHaveBeenCalledOnce();
    const loud = consumer({
      failure: { log: "relay failed", metric: "RelayFailed" },
      handle: async () => {
        throw boom;
      },
    });
    await expect(loud({}, fakeContext())).rejects.toBe(boom);
    expect(spy.error).toHaveBeenCalledWith("relay failed", { errorName: "Error" });
    expect(spy.metric).toHaveBeenCalledWith("RelayFailed", "Count", 1);
  });
});
