/**
 * EventBridge schedules for the local cloud: `rate(n unit)` and a cron subset, firing the target
 * function with the Scheduled Event shape, asynchronously as EventBridge does.
 *
 * Cron is AWS's six-field form, in UTC: `cron(minutes hours day-of-month month day-of-week year)`
 * with `*`, `?`, numbers, ranges `a-b`, lists `a,b`, steps `a/n` and `*\/n`, month names JAN-DEC,
 * weekday names SUN-SAT (1 = Sunday, as in AWS), and `L` (last day of the month) in day-of-month.
 * Exactly one of day-of-month and day-of-week must be `?`. Not supported (refused, not ignored):
 * `W`, `#`, and `L` in day-of-week.
 *
 * Missed occurrences (a sleeping laptop) are not replayed: the next timer is set from now, and
 * EventBridge does not backfill either. Timers are unref'd: a schedule never keeps a process up.
 */
import { randomUUID } from "node:crypto";
import type { InvokeResult, LambdaInvoker } from "./contracts";

interface Schedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`, or undefined when there is none (a past year). */
  next(after: Date): Date | undefined;
}

export interface ScheduleClock {
  now(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: ScheduleClock = {
  now: () => new Date(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ScheduledEvent {
  version: "0";
  id: string;
  "detail-type": "Scheduled Event";
  source: "aws.events";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

interface ScheduleOptions {
  ruleArn: string;
  /** `rate(5 minutes)` or `cron(0 12 * * ? *)`, as in the template's ScheduleExpression. */
  expression: string;
  functionArn: string;
  /** The target's constant `Input`: sent instead of the Scheduled Event when set. */
  input?: unknown;
  invoker: LambdaInvoker;
  region: string;
  accountId: string;
  clock?: ScheduleClock;
  /** A failed invoke (e.g. the queue is full); the schedule keeps going. */
  onResult?: (result: InvokeResult, event: ScheduledEvent) => void;
}

export interface RunningSchedule {
  readonly schedule: Schedule;
  /** Invokes the target now (or as of `at`), outside the timer; for tests and tools. */
  fire(at?: Date): Promise<InvokeResult>;
  /** When the timer will fire next (undefined once stopped or exhausted). */
  nextFireAt(): Date | undefined;
  stop(): void;
}

/** setTimeout holds at most 2^31-1 ms; further occurrences are reached by re-arming. */
const MAX_TIMER_MS = 2_147_483_647;
const MINUTE_MS = 60_000;
const UNIT_MS: Record<string, number> = {
  minute: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  day: 1440 * MINUTE_MS,
};

class ScheduleExpressionError extends Error {
  override name = "ValidationException";
}

export function parseScheduleExpression(expression: string): Schedule {
  const trimmed = expression.trim();
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(trimmed);
  if (rate) return rateSchedule(trimmed, Number(rate[1]), rate[2]!);
  const cron = /^cron\((.*)\)$/.exec(trimmed);
  if (cron) return cronSchedule(trimmed, cron[1]!);
  throw new ScheduleExpressionError(`Parameter ScheduleExpression is not valid: ${expression}`);
}

function rateSchedule(expression: string, value: number, unit: string): Schedule {
  const singular = unit.replace(/s$/, "");
  // AWS insists on `rate(1 minute)` and `rate(5 minutes)`.
  if (value < 1 || (value === 1) !== (unit === singular)) {
    throw new ScheduleExpressionError(`Parameter ScheduleExpression is not valid: ${expression}`);
  }
  const period = value * UNIT_MS[singular]!;
  return { expression, next: (after) => new Date(after.getTime() + period) };
}

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | "any";
  lastDayOfMonth: boolean;
  months: Set<number>;
  daysOfWeek: Set<number> | "any";
  years: Set<number> | "all";
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function field(
  text: string,
  min: number,
  max: number,
  names: string[] = [],
  nameBase = 1,
): Set<number> {
  const value = (token: string) => {
    const named = names.indexOf(token.toUpperCase());
    const number = named >= 0 ? named + nameBase : Number(token);
    if (!/^\d+$/.test(token) && named < 0) throw new Error(`bad value ${token}`);
    if (number < min || number > max) throw new Error(`${token} out of ${min}-${max}`);
    return number;
  };
  const result = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in ${part}`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = min;
      to = max;
    } else if (range?.includes("-")) {
      const [a, b] = range.split("-");
      from = value(a!);
      to = value(b!);
      if (from > to) throw new Error(`bad range ${range}`);
    } else {
      from = value(range!);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) result.add(n);
  }
  return result;
}

function cronSchedule(expression: string, body: string): Schedule {
  const parts = body.trim().split(/\s+/);
  const invalid = (why: string) =>
    new ScheduleExpressionError(
      `Parameter ScheduleExpression is not valid: ${expression} (${why})`,
    );
  if (parts.length !== 6) throw invalid("six fields expected");
  const [minutes, hours, dom, month, dow, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dom === "?") === (dow === "?"))
    throw invalid("exactly one of day-of-month and day-of-week is ?");
  if (/[W#]/i.test(body) || (dow !== "?" && /L/i.test(dow)))
    throw invalid("W, # and L in day-of-week are not supported");
  let fields: CronFields;
  try {
    fields = {
      minutes: field(minutes, 0, 59),
      hours: field(hours, 0, 23),
      daysOfMonth: dom === "?" || dom.toUpperCase() === "L" ? "any" : field(dom, 1, 31),
      lastDayOfMonth: dom.toUpperCase() === "L",
      months: field(month, 1, 12, MONTHS),
      daysOfWeek: dow === "?" ? "any" : field(dow, 1, 7, WEEKDAYS),
      years: year === "*" ? "all" : field(year, 1970, 2199),
    };
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  return { expression, next: (after) => nextCron(fields, after) };
}

function dayMatches(fields: CronFields, day: Date): boolean {
  const year = day.getUTCFullYear();
  const month = day.getUTCMonth() + 1;
  if (fields.years !== "all" && !fields.years.has(year)) return false;
  if (!fields.months.has(month)) return false;
  const date = day.getUTCDate();
  if (fields.lastDayOfMonth) return date === new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (fields.daysOfMonth !== "any" && !fields.daysOfMonth.has(date)) return false;
  if (fields.daysOfWeek !== "any" && !fields.daysOfWeek.has(day.getUTCDay() + 1)) return false;
  return true;
}

/** Day by day (bounded to ten years), then the first matching hour and minute of that day. */
function nextCron(fields: CronFields, after: Date): Date | undefined {
  const start = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const hours = [...fields.hours].sort((a, b) => a - b);
  const minutes = [...fields.minutes].sort((a, b) => a - b);
  const firstDay = new Date(start);
  firstDay.setUTCHours(0, 0, 0, 0);
  for (let offset = 0; offset < 366 * 10; offset++) {
    const day = new Date(firstDay.getTime() + offset * 1440 * MINUTE_MS);
    if (!dayMatches(fields, day)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = day.getTime() + (hour * 60 + minute) * MINUTE_MS;
        if (at >= start) return new Date(at);
      }
    }
  }
  return undefined;
}

/** EventBridge's `time`: whole seconds, UTC. */
function eventTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

function scheduledEvent(options: {
  ruleArn: string;
  region: string;
  accountId: string;
  at: Date;
}): ScheduledEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: options.accountId,
    time: eventTime(options.at),
    region: options.region,
    resources: [options.ruleArn],
    detail: {},
  };
}

export function startSchedule(options: ScheduleOptions): RunningSchedule {
  const schedule = parseScheduleExpression(options.expression);
  const clock = options.clock ?? systemClock;
  let timer: unknown;
  let nextAt: Date | undefined;
  let stopped = false;

  async function fire(at: Date = clock.now()): Promise<InvokeResult> {
    const event = scheduledEvent({ ...options, at });
    const payload = options.input === undefined ? event : options.input;
    const result = await options.invoker.invoke(options.functionArn, payload, {
      invocationType: "Event",
      source: "events",
    });
    options.onResult?.(result, event);
    return result;
  }

  function arm(after: Date) {
    if (stopped) return;
    nextAt = schedule.next(after);
    if (!nextAt) return;
    const target = nextAt;
    const wait = () => {
      const delay = target.getTime() - clock.now().getTime();
      if (delay > MAX_TIMER_MS) {
        timer = clock.setTimeout(wait, MAX_TIMER_MS);
        return;
      }
      timer = clock.setTimeout(
        () => {
          if (stopped) return;
          void fire(target).catch(() => undefined);
          // From the later of the occurrence and now: occurrences missed while asleep are skipped.
          const now = clock.now();
          arm(now.getTime() > target.getTime() ? now : target);
        },
        Math.max(0, delay),
      );
    };
    wait();
  }

  arm(clock.now());
  return {
    schedule,
    fire,
    nextFireAt: () => (stopped ? undefined : nextAt),
    stop() {
      stopped = true;
      nextAt = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
