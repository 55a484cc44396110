import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * What every SDK client made here shares: explicit timeouts (the SDK's default is none, and a
 * trigger has 5 s in all), a bounded retry budget for the SDK's own retry strategy, and an optional
 * endpoint for the local cloud.
 */
export interface SdkClientOptions {
  region?: string;
  /** Local cloud endpoint in tests; AWS's own endpoint when undefined. */
  endpoint?: string;
  /** TCP connect timeout. */
  connectionTimeoutMs?: number;
  /** Time a request may wait for the response to start (socket idle). */
  requestTimeoutMs?: number;
  /** Attempts including the first, for the SDK's standard retry strategy. */
  maxAttempts?: number;
}

const DEFAULT_SDK_TIMEOUTS = {
  connectionTimeoutMs: 500,
  requestTimeoutMs: 1500,
  maxAttempts: 3,
} as const;

/** The shared config object for `new XClient(...)`. */
export function sdkClientConfig(options: SdkClientOptions = {}) {
  return {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? DEFAULT_SDK_TIMEOUTS.maxAttempts,
    // HTTP/1.1 with keep-alive for every client, Kinesis included: explicit timeouts, and the local
    // edge and AWS both serve it.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_SDK_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_SDK_TIMEOUTS.requestTimeoutMs,
    }),
  };
}

/** True for the SDK's error of a failed condition, whatever client threw it. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/** Runs a conditional write: true when it was applied, false when its condition failed. */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** The parts of an SDK client priming uses (every smithy client has them). */
interface PrimableClient {
  config: object;
  send(command: never): Promise<unknown>;
}

/** A command priming may send: it never leaves the process (see `primeSdkClient`). */
interface PrimingProbe {
  middlewareStack: { add(middleware: unknown, options: object): void };
}

/**
 * What the probe gets instead of a network answer: an empty JSON 200, so the response side
 * (deserializer, output shaping) runs once too. Every JSON protocol reads `{}` as an empty output.
 */
const EMPTY_JSON_RESPONSE = () => ({
  statusCode: 200,
  headers: { "content-type": "application/x-amz-json-1.0" },
  body: new TextEncoder().encode("{}"),
});

/**
 * Makes a client's first real request cost what its later ones do, without sending anything:
 * resolves its region and credentials (loading the credential chain's lazily imported modules)
 * and, given a probe command, runs the whole pipeline once (serialization, endpoint rules,
 * signing, then the response side over an empty answer made in place of the HTTP handler's), so
 * nothing reaches the network. Meant for
 * a Lambda's init phase ("Lambda execution environment lifecycle", AWS Lambda Developer Guide:
 * init is where static initialization belongs). Best effort: never throws; a real call reports
 * any problem.
 */
export async function primeSdkClient(client: PrimableClient, probe?: PrimingProbe): Promise<void> {
  const config = client.config as { region?: unknown; credentials?: unknown };
  const resolve = (value: unknown) =>
    typeof value === "function" ? (value as () => unknown)() : value;
  try {
    await Promise.all([resolve(config.region), resolve(config.credentials)]);
    if (probe === undefined) return;
    // Innermost (after signing, under the deserializer), on this command only. Unnamed: a
    // lib-dynamodb command resolves its stack with its inner command's, and a name would clash.
    probe.middlewareStack.add(() => async () => ({ response: EMPTY_JSON_RESPONSE(), output: {} }), {
      step: "deserialize",
      priority: "low",
    });
    await client.send(probe as never);
  } catch {
    // Anything that goes wrong here is left to the first real call to report.
  }
}
