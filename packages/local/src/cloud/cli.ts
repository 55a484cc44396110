/**
 * `npm start [-- --stage local --port 4566 --data-dir .local-cloud/local --reset --synth --quiet
 * --allow-origin <origin>...]`
 *
 * Runs the whole app on this machine from the synthesized stacks and prints what an app needs to
 * use it. State persists under the data directory; `--reset` wipes it; Ctrl-C stops cleanly.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { InvalidAllowedOriginError, parseAllowedOrigin } from "../edge/origin";
import { LocalCloudConfigError, loadLocalCloudConfig } from "./config";
import { nodeSupportNotice, silenceSdkNotices } from "./sdk-notices";
import { startLocalCloud } from "./start";

const HELP = `Usage: npm start -- [options]
  --stage <name>      stage to synthesize (default: local)
  --port <n>          edge port; the HTTP API and MQTT use the next two (default: 4566)
  --data-dir <dir>    where state persists (default: .local-cloud/<stage>)
  --reset             wipe the data directory first
  --synth             synthesize even if the cached assembly is current
  --quiet             do not print function logs
  --allow-origin <o>  also answer web pages from this origin (repeatable), e.g. a dev server on
                      https://dev.example.test:5173; loopback origins (http[s]://localhost,
                      127.0.0.1, [::1], any port) always are, pages on any other origin get a 403
`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: "string", default: process.env.SST_STAGE ?? "local" },
      port: { type: "string", default: "4566" },
      "data-dir": { type: "string" },
      reset: { type: "boolean", default: false },
      synth: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      "allow-origin": { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const root = process.cwd();
  const stage = values.stage;
  const dataDir = path.resolve(values["data-dir"] ?? path.join(".local-cloud", stage));
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Bad --port ${values.port}`);
  // Checked before the synthesis: a typo fails in a second, not after a minute.
  const allowOrigins = values["allow-origin"].map(parseAllowedOrigin);
  // Said once here instead of by the SDK in every function environment and worker.
  const notice = nodeSupportNotice();
  if (notice) process.stderr.write(`${notice}\n`);

  // The app's own additions (its console views), from local-cloud.config.ts at the root.
  const config = await loadLocalCloudConfig(root);

  const cloud = await startLocalCloud({
    ...config,
    root,
    stage,
    dataDir,
    reset: values.reset,
    port,
    forceSynth: values.synth,
    allowOrigins,
    log: (line) => process.stderr.write(`${line}\n`),
    ...(values.quiet ? {} : { functionLog: (line: string) => process.stdout.write(`${line}\n`) }),
  });

  const outputsFile = path.relative(root, path.join(root, ".sst", "local", "outputs.json"));
  const lines = [
    "",
    `Boarding Pass local cloud, stage ${stage}: ready in ${(cloud.bootMs / 1000).toFixed(1)} s`,
    `  AWS endpoint  ${cloud.endpoint}   (every service: AWS_ENDPOINT_URL)`,
    ...Object.values(cloud.apiUrls).map((url) => `  HTTP API      ${url}`),
    `  MQTT          ${cloud.mqttUrl}   (presign with identity-pool credentials)`,
    `  Console       ${cloud.endpoint}/_local/console`,
    `  Web pages     loopback origins${allowOrigins.length > 0 ? ` and ${allowOrigins.join(", ")}` : " only (--allow-origin adds one)"}`,
    `  Outputs       ${outputsFile}`,
    `  State         ${path.relative(root, dataDir) || "."}   (npm start -- --reset wipes it)`,
    "",
    `  UserPoolId ${cloud.output("UserPoolId")}  UserPoolClientId ${cloud.output("UserPoolClientId")}`,
    `  IdentityPoolId ${cloud.output("IdentityPoolId")}`,
    "",
    "  For scripts and SDK apps:",
    ...Object.entries(cloud.env).map(([key, value]) => `    export ${key}=${value}`),
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping...\n`);
    cloud
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

silenceSdkNotices();
main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof InvalidAllowedOriginError || error instanceof LocalCloudConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
