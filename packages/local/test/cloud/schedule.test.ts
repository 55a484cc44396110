import { describe, expect, it } from "vitest";
import type { InvokeOptions, LambdaInvoker } from "../../src/cloud/contracts";
import {
  parseScheduleExpression,
  type ScheduleClock,
  type ScheduledEvent,
  startSchedule,
} from "../../src/cloud/schedule";

const RULE_ARN = "arn:aws:events:us-east-1:000000000000:rule/nightly";
const FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:sweeper";

/** A clock the test moves by hand; timers fire in order as time passes them. */
function manualClock(start: string) {
  let now = new Date(start).getTime();
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: ScheduleClock = {
    now: () => new Date(now),
    setTimeout: (callback, ms) => {
      timers.set(++nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout: (handle) => timers.delete(handle as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (let fired = 0; fired < 10_000; fired++) {
      const due = [...timers.entries()]
        .filter(([, timer]) => timer.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].callback();
    }
    now = end;
  };
  return { clock, advance, pending: () => timers.size };
}

function recordingInvoker() {
  const calls: Array<{ name: string; event: unknown; options?: InvokeOptions }> = [];
  const invoker: LambdaInvoker = {
    async invoke(name, event, options) {
      calls.push({ name, event, options });
      return { ok: true, payload: undefined, requestId: "r", durationMs: 0 };
    },
  };
  return { invoker, calls };
}

const next = (expression: string, after: string) =>
  parseScheduleExpression(expression).next(new Date(after))?.toISOString();

describe("schedule expressions", () => {
  it("computes the next occurrence of rate and cron expressions, in UTC", () => {
    expect(next("rate(5 minutes)", "2026-11-26T10:00:30Z")).toBe("2026-11-26T10:05:30.000Z");
    expect(next("rate(1 day)", "2026-11-26T10:00:00Z")).toBe("2026-11-27T10:00:00.000Z");
    expect(next("cron(0 12 * * ? *)", "2026-11-26T12:00:00Z")).toBe("2026-11-27T12:00:00.000Z");
    expect(next("cron(0/15 * * * ? *)", "2026-11-26T10:07:00Z")).toBe("2026-11-26T10:15:00.000Z");
    // 2026-11-28 is a Saturday: the next weekday run is Monday.
    expect(next("cron(15 10 ? * MON-FRI *)", "2026-11-27T11:00:00Z")).toBe(
      "2026-11-30T10:15:00.000Z",
    );
    expect(next("cron(0 8 1 JAN,JUL ? *)", "2026-11-26T00:00:00Z")).toBe(
      "2027-01-01T08:00:00.000Z",
    );
    expect(next("cron(30 23 L * ? *)", "2026-02-10T00:00:00Z")).toBe("2026-02-28T23:30:00.000Z");
    expect(next("cron(0 0 1 1 ? 2025)", "2026-01-01T00:00:00Z")).toBeUndefined();
  });

  it("refuses what AWS refuses and what the subset leaves out", () => {
    for (const bad of [
      "rate(1 minutes)",
      "rate(5 minute)",
      "rate(0 minutes)",
      "rate(5 weeks)",
      "cron(0 12 * * * *)",
      "cron(0 12 ? * ? *)",
      "cron(0 12 * *)",
      "cron(61 12 * * ? *)",
      "cron(0 12 15W * ? *)",
      "cron(0 12 ? * 6#3 *)",
      "at(2026-11-26T10:00:00)",
    ]) {
      expect(() => parseScheduleExpression(bad), bad).toThrow(/ScheduleExpression is not valid/);
    }
  });
});

describe("running schedules", () => {
  it("invokes the target asynchronously with the Scheduled Event on each occurrence", () => {
    // Arrange
    const { clock, advance } = manualClock("2026-11-26T10:00:00Z");
    const { invoker, calls } = recordingInvoker();
    const running = startSchedule({
      ruleArn: RULE_ARN,
      expression: "rate(5 minutes)",
      functionArn: FUNCTION_ARN,
      invoker,
      region: "us-east-1",
      accountId: "000000000000",
      clock,
    });

    // Act
    advance(4 * 60_000);
    const before = calls.length;
    advance(12 * 60_000);

    // Assess
    expect(before).toBe(0);
    expect(calls.map((call) => (call.event as ScheduledEvent).time)).toEqual([
      "2026-11-26T10:05:00Z",
      "2026-11-26T10:10:00Z",
      "2026-11-26T10:15:00Z",
    ]);
    expect(calls[0]).toEqual({
      name: FUNCTION_ARN,
      options: { invocationType: "Event", source: "events" },
      event: {
        version: "0",
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: "000000000000",
        time: "2026-11-26T10:05:00Z",
        region: "us-east-1",
        resources: [RULE_ARN],
        detail: {},
      },
    });
    expect(running.nextFireAt()?.toISOString()).toBe("2026-11-26T10:20:00.000Z");
    running.stop();
  });

  it("fires on demand, sends a constant Input instead of the event, and stops cleanly", async () => {
    // Arrange
    const { clock, advance, pending } = manualClock("2026-11-26T10:00:00Z");
    const { invoker, calls } = recordingInvoker();
    const running = startSchedule({
      ruleArn: RULE_ARN,
      expression: "cron(0 3 * * ? *)",
      functionArn: FUNCTION_ARN,
      input: { task: "purge" },
      invoker,
      region: "us-east-1",
      accountId: "000000000000",
      clock,
    });

    // Act
    const result = await running.fire();
    running.stop();
    advance(48 * 3600_000);

    // Assess
    expect(result.ok).toBe(true);
    expect(calls.map((call) => call.event)).toEqual([{ task: "purge" }]);
    expect(pending()).toBe(0);
    expect(running.nextFireAt()).toBeUndefined();
  });
});
