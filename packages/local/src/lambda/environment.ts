/**
 * The process environment of an execution environment: the template's variables, then Lambda's
 * reserved variables (which win, as Lambda refuses to let a template set them), the role's
 * credentials and the local endpoint so an unmodified SDK v3 client reaches the local plane.
 */
import { randomBytes } from "node:crypto";
import type { FunctionCredentials, LocalFunction } from "./types";

interface EnvironmentNames {
  logGroupName: string;
  logStreamName: string;
}

/** Lambda's stream names: `2026/11/26/[$LATEST]<32 hex>`, one per execution environment. */
export function environmentNames(fn: LocalFunction, now = new Date()): EnvironmentNames {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
  };
}

/** Lambda's reserved X-Ray variables: a template cannot point a function at another daemon. */
const XRAY_VARIABLES = [
  "AWS_XRAY_DAEMON_ADDRESS",
  "_AWS_XRAY_DAEMON_ADDRESS",
  "_AWS_XRAY_DAEMON_PORT",
  "AWS_XRAY_CONTEXT_MISSING",
  "_X_AMZN_TRACE_ID",
];

export function functionEnvironment(
  fn: LocalFunction,
  options: { region: string; endpoint: string; xrayDaemonAddress?: string },
  credentials: FunctionCredentials,
  names: EnvironmentNames,
): Record<string, string> {
  const env: Record<string, string> = {
    // What a handler may reasonably expect of the host; TZ is left out on purpose: Node applies
    // it process-wide, so a worker setting it would move the clock of every other thread.
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    ...fn.environment,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: names.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: names.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.bundleDir,
    LAMBDA_RUNTIME_DIR: fn.bundleDir,
    _HANDLER: fn.handler,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL: options.endpoint,
  };
  // What Lambda sets for active tracing: where the X-Ray daemon listens (one `host:port`, the
  // UDP endpoint) and what an X-Ray SDK does outside a traced context.
  for (const name of XRAY_VARIABLES) delete env[name];
  if (options.xrayDaemonAddress !== undefined) {
    const at = options.xrayDaemonAddress.lastIndexOf(":");
    env.AWS_XRAY_DAEMON_ADDRESS = options.xrayDaemonAddress;
    env._AWS_XRAY_DAEMON_ADDRESS = options.xrayDaemonAddress.slice(0, at);
    env._AWS_XRAY_DAEMON_PORT = options.xrayDaemonAddress.slice(at + 1);
    env.AWS_XRAY_CONTEXT_MISSING = "LOG_ERROR";
  }
  // The AWS SDK warns, once per environment, when the Node it runs on is older than its next
  // versions will support. The worker runs on this host's Node, standing in for the function's
  // runtime: a function declared for a newer runtime than the host's would not warn on Lambda, and
  // the warning would only fill its log with an ERROR line per cold start.
  if (
    runtimeMajor(fn.runtime) > HOST_NODE_MAJOR &&
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined
  ) {
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  }
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  else delete env.AWS_SESSION_TOKEN;
  return env;
}

const HOST_NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** `nodejs22.x` → 22; anything else (a custom runtime) → 0. */
export function runtimeMajor(runtime: string): number {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  return match ? Number(match[1]) : 0;
}
