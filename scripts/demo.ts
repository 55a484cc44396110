/**
 * `npm run demo [-- --endpoint <url> --api <url> --mqtt <url> --outputs <file>]`
 *
 * Drives the whole Boarding Pass journey against a running local cloud (`npm start` in another
 * terminal) with unmodified clients, and tells what happens at each step: the same steps as the
 * end-to-end test (packages/testing/src/journey.ts). Ids are shortened; tokens and keys are never
 * printed.
 *
 * Defaults: the edge on http://127.0.0.1:4566 (or AWS_ENDPOINT_URL), the HTTP API and MQTT
 * broker on the next two ports (as `npm start` places them; the API from `ApiUrl` in the
 * outputs when present), the outputs in .sst/local/outputs.json. Environment overrides:
 * DEMO_ENDPOINT, DEMO_API_URL, DEMO_MQTT_URL, DEMO_OUTPUTS.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  type CloudProbe,
  Journey,
  JourneyError,
  journeySteps,
  type ObservedInvocation,
  type ObservedTrace,
} from "@boarding-pass/testing/journey";
import { ConsoleLogger } from "aws-amplify/utils";

const HELP = `Usage: npm run demo -- [options]   (start the local cloud first: npm start)
  --endpoint <url>   the local cloud's edge (default http://127.0.0.1:4566, or $AWS_ENDPOINT_URL)
  --api <url>        the HTTP API (default: ApiUrl from the outputs, else the edge port + 1)
  --mqtt <url>       the MQTT broker (default ws://127.0.0.1:<edge port + 2>/mqtt)
  --outputs <file>   the stack outputs npm start wrote (default .sst/local/outputs.json)
  --wait <seconds>   how long to wait for anything asynchronous (default 30)
`;

class DemoSetupError extends Error {}

/** How long the health check may take before the cloud counts as not running. */
const HEALTH_TIMEOUT_MS = 3_000;
/** Bound of every control-API call. */
const CONTROL_TIMEOUT_MS = 10_000;

async function main(argv: string[]): Promise<number> {
  // The narration is the output: no Amplify notices about custom endpoints (expected here), no
  // Node warnings about future SDK releases.
  ConsoleLogger.LOG_LEVEL = "ERROR";
  process.removeAllListeners("warning");
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: "string" },
      api: { type: "string" },
      mqtt: { type: "string" },
      outputs: { type: "string" },
      wait: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const env = process.env;
  const endpoint = trimSlash(
    values.endpoint ?? env.DEMO_ENDPOINT ?? env.AWS_ENDPOINT_URL ?? "http://127.0.0.1:4566",
  );
  const edgePort = Number(new URL(endpoint).port || 80);
  const outputsFile = path.resolve(
    values.outputs ?? env.DEMO_OUTPUTS ?? path.join(".sst", "local", "outputs.json"),
  );
  const waitSeconds = Number(values.wait ?? 30);
  if (!Number.isFinite(waitSeconds) || waitSeconds <= 0) {
    throw new DemoSetupError(`--wait must be a positive number of seconds, not ${values.wait}`);
  }

  const health = await localHealth(endpoint);
  const outputs = readOutputs(outputsFile);
  const output = (key: string): string => {
    for (const values of Object.values(outputs)) if (values[key] !== undefined) return values[key];
    throw new DemoSetupError(
      `${outputsFile} has no output ${key}: restart npm start to rewrite it`,
    );
  };
  const apiUrl = trimSlash(
    values.api ??
      env.DEMO_API_URL ??
      optional(() => output("ApiUrl")) ??
      `http://127.0.0.1:${edgePort + 1}`,
  );
  const mqttUrl = values.mqtt ?? env.DEMO_MQTT_URL ?? `ws://127.0.0.1:${edgePort + 2}/mqtt`;

  say(`Boarding Pass, the whole journey against the local cloud at ${endpoint}`);
  say(
    `  (region ${health.region}; HTTP API ${apiUrl}; MQTT ${mqttUrl}; outputs ${path.relative(process.cwd(), outputsFile)})`,
  );
  say("");

  const journey = new Journey(
    {
      region: output("Region"),
      endpoint,
      apiUrl,
      mqttUrl,
      userPoolId: output("UserPoolId"),
      userPoolClientId: output("UserPoolClientId"),
      identityPoolId: output("IdentityPoolId"),
      tableName: output("TableName"),
      iotTopicRoot: output("IotTopicRoot"),
      probe: controlApiProbe(endpoint),
    },
    { waitMs: waitSeconds * 1000 },
  );
  const steps = journeySteps(journey);
  try {
    for (const [index, step] of steps.entries()) {
      const label = `${String(index + 1).padStart(2)}. ${step.title}`;
      try {
        const result = await step.run();
        say(`${label}\n    ${result.say}`);
      } catch (error) {
        say(`${label}\n    FAILED: ${messageOf(error)}`);
        say("");
        say(
          `The journey stopped at step ${index + 1} of ${steps.length}. The local cloud's logs ` +
            `(the npm start terminal) and its console at ${endpoint}/_local/console show what it saw.`,
        );
        return 1;
      }
    }
  } finally {
    await journey.close();
  }
  say("");
  say(`All ${steps.length} steps passed: the passport, the boarding pass, and the gate.`);
  return 0;
}

/** `GET /_local/health`, or a clear message that no local cloud is running there. */
async function localHealth(endpoint: string): Promise<{ region: string }> {
  const notRunning = (why: string) =>
    new DemoSetupError(
      `No local cloud answers at ${endpoint} (${why}).\n` +
        "Start it in another terminal with `npm start` (or pass --endpoint <url> / set " +
        "DEMO_ENDPOINT if it runs elsewhere), then run `npm run demo` again.",
    );
  let response: Response;
  try {
    response = await fetch(`${endpoint}/_local/health`, {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw notRunning(cause ?? messageOf(error));
  }
  const body = (await response.json().catch(() => undefined)) as
    | { status?: string; region?: string; services?: string[] }
    | undefined;
  if (!response.ok || body?.status !== "ok") {
    throw notRunning(`GET /_local/health answered ${response.status}`);
  }
  for (const service of ["cognito-idp", "cognito-identity", "sts", "iot"]) {
    if (!body.services?.includes(service)) {
      throw notRunning(`it runs no ${service}: is this the plane alone (npm run local:aws)?`);
    }
  }
  return { region: body.region ?? "us-east-1" };
}

function readOutputs(file: string): Record<string, Record<string, string>> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new DemoSetupError(
      `No stack outputs at ${file}: \`npm start\` writes them when the local cloud is ready ` +
        "(or pass --outputs <file>).",
    );
  }
  try {
    return JSON.parse(text) as Record<string, Record<string, string>>;
  } catch {
    throw new DemoSetupError(`${file} is not JSON: restart npm start to rewrite it`);
  }
}

/** What the running cloud saw, through its control API (loopback only). */
function controlApiProbe(endpoint: string): CloudProbe {
  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${endpoint}/_local/${route}`, {
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    if (!response.ok) {
      throw new JourneyError(`GET /_local/${route} answered ${response.status}`);
    }
    return (await response.json()) as T;
  };
  return {
    async confirmationCodes(email) {
      const { codes } = await get<{ codes: { code: string }[] }>(
        `cognito-idp/codes?email=${encodeURIComponent(email)}`,
      );
      return codes.map((message) => message.code);
    },
    async invocations() {
      // The console's state lists the runtime's recent invocations (secrets redacted).
      const state = await get<{ invocations?: ObservedInvocation[] }>("console/state");
      return state.invocations ?? [];
    },
    async traces() {
      const state = await get<{ traces?: ObservedTrace[] }>("console/state");
      return state.traces ?? [];
    },
  };
}

function optional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");
const say = (line: string) => process.stdout.write(`${line}\n`);
const messageOf = (error: unknown) =>
  error instanceof Error
    ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`
    : String(error);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof DemoSetupError) {
      process.stderr.write(`npm run demo: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `npm run demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
