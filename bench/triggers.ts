/**
 * What the user-pool triggers cost, per trigger:
 * - warm latency (p50/p99) in process against the embedded DynamoDB (and SNS/Kinesis where the
 *   trigger publishes), beside the floor of one raw GetItem on the same endpoint;
 * - the minified bundle, built as SST builds it (esbuild: ESM, minify, platform node, bundle);
 * - the time to load that bundle in a fresh Node process, beside a bundle holding only the
 *   DynamoDB client.
 * Targets (issue 5): pre token generation p50 ≤ 1.5× the GetItem floor, bundle < 400 KB, load
 * ≤ 1.5× the floor. `npx tsx bench/triggers.ts` prints a table and the JSON.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { build } from "esbuild";
import { type Plane, startPlane } from "../packages/functions/test/support/plane";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");

const WARM_UP = 50;
const SAMPLES = { preTokenGeneration: 600, preSignUp: 300, postConfirmation: 150 };
const LOADS = 7;
const TARGETS = { preTokenP50Ratio: 1.5, bundleKiB: 400, loadRatio: 1.5 };

const HANDLERS = {
  preSignUp: "packages/functions/src/cognito/pre-sign-up.ts",
  postConfirmation: "packages/functions/src/cognito/post-confirmation.ts",
  preTokenGeneration: "packages/functions/src/cognito/pre-token-generation.ts",
  outboxRelay: "packages/functions/src/events/outbox-relay.ts",
} as const;

const FLOOR_SOURCE = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
export const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => client;
`;

interface Latency {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

function summarize(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), samples: sorted.length };
}

async function timeAlternating(
  samples: number,
  first: (i: number) => Promise<unknown>,
  second: (i: number) => Promise<unknown>,
): Promise<[Latency, Latency]> {
  for (let i = 0; i < WARM_UP; i++) {
    await first(-1 - i);
    await second(-1 - i);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < samples; i++) {
    let start = performance.now();
    await first(i);
    a.push(performance.now() - start);
    start = performance.now();
    await second(i);
    b.push(performance.now() - start);
  }
  return [summarize(a), summarize(b)];
}

async function time(samples: number, call: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < WARM_UP; i++) await call(-1 - i);
  const durations: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await call(i);
    durations.push(performance.now() - start);
  }
  return summarize(durations);
}

const context = () => {
  const deadline = Date.now() + 5000;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() };
};

async function latencies(plane: Plane) {
  const { handler: preTokenGeneration } = await import(
    "../packages/functions/src/cognito/pre-token-generation"
  );
  const { handler: preSignUp } = await import("../packages/functions/src/cognito/pre-sign-up");
  const { handler: postConfirmation } = await import(
    "../packages/functions/src/cognito/post-confirmation"
  );

  // Profiles for the token path, read round-robin so no single item is hot.
  const subs = Array.from({ length: 50 }, () => randomUUID());
  for (const sub of subs) {
    await plane.dynamodb.send(
      new PutCommand({
        TableName: plane.tableName,
        Item: {
          pk: `USER#${sub}`,
          sk: "PROFILE",
          sub,
          tenant: "acme",
          plan: "pro",
          roles: ["member"],
          createdAt: new Date().toISOString(),
          version: 1,
        },
      }),
    );
  }
  const raw = new DynamoDBClient({
    region: plane.sdk.region,
    endpoint: plane.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const tokenEvent = (sub: string) => ({
    version: "2",
    region: "us-east-1",
    userPoolId: plane.userPoolId,
    userName: sub,
    callerContext: { awsSdkVersion: "bench", clientId: "bench" },
    triggerSource: "TokenGeneration_Authentication",
    request: {
      userAttributes: { sub, email_verified: "true" },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
      scopes: ["openid"],
    },
    response: { claimsAndScopeOverrideDetails: null },
  });
  // Floor and pre token generation alternate call by call, so load on the machine hits both alike.
  const [floor, preToken] = await timeAlternating(
    SAMPLES.preTokenGeneration,
    (i) =>
      raw.send(
        new GetItemCommand({
          TableName: plane.tableName,
          Key: { pk: { S: `USER#${subs[Math.abs(i) % subs.length]}` }, sk: { S: "PROFILE" } },
        }),
      ),
    (i) => preTokenGeneration(tokenEvent(subs[Math.abs(i) % subs.length]!) as never, context()),
  );
  raw.destroy();

  const signUp = await time(SAMPLES.preSignUp, () =>
    preSignUp(
      {
        version: "1",
        region: "us-east-1",
        userPoolId: plane.userPoolId,
        userName: randomUUID(),
        callerContext: { awsSdkVersion: "bench", clientId: "bench" },
        triggerSource: "PreSignUp_SignUp",
        request: { userAttributes: { email: `bench-${randomUUID()}@example.com` } },
        response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
      } as never,
      context(),
    ),
  );

  // A real pool user for AdminAddUserToGroup; a fresh sub each time so every call creates a
  // profile and publishes its event (the expensive, once-per-user path).
  const member = await plane.createNativeUser(`bench-${randomUUID()}@example.com`, true);
  const confirm = await time(SAMPLES.postConfirmation, () =>
    postConfirmation(
      {
        version: "1",
        region: "us-east-1",
        userPoolId: plane.userPoolId,
        userName: member.username,
        callerContext: { awsSdkVersion: "bench", clientId: "bench" },
        triggerSource: "PostConfirmation_ConfirmSignUp",
        request: { userAttributes: { sub: randomUUID(), email_verified: "true" } },
        response: {},
      } as never,
      context(),
    ),
  );
  const ratio = (latency: Latency) => ({
    p50Ratio: round(latency.p50Ms / floor.p50Ms, 2),
    p99Ratio: round(latency.p99Ms / floor.p99Ms, 2),
  });
  return {
    floorGetItem: floor,
    preTokenGeneration: { ...preToken, ...ratio(preToken) },
    preSignUp: { ...signUp, ...ratio(signUp) },
    postConfirmation: { ...confirm, ...ratio(confirm) },
  };
}

/**
 * esbuild with the options SST v2 uses for `nodejs: { format: "esm", minify: true }`
 * (sst/runtime/handlers/node.js): bundle, platform node, ESM, target esnext, keepNames, its
 * createRequire banner; the AWS SDK is bundled (SST externalizes nothing for ESM). The
 * `sdkExternal` variant leaves `@aws-sdk/*` and `@smithy/*` to the Lambda runtime.
 */
async function bundle(
  outDir: string,
  name: string,
  entry: { file?: string; source?: string },
  sdkExternal = false,
) {
  const outfile = join(outDir, `${name}${sdkExternal ? "-sdk-external" : ""}.mjs`);
  await build({
    ...(entry.file !== undefined
      ? { entryPoints: [resolve(ROOT, entry.file)] }
      : { stdin: { contents: entry.source ?? "", resolveDir: ROOT, loader: "ts" } }),
    outfile,
    bundle: true,
    minify: true,
    keepNames: true,
    format: "esm",
    platform: "node",
    target: "esnext",
    mainFields: ["module", "main"],
    logLevel: "silent",
    external: sdkExternal ? ["@aws-sdk/*", "@smithy/*"] : [],
    banner: {
      js: [
        "import { createRequire as topLevelCreateRequire } from 'module';",
        "const require = topLevelCreateRequire(import.meta.url);",
        'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
      ].join("\n"),
    },
  });
  return { outfile, kib: round((await stat(outfile)).size / 1024, 1) };
}

/** Median time to import the bundle in a fresh Node process (module evaluation, clients made). */
async function loadTime(outfile: string, env: Record<string, string>): Promise<number> {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(outfile).href)});process.stdout.write(String(performance.now()-t));`;
  const runs: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, ...env },
    });
    runs.push(Number(stdout));
  }
  return summarize(runs).p50Ms;
}

async function bundles(env: Record<string, string>) {
  // Inside the repository, so an SDK-external bundle resolves @aws-sdk from node_modules, as the
  // Lambda runtime would provide it.
  const outDir = await mkdtemp(join(ROOT, "node_modules", ".bench-triggers-"));
  try {
    const result: Record<string, unknown> = {};
    for (const sdkExternal of [false, true]) {
      const floor = await bundle(outDir, "floor", { source: FLOOR_SOURCE }, sdkExternal);
      const floorLoadMs = await loadTime(floor.outfile, env);
      const variant: Record<string, unknown> = {
        floorDynamoDbOnly: { kib: floor.kib, loadMs: round(floorLoadMs, 1) },
      };
      for (const [name, file] of Object.entries(HANDLERS)) {
        const built = await bundle(outDir, name, { file }, sdkExternal);
        const loadMs = await loadTime(built.outfile, env);
        variant[name] = {
          kib: built.kib,
          loadMs: round(loadMs, 1),
          loadRatio: round(loadMs / floorLoadMs, 2),
        };
      }
      result[sdkExternal ? "sdkExternal" : "sdkBundled"] = variant;
    }
    return result;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

export async function benchTriggers(): Promise<Record<string, unknown>> {
  const plane = await startPlane();
  try {
    const latency = await latencies(plane);
    const size = await bundles(plane.env);
    return { targets: TARGETS, latency, bundles: size };
  } finally {
    await plane.stop();
  }
}

function printTable(result: Record<string, unknown>): void {
  const latency = result.latency as Record<string, Latency & { p50Ratio?: number }>;
  const variants = result.bundles as Record<
    string,
    Record<string, { kib: number; loadMs: number; loadRatio?: number }>
  >;
  const bundled = variants.sdkBundled ?? {};
  const external = variants.sdkExternal ?? {};
  const names = ["floor", "preTokenGeneration", "preSignUp", "postConfirmation", "outboxRelay"];
  console.table(
    names.map((name) => {
      const l = latency[name === "floor" ? "floorGetItem" : name];
      const key = name === "floor" ? "floorDynamoDbOnly" : name;
      return {
        trigger: name === "floor" ? "floor (GetItem / DynamoDB-only bundle)" : name,
        "p50 ms": l?.p50Ms ?? "-",
        "p99 ms": l?.p99Ms ?? "-",
        "p50 / floor": l ? (l.p50Ratio ?? 1) : "-",
        "KiB (SDK bundled)": bundled[key]?.kib,
        "load ms": bundled[key]?.loadMs,
        "load / floor": bundled[key]?.loadRatio ?? 1,
        "KiB (SDK external)": external[key]?.kib,
        "load ms (ext)": external[key]?.loadMs,
        "load / floor (ext)": external[key]?.loadRatio ?? 1,
      };
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const result = await benchTriggers();
  printTable(result);
  console.log(JSON.stringify(result, null, 2));
  await writeFile(join(tmpdir(), "boarding-pass-bench-triggers.json"), JSON.stringify(result));
}
