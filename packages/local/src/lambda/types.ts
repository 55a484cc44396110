/**
 * The shapes of the local Lambda runtime: what the composer registers (one `LocalFunction` per
 * `AWS::Lambda::Function` of the synthesized templates), what it is given, and what it reports to
 * the console (invocation records and log records).
 */
import type { LambdaInvoker } from "../cloud/contracts";

/** A function as the template declares it, with the directory SST built its bundle into. */
export interface LocalFunction {
  name: string;
  arn: string;
  roleArn: string;
  /** As in the template: `packages/functions/src/cognito/pre-sign-up.handler`. */
  handler: string;
  /** Absolute directory of the bundle: the handler file is `<bundleDir>/<module>.mjs|.js|.cjs`. */
  bundleDir: string;
  /** `nodejs22.x`; recorded in AWS_EXECUTION_ENV, the worker runs on this process's Node. */
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  /**
   * The template's `TracingConfig.Mode`. `Active`: with a `tracing` collector given to the
   * runtime, every invocation is sampled (`Sampled=1`), the function gets
   * `AWS_XRAY_DAEMON_ADDRESS`, and the runtime records the function's segment. Otherwise
   * (`PassThrough`, absent) the header says `Sampled=0` and nothing is recorded.
   */
  tracing?: "Active" | "PassThrough";
}

/** Where the runtime's X-Ray segments go: the local X-Ray daemon (src/services/xray). */
interface TraceCollector {
  /** `host:port` of its UDP endpoint, handed to traced functions as `AWS_XRAY_DAEMON_ADDRESS`. */
  readonly address: string;
  /** Records a segment document made in this process (the invocation's function segment). */
  record(document: Record<string, unknown>): unknown;
}

export interface FunctionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When set, a warm environment is retired a minute before, so no call signs with stale keys. */
  expiration?: Date;
}

export interface LambdaRuntimeOptions {
  region: string;
  accountId: string;
  /** AWS_ENDPOINT_URL of the functions' SDK clients: the local plane's edge. */
  endpoint: string;
  /** The execution role's credentials (the composer issues them from the local STS). */
  credentialsFor(fn: LocalFunction): FunctionCredentials | Promise<FunctionCredentials>;
  /** Every log line, structured, as it happens (START/END/REPORT included). */
  log?: (record: LambdaLogRecord) => void;
  /** Execution environments per function (Lambda's per-function concurrency); default 4. */
  maxConcurrencyPerFunction?: number;
  /** Calls waiting for a busy function's environment before TooManyRequests; default 100. */
  maxQueuedPerFunction?: number;
  /** Invocation records kept for `invocations()`; default 200. */
  maxRecords?: number;
  /** Delays before the two retries of a failed `Event` invocation; Lambda waits 1 and 2 minutes. */
  asyncRetryDelaysMs?: [number, number];
  /** `Event` invocations admitted but not finished; beyond it, TooManyRequests; default 1,000. */
  maxAsyncQueue?: number;
  /** An `Event` invocation that failed its last attempt (Lambda's on-failure destination). */
  onAsyncFailure?: (failure: AsyncFailure) => void;
  /** A warm environment idle this long is stopped (Lambda recycles them too); default 10 min. */
  idleTimeoutMs?: number;
  /**
   * The X-Ray daemon for functions with active tracing. Without it no function is sampled, as
   * before: every trace header says `Sampled=0`.
   */
  tracing?: TraceCollector;
}

export interface AsyncFailure {
  functionName: string;
  functionArn: string;
  requestId: string;
  event: unknown;
  attempts: number;
  errorType: string;
  errorMessage: string;
}

export type LogStream = "console" | "stdout" | "stderr" | "platform";

export interface LambdaLogRecord {
  /** ISO time of the line. */
  time: string;
  functionName: string;
  /** The invocation the line belongs to (`null` for output between invocations). */
  requestId: string | null;
  stream: LogStream;
  /** `INFO`, `WARN`, `ERROR`, ... for console calls; `START`/`END`/`REPORT` for platform lines. */
  level?: string;
  message: string;
  /** The line as CloudWatch Logs would show it. */
  line: string;
}

export interface InvocationRecord {
  functionName: string;
  requestId: string;
  source: string;
  invocationType: "RequestResponse" | "Event";
  /** 1 for the first try; 2 and 3 for the retries of an `Event` invocation. */
  attempt: number;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  errorType?: string;
  errorMessage?: string;
  timedOut?: boolean;
  /** Bounded JSON of the event and of the result (truncated with a marker). */
  event: string;
  result?: string;
  logs: string[];
}

export interface InvocationFilter {
  functionName?: string;
  source?: string;
  ok?: boolean;
  /** Most recent first, at most this many. */
  limit?: number;
}

export interface LambdaRuntime extends LambdaInvoker {
  /** Adds a function, or replaces it (its warm environments retire after their current call). */
  register(fn: LocalFunction): void;
  /**
   * Starts one execution environment of the function and runs its init phase (provisioned
   * concurrency), so the first call does not pay the bundle's load; false if init failed.
   */
  warm(functionNameOrArn: string): Promise<boolean>;
  /** Initialised environments of the function waiting for a call (0 for an unknown function). */
  warmEnvironments(functionNameOrArn: string): number;
  functions(): LocalFunction[];
  /** Recent invocations, most recent first. */
  invocations(filter?: InvocationFilter): InvocationRecord[];
  /** Called after every finished invocation; returns the unsubscribe function. */
  onInvocation(listener: (record: InvocationRecord) => void): () => void;
  /** Resolves once no `Event` invocation is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  close(): Promise<void>;
}
