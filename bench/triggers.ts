/**
 * What the user-pool triggers cost, per trigger:
 * - warm latency (p50/p99) in process against the embedded DynamoDB (and SNS/Kinesis where the
 *   trigger publishes), beside the floor of one raw GetItem on the same endpoint;
 * - the minified bundle, built as SST builds it from the `nodejs` defaults of sst.config.ts (ESM,
 *   code splitting): what a cold start loads (entry and static chunks) and all it ships, beside
 *   the same code in one file;
 * - the time to load that bundle in a fresh Node process, beside a bundle holding only the
 *   DynamoDB client built with the same options, with tracing off (as in tests and locally) and
 *   as a Lambda function with active tracing (the tracer made and its UDP socket opened).
 * Targets (issue 5): pre token generation p50 ≤ 1.5× the GetItem floor, bundle < 400 KB, load
 * ≤ 1.5× the floor. `npx tsx bench/triggers.ts` prints a table and the JSON.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { fakeContext } from "@boarding-pass/testing";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import { type BuildOptions, build } from "esbuild";
import { type LatencySummary, round, summarize } from "./stats";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");

const WARM_UP = 50;
const SAMPLES = { preTokenGeneration: 600, preSignUp: 300, postConfirmation: 150 };
const LOADS = 9;
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

type Latency = LatencySummary;

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

/** Cognito's 5 s trigger budget, as the handlers see it. */
const context = () => fakeContext(5000);

async function latencies(plane: Plane) {
  const { handler: preTokenGeneration } = await import(
    "@boarding-pass/functions/cognito/pre-token-generation"
  );
  const { handler: preSignUp } = await import("@boarding-pass/functions/cognito/pre-sign-up");
  const { handler: postConfirmation } = await import(
    "@boarding-pass/functions/cognito/post-confirmation"
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

/** The bundling options of a function, as `sst.config.ts` gives them to SST (`nodejs`). */
interface NodeBundling {
  format?: "esm" | "cjs";
  minify?: boolean;
  sourcemap?: boolean;
  splitting?: boolean;
  banner?: string;
  install?: string[];
  esbuild?: BuildOptions;
}

interface Built {
  /** The file Lambda imports. */
  entry: string;
  /** What a cold start loads: the entry and every chunk it imports statically. */
  initKib: number;
  /** Every JavaScript file of the bundle (chunks reached only by a dynamic `import()` included). */
  shippedKib: number;
}

const kib = (bytes: number) => round(bytes / 1024, 1);

/**
 * esbuild as SST v2 runs it for a function in deploy mode (node_modules/sst/runtime/handlers/
 * node.js, ESM branch), from the `nodejs` defaults of sst.config.ts: bundle, platform node,
 * target esnext, keepNames, mainFields module/main, its createRequire banner, external sharp and
 * pg-native only (the SDK is bundled), outdir + `.mjs` chunks when splitting, the function's
 * `esbuild` overrides last. `sdkExternal` leaves `@aws-sdk/*` and `@smithy/*` to the runtime.
 */
async function bundle(
  outDir: string,
  name: string,
  entryFile: string,
  nodejs: NodeBundling,
  sdkExternal = false,
): Promise<Built> {
  if (nodejs.format !== undefined && nodejs.format !== "esm") throw new Error("ESM only");
  const dir = join(outDir, `${name}${sdkExternal ? "-sdk-external" : ""}`);
  const entryPoint = resolve(ROOT, entryFile);
  const entryName = basename(entryPoint).replace(/\.[cm]?[jt]sx?$/, "");
  const { external = [], ...override } = nodejs.esbuild ?? {};
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entryPoint],
    platform: "node",
    external: [
      "sharp",
      "pg-native",
      ...(nodejs.install ?? []),
      ...external,
      ...(sdkExternal ? ["@aws-sdk/*", "@smithy/*"] : []),
    ],
    keepNames: true,
    bundle: true,
    logLevel: "silent",
    splitting: nodejs.splitting,
    metafile: true,
    ...(nodejs.splitting
      ? { outdir: dir, outExtension: { ".js": ".mjs" } }
      : { outfile: join(dir, `${entryName}.mjs`) }),
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    banner: {
      js: [
        "import { createRequire as topLevelCreateRequire } from 'module';",
        "const require = topLevelCreateRequire(import.meta.url);",
        'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
        nodejs.banner ?? "",
      ].join("\n"),
    },
    sourcemap: nodejs.sourcemap !== false,
    minify: nodejs.minify,
    ...override,
  });
  const outputs = result.metafile?.outputs ?? {};
  const entryKey = Object.keys(outputs).find(
    (key) => resolve(ROOT, outputs[key]?.entryPoint ?? "") === entryPoint,
  );
  if (entryKey === undefined) throw new Error(`no output for ${entryFile}`);
  const atInit = new Set<string>();
  const pending = [entryKey];
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (atInit.has(key)) continue;
    atInit.add(key);
    for (const imported of outputs[key]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) pending.push(imported.path);
    }
  }
  const bytes = (keys: Iterable<string>) =>
    [...keys].reduce(
      (sum, key) => sum + (key.endsWith(".map") ? 0 : (outputs[key]?.bytes ?? 0)),
      0,
    );
  return {
    entry: resolve(ROOT, entryKey),
    initKib: kib(bytes(atInit)),
    shippedKib: kib(bytes(Object.keys(outputs))),
  };
}

interface LoadTime {
  /** Wall time of the import. */
  ms: number;
  /** CPU time (user + system) the process spent in it: steadier than wall time on a busy machine. */
  cpuMs: number;
}

/**
 * Median time to import each bundle in a fresh Node process (module evaluation, clients made),
 * the bundles taking turns run by run so that load on the machine falls on all of them alike.
 */
async function loadTimes(
  files: Record<string, string>,
  env: Record<string, string>,
): Promise<Record<string, LoadTime>> {
  const runs: Record<string, { ms: number[]; cpuMs: number[] }> = Object.fromEntries(
    Object.keys(files).map((name) => [name, { ms: [], cpuMs: [] }]),
  );
  for (let i = 0; i < LOADS; i++) {
    for (const [name, file] of Object.entries(files)) {
      const script = `const c=process.cpuUsage(),t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});const w=performance.now()-t,u=process.cpuUsage(c);process.stdout.write(JSON.stringify([w,(u.user+u.system)/1000]));`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        env: { ...process.env, ...env },
      });
      const [ms, cpuMs] = JSON.parse(stdout) as [number, number];
      runs[name]?.ms.push(ms);
      runs[name]?.cpuMs.push(cpuMs);
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, samples]) => [
      name,
      {
        ms: round(summarize(samples.ms).p50Ms, 1),
        cpuMs: round(summarize(samples.cpuMs).p50Ms, 1),
      },
    ]),
  );
}

/**
 * A Lambda execution environment with active tracing, as far as the functions' tracer can tell
 * (packages/functions/src/observability.ts reads these at load): the tracer is made and its UDP
 * socket opened. Nothing listens on the daemon address; loading sends nothing.
 */
const TRACED_LAMBDA_ENV = {
  AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
  AWS_LAMBDA_FUNCTION_NAME: "bench",
  LAMBDA_TASK_ROOT: ROOT,
  POWERTOOLS_TRACE_ENABLED: "true",
  _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  AWS_XRAY_DAEMON_ADDRESS: "127.0.0.1:2000",
};

async function bundles(env: Record<string, string>) {
  const nodejs = (await import("../sst.config")).FUNCTION_BUNDLING as NodeBundling;
  // Inside the repository, so an SDK-external bundle resolves @aws-sdk from node_modules, as the
  // Lambda runtime would provide it.
  const outDir = await mkdtemp(join(ROOT, "node_modules", ".bench-triggers-"));
  try {
    const floorFile = join(outDir, "floor-dynamodb-only.ts");
    await writeFile(floorFile, FLOOR_SOURCE);
    const entries: Record<string, string> = { floorDynamoDbOnly: floorFile, ...HANDLERS };
    const variants: [string, NodeBundling, boolean][] = [
      ["sdkBundled", nodejs, false],
      // The same options without code splitting: one file, as before sst.config.ts split.
      ["singleFile", { ...nodejs, splitting: false }, false],
      ["sdkExternal", nodejs, true],
    ];
    const result: Record<string, unknown> = { options: nodejs };
    for (const [variant, options, sdkExternal] of variants) {
      const built: Record<string, Built> = {};
      for (const [name, file] of Object.entries(entries)) {
        built[name] = await bundle(join(outDir, variant), name, file, options, sdkExternal);
      }
      const files = Object.fromEntries(Object.entries(built).map(([n, b]) => [n, b.entry]));
      const loads = await loadTimes(files, env);
      // As deployed (tracing active), for the bundles as deployed: the tracer is made at load.
      const traced =
        variant === "sdkBundled"
          ? await loadTimes(files, { ...env, ...TRACED_LAMBDA_ENV })
          : undefined;
      const ratio = (times: Record<string, LoadTime>, name: string, key: keyof LoadTime) =>
        round(
          (times[name]?.[key] ?? Number.NaN) / (times.floorDynamoDbOnly?.[key] ?? Number.NaN),
          2,
        );
      result[variant] = Object.fromEntries(
        Object.entries(built).map(([name, b]) => [
          name,
          {
            kib: b.initKib,
            ...(options.splitting ? { shippedKib: b.shippedKib } : {}),
            loadMs: loads[name]?.ms,
            loadRatio: ratio(loads, name, "ms"),
            loadCpuMs: loads[name]?.cpuMs,
            loadCpuRatio: ratio(loads, name, "cpuMs"),
            ...(traced !== undefined
              ? {
                  tracedLoadMs: traced[name]?.ms,
                  tracedLoadRatio: ratio(traced, name, "ms"),
                  tracedLoadCpuMs: traced[name]?.cpuMs,
                  tracedLoadCpuRatio: ratio(traced, name, "cpuMs"),
                }
              : {}),
          },
        ]),
      );
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
  type Row = {
    kib: number;
    shippedKib?: number;
    loadMs: number;
    loadRatio?: number;
    loadCpuRatio?: number;
    tracedLoadMs?: number;
    tracedLoadRatio?: number;
    tracedLoadCpuRatio?: number;
  };
  const variants = result.bundles as Record<string, Record<string, Row>>;
  const bundled = variants.sdkBundled ?? {};
  const single = variants.singleFile ?? {};
  const external = variants.sdkExternal ?? {};
  const names = ["floor", "preTokenGeneration", "preSignUp", "postConfirmation", "outboxRelay"];
  console.table(
    names.map((name) => {
      const l = latency[name === "floor" ? "floorGetItem" : name];
      const key = name === "floor" ? "floorDynamoDbOnly" : name;
      return {
        trigger: name === "floor" ? "floor (GetItem / DynamoDB-only bundle)" : name,
        "p50 ms": l?.p50Ms ?? "-",
        "p50 / floor": l ? (l.p50Ratio ?? 1) : "-",
        "KiB at init": bundled[key]?.kib,
        "KiB shipped": bundled[key]?.shippedKib,
        "load / floor": bundled[key]?.loadRatio,
        "load / floor, tracing": bundled[key]?.tracedLoadRatio,
        "CPU / floor": bundled[key]?.loadCpuRatio,
        "CPU / floor, tracing": bundled[key]?.tracedLoadCpuRatio,
        "KiB one file": single[key]?.kib,
        "load / floor, one file": single[key]?.loadRatio,
        "KiB (SDK external)": external[key]?.kib,
        "load / floor (ext)": external[key]?.loadRatio,
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
