/**
 * `npm start [-- --stage local --port 4566 --data-dir .local-cloud/local --reset --synth --quiet]`
 *
 * Runs the whole app on this machine from the synthesized stacks and prints what an app needs to
 * use it. State persists under the data directory; `--reset` wipes it; Ctrl-C stops cleanly.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCloud } from "./start";

const HELP = `Usage: npm start -- [options]
  --stage <name>      stage to synthesize (default: local)
  --port <n>          edge port; the HTTP API and MQTT use the next two (default: 4566)
  --data-dir <dir>    where state persists (default: .local-cloud/<stage>)
  --reset             wipe the data directory first
  --synth             synthesize even if the cached assembly is current
  --quiet             do not print function logs
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

  const cloud = await startLocalCloud({
    root,
    stage,
    dataDir,
    reset: values.reset,
    port,
    forceSynth: values.synth,
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

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
