/**
 * The X-Ray side of an invocation, as Lambda's service does it: the per-invocation trace header
 * (`_X_AMZN_TRACE_ID`), sampled for functions with active tracing, and the function's own segment
 * (`AWS::Lambda::Function`), whose id is the header's `Parent`, so the subsegments the function
 * sends for its SDK calls hang under it.
 */
import { randomBytes } from "node:crypto";

interface InvocationTrace {
  /** `1-<epoch seconds, 8 hex>-<24 hex>` */
  root: string;
  /** The function segment's id, 16 hex. */
  parent: string;
  sampled: boolean;
}

export function newInvocationTrace(sampled: boolean, now = Date.now()): InvocationTrace {
  const epoch = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, "0");
  return {
    root: `1-${epoch}-${randomBytes(12).toString("hex")}`,
    parent: randomBytes(8).toString("hex"),
    sampled,
  };
}

/** `Root=1-…;Parent=…;Sampled=0|1`, exactly Lambda's format. */
export function traceHeader(trace: InvocationTrace): string {
  return `Root=${trace.root};Parent=${trace.parent};Sampled=${trace.sampled ? 1 : 0}`;
}

/** Seconds since the epoch with sub-millisecond precision, as segment documents take them. */
export const epochSeconds = (): number => (performance.timeOrigin + performance.now()) / 1000;

/**
 * The function segment of one invocation: a top-level segment (no `type`), its error as a fault
 * with the error's type only (never its message: messages can echo request values, and the
 * subsegments the functions send keep to names as well).
 */
export function functionSegment(
  trace: InvocationTrace,
  fn: { name: string; arn: string },
  call: {
    requestId: string;
    startTime: number;
    endTime: number;
    error?: { errorType: string; timedOut: boolean };
  },
): Record<string, unknown> {
  const segment: Record<string, unknown> = {
    id: trace.parent,
    trace_id: trace.root,
    name: fn.name,
    start_time: call.startTime,
    end_time: Math.max(call.startTime, call.endTime),
    origin: "AWS::Lambda::Function",
    aws: {
      function_arn: fn.arn,
      resource_names: [fn.name],
      account_id: fn.arn.split(":")[4],
      request_id: call.requestId,
    },
  };
  if (call.error) {
    segment.fault = true;
    segment.cause = {
      exceptions: [
        {
          id: randomBytes(8).toString("hex"),
          type: call.error.errorType,
          ...(call.error.timedOut ? { message: "Task timed out" } : {}),
        },
      ],
    };
  }
  return segment;
}
