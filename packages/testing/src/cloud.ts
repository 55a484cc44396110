/**
 * Boots the local cloud from the real stacks for an end-to-end test file, and the journey's target
 * for it: the one way e2e tests start a cloud, so each file gets the same ids, probes and logs.
 */
import { type LocalCloud, startLocalCloud } from "@boarding-pass/local/cloud";
import { traceView } from "@boarding-pass/local/console/traces";
import { type CloudProbe, Journey, type JourneyOptions, type JourneyTarget } from "./journey";

/** A cache miss synthesizes the app first: 1 to 3 minutes on a busy 2-core machine. */
export const BOOT_TIMEOUT_MS = 6 * 60_000;
export const STEP_TIMEOUT_MS = 60_000;

/** What the cloud saw, read in process: the pool's outbox and the runtime's invocation records. */
export function inProcessProbe(local: LocalCloud): CloudProbe {
  return {
    async confirmationCodes(email) {
      return local.aws.cognitoIdp!.outbox({ email }).map((message) => message.code);
    },
    async invocations() {
      return local.runtime.invocations();
    },
    async traces() {
      return (local.xray?.traces() ?? []).map(traceView);
    },
  };
}

/** The journey's view of a booted cloud: endpoints and the stacks' outputs. */
function journeyTarget(cloud: LocalCloud): JourneyTarget {
  return {
    region: cloud.region,
    endpoint: cloud.endpoint,
    apiUrl: cloud.output("ApiUrl"),
    mqttUrl: cloud.mqttUrl,
    userPoolId: cloud.output("UserPoolId"),
    userPoolClientId: cloud.output("UserPoolClientId"),
    identityPoolId: cloud.output("IdentityPoolId"),
    tableName: cloud.output("TableName"),
    iotTopicRoot: cloud.output("IotTopicRoot"),
    probe: inProcessProbe(cloud),
  };
}

/**
 * An in-memory local cloud on ephemeral loopback ports. `E2E_VERBOSE=1` prints the cloud's and the
 * functions' logs (to diagnose a failing step).
 */
export async function bootCloud(
  options: Partial<Parameters<typeof startLocalCloud>[0]> = {},
): Promise<LocalCloud> {
  const verbose = process.env.E2E_VERBOSE ? (line: string) => console.log(line) : undefined;
  return startLocalCloud({
    port: 0,
    outputsFile: null,
    dataDir: undefined,
    ...(verbose ? { log: verbose, functionLog: verbose } : {}),
    ...options,
  });
}

/** A fresh journey (its own users) against a booted cloud. */
export function journeyOn(cloud: LocalCloud, options: JourneyOptions = {}): Journey {
  return new Journey(journeyTarget(cloud), options);
}
