import { fakeContext } from "@boarding-pass/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TriggerRefusal, trigger } from "../../src/kit/trigger";
import { logger, metrics } from "../../src/observability";

class PolicySaysNo extends Error {
  readonly code = "PolicySaysNo";
}

/** A trigger whose work the test decides; the kit does the rest. */
const triggerDoing = (work: () => Promise<unknown>) =>
  trigger({
    keys: (event) => ({ triggerSource: (event as { triggerSource?: unknown }).triggerSource }),
    refusal: (error) =>
      error instanceof PolicySaysNo
        ? { message: "Sign-up is not allowed.", log: "refused", metric: "Refused" }
        : undefined,
    failure: { log: "failed", metric: "Failed", message: "Please try again." },
    handle: async () => work(),
  });

const spies = () => ({
  reset: vi.spyOn(logger, "resetKeys"),
  append: vi.spyOn(logger, "appendKeys"),
  info: vi.spyOn(logger, "info"),
  error: vi.spyOn(logger, "error"),
  metric: vi.spyOn(metrics, "addMetric"),
  flush: vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics),
});

afterEach(() => {
  vi.restoreAllMocks();
  metrics.clearMetrics();
});

describe("trigger(): the Cognito trigger lifecycle", () => {
  it("scopes the log keys to the invocation and returns what the work returned", async () => {
    const spy = spies();
    const context = fakeContext();
    const event = { triggerSource: "PreSignUp_SignUp", request: { userAttributes: {} } };
    await expect(triggerDoing(async () => event)(event, context)).resolves.toBe(event);
    expect(spy.reset).toHaveBeenCalledOnce();
    expect(spy.append).toHaveBeenCalledWith({
      requestId: context.awsRequestId,
      triggerSource: "PreSignUp_SignUp",
    });
  });

  it("flushes stored metrics after every invocation, failed or not", async () => {
    const spy = spies();
    const counting = triggerDoing(async () => {
      metrics.addMetric("Counted", "Count", 1);
      return {};
    });
    await counting({}, fakeContext());
    expect(spy.flush).toHaveBeenCalledOnce();
    const failing = triggerDoing(async () => {
      metrics.addMetric("Counted", "Count", 1);
      throw new Error("boom");
    });
    await expect(failing({}, fakeContext())).rejects.toThrow();
    expect(spy.flush).toHaveBeenCalledTimes(2);
  });

  it("a refusal: logged at info, counted, and Cognito shows its user-safe message", async () => {
    const spy = spies();
    const run = triggerDoing(async () => {
      throw new PolicySaysNo("internal detail with jane@example.com");
    });
    const thrown = (await run({}, fakeContext()).catch((error: unknown) => error)) as Error;
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown.message).toBe("Sign-up is not allowed.");
    expect(spy.info).toHaveBeenCalledWith("refused", {
      errorName: "Error",
      errorCode: "PolicySaysNo",
    });
    expect(spy.metric).toHaveBeenCalledWith("Refused", "Count", 1);
    expect(spy.error).not.toHaveBeenCalled();
  });

  it("any other error: logged at error without its message, counted, replaced by the failure message", async () => {
    const spy = spies();
    const run = triggerDoing(async () => {
      throw new TypeError("cannot read jane@example.com", { cause: new RangeError("x") });
    });
    await expect(run({}, fakeContext())).rejects.toThrow(/^Please try again\.$/);
    expect(spy.error).toHaveBeenCalledWith("failed", {
      errorName: "TypeError",
      causeName: "RangeError",
    });
    expect(spy.metric).toHaveBeenCalledWith("Failed", "Count", 1);
  });

  it("without a failure message, Cognito gets the error itself", async () => {
    spies();
    const original = new Error("Unsupported pre token generation version 9");
    const run = trigger({
      keys: () => ({}),
      failure: { log: "failed" },
      handle: async () => {
        throw original;
      },
    });
    await expect(run({}, fakeContext())).rejects.toBe(original);
  });

  it("a TriggerRefusal blocks with its message as it stands, neither logged as a failure nor counted", async () => {
    const spy = spies();
    const run = triggerDoing(async () => {
      throw new TriggerRefusal("We could not confirm this account.");
    });
    const thrown = (await run({}, fakeContext()).catch((error: unknown) => error)) as Error;
    expect(thrown.message).toBe("We could not confirm this account.");
    expect(thrown.name).toBe("Error");
    expect(spy.error).not.toHaveBeenCalled();
    expect(spy.metric).not.toHaveBeenCalled();
  });

  it("reads its keys defensively: a hand-made event without a context still runs", async () => {
    const spy = spies();
    await triggerDoing(async () => "ok")({}, undefined);
    expect(spy.append).toHaveBeenCalledWith({ triggerSource: undefined });
  });
});
