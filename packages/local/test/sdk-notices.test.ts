/**
 * The AWS SDKs' own notices are silenced through their own opt-outs, and nothing else is: a child
 * Node process runs the SDKs' real emitters (v3's Node-support check, v2's end-of-support note)
 * and a warning of its own, and the test reads what reached its stderr.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  nodeSupportNotice,
  SDK_NOTICE_OPT_OUTS,
  silenceSdkNotices,
} from "../src/cloud/sdk-notices";

const ROOT = path.resolve(import.meta.dirname, "../../..");

/** What the SDKs do in every process that loads them, on an old Node, plus a genuine warning. */
const CHILD = `
const { emitWarningIfUnsupportedVersion } = require("@aws-sdk/core/client");
require("aws-sdk/lib/maintenance_mode_message");
emitWarningIfUnsupportedVersion("v20.0.0");
process.emitWarning("the queue is 90% full", "CapacityWarning");
setTimeout(() => {}, 20);
`;

function stderrOf(env: NodeJS.ProcessEnv): string {
  const child = spawnSync(process.execPath, ["-e", CHILD], { cwd: ROOT, env, encoding: "utf8" });
  expect(child.status).toBe(0);
  return child.stderr;
}

/** This environment without any opt-out (vitest's own run has them set). */
function loudEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(SDK_NOTICE_OPT_OUTS)) delete env[name];
  return env;
}

describe("silenceSdkNotices", () => {
  it("without it, the child prints both SDK notices (so the next test can see them go)", () => {
    const stderr = stderrOf(loudEnvironment());
    expect(stderr).toContain("NodeVersionSupportWarning");
    expect(stderr).toContain("has reached end-of-support");
    expect(stderr).toContain("CapacityWarning: the queue is 90% full");
  });

  it("silences exactly the two SDK notices; another warning still prints", () => {
    const env = loudEnvironment();
    silenceSdkNotices(env);
    const stderr = stderrOf(env);
    expect(stderr).not.toContain("NodeVersionSupportWarning");
    expect(stderr).not.toContain("end-of-support");
    expect(stderr).toContain("CapacityWarning: the queue is 90% full");
  });

  it("keeps an opt-out the user decided, e.g. to see the warning", () => {
    const env: NodeJS.ProcessEnv = {
      ...loudEnvironment(),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false",
    };
    silenceSdkNotices(env);
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe("false");
    expect(env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE).toBe("1");
    expect(stderrOf(env)).toContain("NodeVersionSupportWarning");
  });
});

describe("nodeSupportNotice", () => {
  it.each(["v20.19.0", "v21.7.3"])("is one line on %s", (version) => {
    const notice = nodeSupportNotice(version);
    expect(notice).toContain(`Node ${version}: AWS SDK v3 releases`);
    expect(notice).not.toContain("\n");
  });

  it.each(["v22.0.0", "v24.11.1", "not a version"])("is nothing on %s", (version) => {
    expect(nodeSupportNotice(version)).toBeUndefined();
  });
});
