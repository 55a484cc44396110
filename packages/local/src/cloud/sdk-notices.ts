/**
 * Two notices the AWS SDKs print on their own, once per process or worker that loads them, which on
 * a development machine means dozens of copies per test run, start or benchmark:
 *
 * - AWS SDK for JavaScript v3 (`@aws-sdk/core`, `emitWarningIfUnsupportedVersion`, run by every
 *   client's constructor): `process.emitWarning("NodeVersionSupportWarning: ...")` on Node < 22.
 *   Its own opt-out: `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true`.
 * - AWS SDK for JavaScript v2 (`aws-sdk/lib/maintenance_mode_message.js`, loaded by SST v2 while
 *   it synthesizes): `process.emitWarning(..., { type: "NOTE" })`, "has reached end-of-support".
 *   Its own opt-out: `AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE` set to anything.
 *
 * Both SDKs read their variable when they are about to print, so setting it on `process.env`
 * before the first client (child processes and workers inherit it) silences exactly that notice:
 * `process.emitWarning` itself is left alone, and every other warning prints as before. A variable
 * the user set (say `...WARNING_DISABLED=false`, to see the warning) is kept.
 *
 * This is the host side only. The local Lambda runtime builds each function's environment from
 * scratch (lambda/environment.ts) and decides there, from the function's runtime, whether the
 * function's own SDK would warn on Lambda.
 */

/** The SDKs' opt-out variables, with the value each needs. */
export const SDK_NOTICE_OPT_OUTS: Readonly<Record<string, string>> = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
};

/** The first Node major the SDK v3 releases after the first week of January 2027 support. */
const SDK_NODE_MAJOR = 22;

/** Sets each opt-out the environment does not already decide. */
export function silenceSdkNotices(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(SDK_NOTICE_OPT_OUTS)) {
    if (env[name] === undefined) env[name] = value;
  }
}

/** The one line that replaces the SDK's NodeVersionSupportWarning, on a Node older than it wants. */
export function nodeSupportNotice(version: string = process.version): string | undefined {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (!Number.isInteger(major) || major >= SDK_NODE_MAJOR) return undefined;
  return (
    `Node ${version}: AWS SDK v3 releases after the first week of January 2027 require Node ` +
    `${SDK_NODE_MAJOR} or later (see the README); the SDK's NodeVersionSupportWarning is not repeated.`
  );
}
