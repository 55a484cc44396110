/**
 * `npm run bench`: every benchmark of the project, one after another in one process, each
 * measuring its candidates side by side (ratios, not absolute thresholds). Prints each result as
 * JSON and writes them all to `bench/results.json`. `npm run bench -- <name>` runs one and
 * replaces only that suite's entry (the others' figures stay).
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { silenceSdkNotices } from "@boarding-pass/local/cloud/sdk-notices";

// The SDKs' Node-support notices, once per child process, would interleave with the results.
silenceSdkNotices();

const SUITES: { name: string; file: string; fn: string }[] = [
  { name: "local-aws", file: "local-aws.ts", fn: "benchLocalAws" },
  { name: "triggers", file: "triggers.ts", fn: "benchTriggers" },
  { name: "cognito", file: "cognito.ts", fn: "benchCognito" },
  { name: "local-cloud", file: "local-cloud.ts", fn: "benchLocalCloud" },
];

const only = process.argv[2];
if (only && !SUITES.some((suite) => suite.name === only)) {
  throw new Error(`No benchmark ${only}: ${SUITES.map((suite) => suite.name).join(", ")}`);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const resultsFile = path.join(here, "results.json");
const previous: Record<string, unknown> =
  only && fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, "utf8")) : {};
const results: Record<string, unknown> = {
  ...previous,
  machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
  at: new Date().toISOString(),
};
for (const suite of SUITES) {
  if (only && suite.name !== only) continue;
  const file = path.join(here, suite.file);
  if (!fs.existsSync(file)) {
    console.log(`\n## ${suite.name}: not present yet`);
    continue;
  }
  console.log(`\n## ${suite.name}`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, () => Promise<unknown>>;
  const run = module[suite.fn];
  if (typeof run !== "function") throw new Error(`${suite.file} does not export ${suite.fn}`);
  results[suite.name] = await run();
  console.log(JSON.stringify(results[suite.name], null, 2));
}
fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`);
