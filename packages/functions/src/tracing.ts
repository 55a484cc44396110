import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { isThrottlingError } from "@smithy/core/retry";

/**
 * X-Ray subsegments for AWS SDK v3 calls, sent to the Lambda X-Ray endpoint as segment documents
 * (the documented UDP protocol of the daemon). This replaces the Powertools Tracer, whose
 * aws-xray-sdk-core made up most of a trigger's load time and is in maintenance mode since
 * February 2026 (ADR 0009). What it records is what the X-Ray SDK recorded for our functions:
 * one subsegment per SDK call, under the invocation's trace, with the service, operation, region,
 * request id, retries, HTTP status, the resource named in the request, and the error, throttle and
 * fault flags. Lambda itself records the function's segment and its Init/Invocation subsegments.
 */

/** The parts of an `X-Amzn-Trace-Id` header a subsegment needs, and the rest kept verbatim. */
interface TraceHeader {
  root: string;
  parent: string;
  sampled: boolean;
  /** Other fields (for example `Lineage`, which Lambda's recursive-loop detection reads). */
  others: string[];
}

const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const SEGMENT_ID = /^[0-9a-f]{16}$/;

/**
 * Parses `Root=1-…;Parent=…;Sampled=1[;Lineage=…]`. A header without a well-formed root or parent
 * gives `undefined`: a subsegment without both would be dropped by X-Ray or attached to nothing.
 */
export function parseTraceHeader(value: string | undefined): TraceHeader | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length > 1024) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled = false;
  const others: string[] = [];
  for (const part of value.split(";")) {
    const field = part.trim();
    const at = field.indexOf("=");
    if (at <= 0) continue;
    const key = field.slice(0, at).toLowerCase();
    const fieldValue = field.slice(at + 1);
    if (key === "root") root = fieldValue;
    else if (key === "parent") parent = fieldValue;
    else if (key === "sampled") sampled = fieldValue === "1";
    // `Self` is set by load balancers for their own hop, never passed on (as the X-Ray SDK does).
    else if (key !== "self") others.push(field);
  }
  if (root === undefined || !ROOT.test(root)) return undefined;
  if (parent === undefined || !SEGMENT_ID.test(parent)) return undefined;
  return { root, parent, sampled, others };
}

/** At most this many bytes of other fields travel on, as the X-Ray SDK limits them. */
const OTHER_FIELDS_MAX_BYTES = 256;

/** The header for a downstream call made inside `subsegmentId`, other fields carried over. */
export function downstreamTraceHeader(trace: TraceHeader, subsegmentId: string): string {
  const fields = [`Root=${trace.root}`, `Parent=${subsegmentId}`, "Sampled=1"];
  let budget = OTHER_FIELDS_MAX_BYTES;
  for (const field of trace.others) {
    budget -= Buffer.byteLength(field) + 1;
    if (budget < 0) break;
    fields.push(field);
  }
  return fields.join(";");
}

/**
 * `AWS_XRAY_DAEMON_ADDRESS` as Lambda sets it (`169.254.79.129:2000`), or the daemon's two-address
 * form (`tcp:host:port udp:host:port`), of which segments use the UDP one. Default 127.0.0.1:2000.
 */
export function parseDaemonAddress(value: string | undefined): { host: string; port: number } {
  const fallback = { host: "127.0.0.1", port: 2000 };
  const raw = (value ?? "").trim();
  if (raw === "") return fallback;
  const candidates = raw.split(/\s+/);
  const udp = candidates.find((c) => c.startsWith("udp:"))?.slice(4);
  const address = udp ?? candidates.find((c) => !c.startsWith("tcp:"));
  if (address === undefined) return fallback;
  const at = address.lastIndexOf(":");
  const port = Number(address.slice(at + 1));
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return fallback;
  return { host, port };
}

/** What one SDK call came to, as the middleware saw it. */
interface AwsCallOutcome {
  service: string;
  operation: string;
  region: string | undefined;
  startTime: number;
  endTime: number;
  input: unknown;
  metadata: { httpStatusCode?: number; requestId?: string; attempts?: number } | undefined;
  /** The error the call ended with, if any (after the SDK's own retries). */
  error?: unknown;
}

/** Request fields that name the resource, recorded as the X-Ray SDK records them. */
const RESOURCE_FIELDS: Record<string, string> = {
  TableName: "table_name",
  TopicArn: "topic_arn",
  QueueUrl: "queue_url",
  StreamName: "stream_name",
  StreamARN: "stream_arn",
  FunctionName: "function_name",
  UserPoolId: "user_pool_id",
  IdentityPoolId: "identity_pool_id",
};

/**
 * The segment document of one AWS call. Only the error's name goes in, never its message: AWS
 * messages can echo request values (keys, attribute values), and traces are not where those go.
 */
export function awsCallSubsegment(
  trace: TraceHeader,
  id: string,
  call: AwsCallOutcome,
): Record<string, unknown> {
  const aws: Record<string, unknown> = { operation: call.operation };
  if (call.region !== undefined) aws.region = call.region;
  if (call.metadata?.requestId !== undefined) aws.request_id = call.metadata.requestId;
  aws.retries = Math.max(0, (call.metadata?.attempts ?? 1) - 1);
  if (call.input !== null && typeof call.input === "object") {
    for (const [field, key] of Object.entries(RESOURCE_FIELDS)) {
      const value = (call.input as Record<string, unknown>)[field];
      if (typeof value === "string") aws[key] = value;
    }
  }
  const document: Record<string, unknown> = {
    id,
    trace_id: trace.root,
    parent_id: trace.parent,
    type: "subsegment",
    name: call.service,
    namespace: "aws",
    start_time: call.startTime,
    end_time: call.endTime,
    aws,
  };
  const status = call.metadata?.httpStatusCode;
  if (status !== undefined) document.http = { response: { status } };
  if (call.error !== undefined) {
    const error = call.error as { name?: unknown; $fault?: unknown } | null;
    const name = typeof error?.name === "string" ? error.name : "Error";
    // The SDK's own rule, the one its retries follow (429, throttling error names, the trait).
    const throttled = throttling(call.error, status);
    // X-Ray's meaning: `error` is a 4xx, the caller's; anything else that failed (a 5xx, an
    // answer that could not be read, no answer at all) is a `fault`.
    const clientError =
      status !== undefined ? status >= 400 && status < 500 : error?.$fault === "client";
    if (throttled) document.throttle = true;
    if (clientError) document.error = true;
    else document.fault = true;
    document.cause = {
      exceptions: [
        { id: randomBytes(8).toString("hex"), type: name, remote: status !== undefined },
      ],
    };
  }
  return document;
}

function throttling(error: unknown, status: number | undefined): boolean {
  if (status === 429) return true;
  if (error === null || typeof error !== "object") return false;
  try {
    return isThrottlingError(error as Parameters<typeof isThrottlingError>[0]);
  } catch {
    return false;
  }
}

const DOCUMENT_HEADER = '{"format":"json","version":1}\n';

/** Where segment documents go. Tests give their own; Lambda's is UDP to its X-Ray endpoint. */
export interface SegmentSink {
  send(document: Record<string, unknown>): void;
}

/**
 * Fire-and-forget UDP, as the X-Ray SDK sends. The socket is opened when the sink is made, during
 * the function's init (about 1.5 ms, counted in the benchmark's load time), not on the first
 * invocation; it never keeps the process alive, and a socket that closed (an error) is opened
 * again for the next document. A send that fails is dropped, never surfaced to the call traced.
 */
class UdpSegmentSink implements SegmentSink {
  #socket: Socket | undefined;
  readonly #address: { host: string; port: number };

  constructor(address: { host: string; port: number }) {
    this.#address = address;
    this.#socket = this.#open();
  }

  #open(): Socket {
    const socket = createSocket(this.#address.host.includes(":") ? "udp6" : "udp4");
    socket.on("error", () => socket.close());
    socket.on("close", () => {
      if (this.#socket === socket) this.#socket = undefined;
    });
    socket.unref();
    return socket;
  }

  send(document: Record<string, unknown>): void {
    try {
      this.#socket ??= this.#open();
      const message = Buffer.from(DOCUMENT_HEADER + JSON.stringify(document));
      this.#socket.send(message, this.#address.port, this.#address.host, () => {});
    } catch {
      // Tracing is best effort; the call it describes has already completed.
    }
  }
}

type Next = (args: { input: unknown; request?: unknown }) => Promise<{ output?: unknown }>;
type CallMetadata = AwsCallOutcome["metadata"];
interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}
interface TraceableClient {
  middlewareStack: {
    add(
      middleware: (next: Next, context: MiddlewareContext) => Next,
      options: { step: "build"; name: string; priority: "high"; override: boolean },
    ): void;
  };
  config?: { serviceId?: unknown; region?: unknown };
}

function isTraceable(client: object): client is TraceableClient {
  const stack = (client as { middlewareStack?: { add?: unknown } }).middlewareStack;
  return typeof stack?.add === "function";
}

async function regionOf(config: TraceableClient["config"]): Promise<string | undefined> {
  try {
    const region = typeof config?.region === "function" ? await config.region() : config?.region;
    return typeof region === "string" ? region : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A call's clock: its start in seconds since the epoch from the wall clock (what Lambda's own
 * segment uses; `performance.timeOrigin` drifts from it in a long-lived environment), and its
 * end as the start plus the monotonic time elapsed, with sub-millisecond precision.
 */
function callClock(): { start: number; end: () => number } {
  const start = Date.now() / 1000;
  const began = performance.now();
  return { start, end: () => start + (performance.now() - began) / 1000 };
}

/**
 * The current invocation's trace header: from the runtime's per-invocation store where Lambda runs
 * invocations concurrently in one environment, otherwise from `_X_AMZN_TRACE_ID`, which the
 * runtime sets before each invocation.
 */
function currentTraceHeader(): string | undefined {
  const store = (
    globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => string | undefined } } }
  ).awslambda?.InvokeStore;
  return store?.getXRayTraceId?.() ?? process.env._X_AMZN_TRACE_ID;
}

/** Adds subsegments to AWS SDK v3 clients' calls, for invocations Lambda sampled. */
export class AwsCallTracer {
  readonly #sink: SegmentSink;
  readonly #readHeader: () => string | undefined;

  constructor(
    sink: SegmentSink = new UdpSegmentSink(parseDaemonAddress(process.env.AWS_XRAY_DAEMON_ADDRESS)),
    readHeader: () => string | undefined = currentTraceHeader,
  ) {
    this.#sink = sink;
    this.#readHeader = readHeader;
  }

  /** The client, its calls now traced. A client with no middleware stack is handed back as is. */
  capture<T extends object>(client: T): T {
    if (!isTraceable(client)) return client;
    const config = client.config;
    // The X-Ray SDK's names: "DynamoDB", "SNS", "CognitoIdentityProvider" (the id has spaces).
    const serviceId =
      typeof config?.serviceId === "string" ? config.serviceId.replace(/\s+/g, "") : undefined;
    // Resolved once, ahead of the first call, so a subsegment goes out as its call ends.
    const region: { value?: string; known: Promise<void> } = { known: Promise.resolve() };
    region.known = regionOf(config).then((value) => {
      if (value !== undefined) region.value = value;
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const call = this.#begin(args, context, serviceId, region);
        if (call === undefined) return next(args);
        try {
          const result = await next(args);
          call.end((result?.output as { $metadata?: CallMetadata } | undefined)?.$metadata);
          return result;
        } catch (error) {
          call.end((error as { $metadata?: CallMetadata } | null)?.$metadata, error);
          throw error;
        }
      },
      { step: "build", name: "boardingPassXRaySubsegment", priority: "high", override: true },
    );
    return client;
  }

  /**
   * Starts the subsegment of a call of a sampled invocation: its id, the downstream header, its
   * clock. `undefined` when the invocation is not sampled, and also when anything here fails: the
   * call then goes out untraced, as with tracing off, never failed by the tracer. `end` never
   * throws either: a document that cannot be made or sent is dropped, as a lost datagram would be.
   */
  #begin(
    args: { input: unknown; request?: unknown },
    context: MiddlewareContext,
    serviceId: string | undefined,
    region: { value?: string; known: Promise<void> },
  ): { end: (metadata: CallMetadata, error?: unknown) => void } | undefined {
    try {
      const trace = parseTraceHeader(this.#readHeader());
      if (trace === undefined || !trace.sampled) return undefined;
      const id = randomBytes(8).toString("hex");
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers !== undefined) {
        request.headers["X-Amzn-Trace-Id"] = downstreamTraceHeader(trace, id);
      }
      const service =
        serviceId ?? (context.clientName ?? "AWS").replace(/(?:DocumentClient|Client)$/, "");
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      const clock = callClock();
      return {
        end: (metadata, error) => {
          try {
            const endTime = clock.end();
            const send = () =>
              this.#sink.send(
                awsCallSubsegment(trace, id, {
                  service,
                  operation,
                  region: region.value,
                  startTime: clock.start,
                  endTime,
                  input: args.input,
                  metadata,
                  ...(error !== undefined ? { error } : {}),
                }),
              );
            if (region.value !== undefined) send();
            else void region.known.then(send).catch(() => {});
          } catch {
            // Dropped.
          }
        },
      };
    } catch {
      return undefined;
    }
  }
}
