import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { type LocalCloud, startLocalCloud } from "@boarding-pass/local/cloud";
import { loadCloudAssembly } from "@boarding-pass/local/cloud/assembly";
import { journeyOn } from "@boarding-pass/testing/cloud";
import { journeySteps } from "@boarding-pass/testing/journey";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";
import { type LatencySummary, round as roundTo, summarize as summarizeLatency } from "./stats";

/**
 * The whole local cloud (`npm start`): what it costs to start, and what a user's journey and a
 * sign-in cost through it, triggers running as the synthesized bundles in the Lambda runtime.
 *
 * - Cold synthesis, once: the SST app synthesized again (`force`), in a child process.
 * - Boot to ready with the assembly cache warm: `startLocalCloud` in a fresh Node process each
 *   time, on an empty temporary data directory (`bootMs`: from the call to ready; `processMs`:
 *   from the process's start, tsx and module loading included; `spawnToReadyMs`: as the parent
 *   sees it). Median of BOOTS, then one restart over the data the first boot left.
 * - Journey, SignUp to first identity-pool credentials, as an app does it: SignUp (pre sign-up),
 *   the emailed code from the local outbox and ConfirmSignUp (post confirmation: profile, event),
 *   SRP sign-in with amazon-cognito-identity-js (the app client allows SRP only; pre token
 *   generation), GetId and GetCredentialsForIdentity with the ID token. Sequential, p50/p99.
 * - Sign-in throughput with bounded concurrency: SRP through the app client (client-side SRP
 *   math runs in this same process, on the same 2 cores), and USER_PASSWORD_AUTH through a
 *   bench-only client of the same pool, which isolates the server side: both run the pre token
 *   generation bundle in the Lambda runtime for every sign-in (counted).
 *
 * - First call of each HTTP API route after boot against a warm call, side by side: a fresh cloud
 *   without the background warm-up of the routes' functions (`warmRoutes: false`, as before) and
 *   one with it, each running the demo's journey twice straight after ready (second journey: new
 *   users, warm environments); with it, the journey starts right after ready (racing the warm-up)
 *   or once it settled. Per route, the first successful call of journey 1 over the median of
 *   journey 2's, timed at the client (signed fetch, whole HTTP exchange).
 *
 * Everything is bounded by counts and deadlines; the cloud runs in this process with a temporary
 * data directory (the journals fsync as with `npm start`).
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const PASSWORD = "Corr3ct-Horse-Battery!";
const BOOTS = 3;
const JOURNEY_WARM_UP = 3;
const JOURNEYS = 40;
const SIGN_IN_USERS = 8;
const SIGN_IN_WARM_UP = 16;
const SRP_SIGN_INS = 200;
const PASSWORD_SIGN_INS = 400;
const CONCURRENCY = 4;
/** Each phase stops early at its deadline; the figures then say how many samples they hold. */
const PHASE_DEADLINE_MS = 180_000;
const CHILD_DEADLINE_MS = 600_000;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

type Summary = LatencySummary;
/** Figures to a tenth of a millisecond: the journey's steps are whole milliseconds or more. */
const summarize = (samples: number[]) => summarizeLatency(samples, 1);
const round = (value: number) => roundTo(value, 1);

function median(values: number[]): number {
  return summarize(values).p50Ms;
}

// ------------------------------------------------------------------ children

/** Runs this file as a child in `mode`; resolves with its `@bench {...}` JSON line. */
async function runChild(
  mode: string,
  args: string[],
): Promise<{ report: Record<string, unknown>; spawnToReportMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", SELF, mode, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = setTimeout(() => child.kill("SIGKILL"), CHILD_DEADLINE_MS);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  try {
    let report: Record<string, unknown> | undefined;
    let spawnToReportMs = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (!line.startsWith("@bench ")) continue;
      report = JSON.parse(line.slice("@bench ".length));
      spawnToReportMs = performance.now() - started;
    }
    const code = await exited;
    if (!report || code !== 0) throw new Error(`${mode} child failed (${code}): ${stderr}`);
    return { report, spawnToReportMs };
  } finally {
    clearTimeout(deadline);
  }
}

function report(line: object): void {
  process.stdout.write(`@bench ${JSON.stringify(line)}\n`);
}

async function synthChild(): Promise<void> {
  const started = performance.now();
  const assembly = await loadCloudAssembly({ root: ROOT, stage: "local", force: true });
  report({ synthMs: performance.now() - started, stacks: assembly.stacks.length });
}

async function bootChild(dataDir: string): Promise<void> {
  const cloud = await startLocalCloud({ root: ROOT, port: 0, dataDir, outputsFile: null });
  const processMs = performance.now();
  const stopping = performance.now();
  await cloud.stop();
  report({
    bootMs: cloud.bootMs,
    processMs,
    stopMs: performance.now() - stopping,
    synthesized: cloud.assembly.synthesized,
    functions: cloud.provisioned.functions.length,
  });
}

// ------------------------------------------------------------------ boots

async function coldSynth() {
  const { report: child } = await runChild("--synth-child", []);
  return { synthMs: round(Number(child.synthMs)), stacks: child.stacks };
}

async function warmBoots() {
  const dirs: string[] = [];
  try {
    const boots: {
      bootMs: number;
      processMs: number;
      spawnToReadyMs: number;
      synthesized: boolean;
    }[] = [];
    for (let i = 0; i < BOOTS; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), "bench-local-cloud-boot-"));
      dirs.push(dataDir);
      const { report: child, spawnToReportMs } = await runChild("--boot-child", [dataDir]);
      boots.push({
        bootMs: Number(child.bootMs),
        processMs: Number(child.processMs),
        // The report comes after stop(): take the stop back out.
        spawnToReadyMs: spawnToReportMs - Number(child.stopMs),
        synthesized: child.synthesized === true,
      });
    }
    // A boot that had to synthesize (sources changed meanwhile) is not a warm boot.
    const warm = boots.filter((boot) => !boot.synthesized);
    const { report: restart } = await runChild("--boot-child", [dirs[0]!]);
    return {
      boots: warm.length,
      skippedSynthesizing: boots.length - warm.length,
      medianBootMs: median(warm.map((b) => b.bootMs)),
      medianProcessMs: median(warm.map((b) => b.processMs)),
      medianSpawnToReadyMs: median(warm.map((b) => b.spawnToReadyMs)),
      allBootMs: boots.map((b) => round(b.bootMs)),
      restartOverDataBootMs: round(Number(restart.bootMs)),
    };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ journeys

function clients(cloud: LocalCloud) {
  const requestHandler = new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 }),
  });
  const config = { endpoint: cloud.endpoint, region: cloud.region, credentials, requestHandler };
  return {
    idp: new CognitoIdentityProviderClient(config),
    identity: new CognitoIdentityClient(config),
  };
}

function srpSignIn(cloud: LocalCloud, username: string): Promise<string> {
  const pool = new CognitoUserPool({
    UserPoolId: cloud.output("UserPoolId"),
    ClientId: cloud.output("UserPoolClientId"),
    endpoint: cloud.endpoint,
  });
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: PASSWORD }), {
      onSuccess: (session) => resolve(session.getIdToken().getJwtToken()),
      onFailure: reject,
    });
  });
}

function claimsOf(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split(".")[1] ?? "", "base64url").toString());
}

/**
 * Whether the pre token trigger put the profile's claims in the token. It degrades to base claims
 * (by design) when the profile read misses its budget: counted, not hidden.
 */
let degradedTokens = 0;
function checkClaims(idToken: string): void {
  if (!idToken) throw new Error("no ID token");
  if (typeof claimsOf(idToken).tenant !== "string") degradedTokens++;
}

const STEPS = ["signUp", "confirm", "signIn", "credentials", "total"] as const;
type Step = (typeof STEPS)[number];

async function oneJourney(
  cloud: LocalCloud,
  { idp, identity }: ReturnType<typeof clients>,
  email: string,
): Promise<Record<Step, number>> {
  const clientId = cloud.output("UserPoolClientId");
  const t0 = performance.now();
  await idp.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }));
  const t1 = performance.now();
  const response = await fetch(
    `${cloud.endpoint}/_local/cognito-idp/codes?email=${encodeURIComponent(email)}`,
  );
  const { codes } = (await response.json()) as { codes: { code: string }[] };
  const code = codes.at(-1)?.code;
  if (!code) throw new Error(`no code was sent to ${email}`);
  await idp.send(
    new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
  );
  const t2 = performance.now();
  const idToken = await srpSignIn(cloud, email);
  checkClaims(idToken);
  const t3 = performance.now();
  const logins = {
    [`cognito-idp.${cloud.region}.amazonaws.com/${cloud.output("UserPoolId")}`]: idToken,
  };
  const { IdentityId } = await identity.send(
    new GetIdCommand({ IdentityPoolId: cloud.output("IdentityPoolId"), Logins: logins }),
  );
  const { Credentials } = await identity.send(
    new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
  );
  if (!Credentials?.AccessKeyId || !Credentials.SessionToken) throw new Error("no credentials");
  const t4 = performance.now();
  return {
    signUp: t1 - t0,
    confirm: t2 - t1,
    signIn: t3 - t2,
    credentials: t4 - t3,
    total: t4 - t0,
  };
}

async function journeys(cloud: LocalCloud) {
  const sdk = clients(cloud);
  const run = Date.now().toString(36);
  try {
    for (let i = 0; i < JOURNEY_WARM_UP; i++) {
      await oneJourney(cloud, sdk, `warm-${run}-${i}@example.com`);
    }
    const samples: Record<Step, number>[] = [];
    const degradedBefore = degradedTokens;
    const deadline = Date.now() + PHASE_DEADLINE_MS;
    for (let i = 0; i < JOURNEYS && Date.now() < deadline; i++) {
      samples.push(await oneJourney(cloud, sdk, `journey-${run}-${i}@example.com`));
    }
    return {
      ...(Object.fromEntries(
        STEPS.map((step) => [step, summarize(samples.map((sample) => sample[step]))]),
      ) as Record<Step, Summary>),
      degradedTokens: degradedTokens - degradedBefore,
    };
  } finally {
    sdk.idp.destroy();
    sdk.identity.destroy();
  }
}

// ------------------------------------------------------------------ sign-ins

async function throughput(
  total: number,
  signIn: (user: number) => Promise<void>,
): Promise<{ signInsPerSecond: number; concurrency: number; degradedTokens: number } & Summary> {
  const latencies: number[] = [];
  const degradedBefore = degradedTokens;
  let next = 0;
  const deadline = Date.now() + PHASE_DEADLINE_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < total && Date.now() < deadline) {
        next++;
        const start = performance.now();
        await signIn(worker % SIGN_IN_USERS);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  return {
    concurrency: CONCURRENCY,
    signInsPerSecond: round((latencies.length / elapsedMs) * 1000),
    ...summarize(latencies),
    degradedTokens: degradedTokens - degradedBefore,
  };
}

async function signIns(cloud: LocalCloud) {
  const sdk = clients(cloud);
  const userPoolId = cloud.output("UserPoolId");
  const preToken = cloud.provisioned.functions.find((fn) =>
    fn.handler.endsWith("pre-token-generation.handler"),
  );
  if (!preToken) throw new Error("no pre token generation function");
  let preTokenRuns = 0;
  const unsubscribe = cloud.runtime.onInvocation((record) => {
    if (record.functionName === preToken.name) preTokenRuns++;
  });
  try {
    const run = Date.now().toString(36);
    const emails: string[] = [];
    for (let i = 0; i < SIGN_IN_USERS; i++) {
      const email = `signin-${run}-${i}@example.com`;
      await sdk.idp.send(
        new SignUpCommand({
          ClientId: cloud.output("UserPoolClientId"),
          Username: email,
          Password: PASSWORD,
        }),
      );
      await sdk.idp.send(
        new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: email }),
      );
      emails.push(email);
    }
    // A bench-only client of the same pool (and so the same trigger) that allows passwords.
    const { UserPoolClient } = await sdk.idp.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: "bench-password",
        ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      }),
    );
    const passwordClientId = UserPoolClient?.ClientId ?? "";
    const srp = async (user: number) => checkClaims(await srpSignIn(cloud, emails[user]!));
    const password = async (user: number) => {
      const { AuthenticationResult } = await sdk.idp.send(
        new InitiateAuthCommand({
          ClientId: passwordClientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: emails[user]!, PASSWORD },
        }),
      );
      checkClaims(AuthenticationResult?.IdToken ?? "");
    };
    for (let i = 0; i < SIGN_IN_WARM_UP; i++) {
      await srp(i % SIGN_IN_USERS);
      await password(i % SIGN_IN_USERS);
    }
    const before = preTokenRuns;
    const srpFigures = await throughput(SRP_SIGN_INS, srp);
    const passwordFigures = await throughput(PASSWORD_SIGN_INS, password);
    return {
      srp: srpFigures,
      userPassword: passwordFigures,
      preTokenInvocations: preTokenRuns - before,
    };
  } finally {
    unsubscribe();
    sdk.idp.destroy();
    sdk.identity.destroy();
  }
}

// ------------------------------------------------------------------ first calls

/** `GET /admin/users/{sub}` as a matcher of a request's method and path. */
function routeMatcher(routeKey: string): (method: string, path: string) => boolean {
  const [method, template = ""] = routeKey.split(" ");
  const pattern = new RegExp(
    `^${template.replace(/\{[^}]+\+\}/g, ".+").replace(/\{[^}]+\}/g, "[^/]+")}$`,
  );
  return (requestMethod, path) =>
    (method === "ANY" || method === requestMethod) && pattern.test(path);
}

/**
 * Runs the journey twice on a fresh cloud, timing every HTTP API call by route: the first call of
 * each route in the first journey (the first after boot) and in the second (warm).
 */
async function firstCallsAfterBoot(warmRoutes: boolean, afterWarmUp: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-local-cloud-first-"));
  const cloud = await startLocalCloud({
    root: ROOT,
    port: 0,
    dataDir,
    outputsFile: null,
    warmRoutes,
  });
  const readyAt = performance.now();
  let warmedAfterReadyMs: number | undefined;
  void cloud.routesWarmed.then(() => {
    warmedAfterReadyMs = performance.now() - readyAt;
  });
  if (afterWarmUp) await cloud.routesWarmed;
  const apiUrl = new URL(cloud.output("ApiUrl"));
  const routes = cloud.provisioned.httpApis.flatMap((api) =>
    api.routes.map((route) => ({ key: route.routeKey, matches: routeMatcher(route.routeKey) })),
  );
  // Successful calls only: a 401 from the JWT authorizer never reaches the function.
  const callsByJourney: Map<string, number[]>[] = [new Map(), new Map()];
  let journeyIndex = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== apiUrl.origin) return realFetch(input, init);
    const started = performance.now();
    const response = await realFetch(input, init);
    await response.clone().arrayBuffer();
    const elapsed = performance.now() - started;
    const route = routes.find((candidate) => candidate.matches(request.method, url.pathname));
    const calls = callsByJourney[journeyIndex]!;
    if (route && response.ok) calls.set(route.key, [...(calls.get(route.key) ?? []), elapsed]);
    return response;
  };
  try {
    for (journeyIndex = 0; journeyIndex < 2; journeyIndex++) {
      const journey = journeyOn(cloud);
      try {
        for (const step of journeySteps(journey)) await step.run();
      } finally {
        await journey.close();
      }
    }
    const [first, warm] = callsByJourney as [Map<string, number[]>, Map<string, number[]>];
    const perRoute = [...first.keys()]
      .filter((key) => warm.has(key))
      .map((key) => {
        const firstMs = first.get(key)![0]!;
        const warmMs = median(warm.get(key)!);
        return { route: key, firstMs: round(firstMs), warmMs, ratio: round(firstMs / warmMs) };
      });
    return {
      warmRoutes,
      journeyStarted: afterWarmUp ? "once the warm-up settled" : "right after ready",
      routes: routes.length,
      routesCalled: perRoute.length,
      notCalledByTheJourney: routes.map((r) => r.key).filter((key) => !first.has(key)),
      worstRatio: Math.max(...perRoute.map((row) => row.ratio)),
      firstMs: summarize(perRoute.map((row) => row.firstMs)),
      firstMaxMs: Math.max(...perRoute.map((row) => row.firstMs)),
      warmMs: summarize(perRoute.map((row) => row.warmMs)),
      warmUpSettledAfterReadyMs:
        warmedAfterReadyMs === undefined ? undefined : round(warmedAfterReadyMs),
      perRoute,
    };
  } finally {
    globalThis.fetch = realFetch;
    await cloud.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ suite

export async function benchLocalCloud() {
  // The machine is shared: the 1-minute load average says how quiet it was.
  const loadAtStart = round(loadavg()[0] ?? 0);
  const skipSynth = process.env.BENCH_SKIP_SYNTH === "1";
  const synth = skipSynth ? undefined : await coldSynth();
  const boot = await warmBoots();
  const dataDir = mkdtempSync(join(tmpdir(), "bench-local-cloud-"));
  // The local user pool prints each code it "emails": keep them out of the bench's output.
  const info = console.info;
  console.info = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("[cognito-idp]")) return;
    info(...args);
  };
  const firstCalls = await allFirstCalls();
  const cloud = await startLocalCloud({ root: ROOT, port: 0, dataDir, outputsFile: null });
  try {
    const journey = await journeys(cloud);
    const signIn = await signIns(cloud);
    const results = {
      loadAverage: { atStart: loadAtStart, atEnd: round(loadavg()[0] ?? 0) },
      coldSynth: synth ?? "skipped (BENCH_SKIP_SYNTH=1)",
      warmBoot: boot,
      journey: {
        what: "SignUp → ConfirmSignUp (emailed code) → SRP sign-in → GetId → GetCredentialsForIdentity",
        ...journey,
      },
      signIn,
      firstCalls,
    };
    printTable(results);
    return results;
  } finally {
    await cloud.stop();
    console.info = info;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printTable(results: {
  coldSynth: { synthMs: number } | string;
  warmBoot: Awaited<ReturnType<typeof warmBoots>>;
  journey: Record<Step, Summary> & { degradedTokens: number };
  signIn: Awaited<ReturnType<typeof signIns>>;
  firstCalls: FirstCalls;
}): void {
  const rows: Record<string, { figure: string }> = {};
  if (typeof results.coldSynth !== "string") {
    rows["cold synthesis (SST app, forced)"] = {
      figure: `${(results.coldSynth.synthMs / 1000).toFixed(1)} s`,
    };
  }
  const boot = results.warmBoot;
  rows[`boot to ready, warm cache (median of ${boot.boots})`] = {
    figure: `${(boot.medianBootMs / 1000).toFixed(2)} s (process start ${(boot.medianProcessMs / 1000).toFixed(2)} s, restart over data ${(boot.restartOverDataBootMs / 1000).toFixed(2)} s)`,
  };
  for (const step of STEPS) {
    const figure = results.journey[step];
    rows[`journey ${step}`] = {
      figure: `p50 ${figure.p50Ms} ms, p99 ${figure.p99Ms} ms (${figure.samples})`,
    };
  }
  const { srp, userPassword } = results.signIn;
  rows[`sign-in SRP, ${srp.concurrency} concurrent`] = {
    figure: `${srp.signInsPerSecond}/s, p50 ${srp.p50Ms} ms, p99 ${srp.p99Ms} ms (${srp.samples}; ${srp.degradedTokens} base-claims)`,
  };
  rows[`sign-in USER_PASSWORD_AUTH, ${userPassword.concurrency} concurrent`] = {
    figure: `${userPassword.signInsPerSecond}/s, p50 ${userPassword.p50Ms} ms, p99 ${userPassword.p99Ms} ms (${userPassword.samples}; ${userPassword.degradedTokens} base-claims)`,
  };
  Object.assign(rows, firstCallRows(results.firstCalls));
  console.table(rows);
}

type FirstCalls = Record<
  "withoutWarmUp" | "rightAfterReady" | "afterWarmUp",
  Awaited<ReturnType<typeof firstCallsAfterBoot>>
>;

async function allFirstCalls(): Promise<FirstCalls> {
  return {
    withoutWarmUp: await firstCallsAfterBoot(false, false),
    rightAfterReady: await firstCallsAfterBoot(true, false),
    afterWarmUp: await firstCallsAfterBoot(true, true),
  };
}

function firstCallRows(firstCalls: FirstCalls): Record<string, { figure: string }> {
  const rows: Record<string, { figure: string }> = {};
  for (const [label, figures] of [
    ["no route warm-up", firstCalls.withoutWarmUp],
    ["warm-up, called right after ready", firstCalls.rightAfterReady],
    ["warm-up, called once it settled", firstCalls.afterWarmUp],
  ] as const) {
    const settled =
      figures.warmUpSettledAfterReadyMs === undefined || !figures.warmRoutes
        ? ""
        : `; warm-up settled ${(figures.warmUpSettledAfterReadyMs / 1000).toFixed(2)} s after ready`;
    rows[`first call of each route vs warm (${label})`] = {
      figure: `worst ${figures.worstRatio}x; first p50 ${figures.firstMs.p50Ms} ms, max ${figures.firstMaxMs} ms; warm p50 ${figures.warmMs.p50Ms} ms (${figures.routesCalled} of ${figures.routes} routes${settled})`,
    };
  }
  return rows;
}

/** The first-call rows alone (`npx tsx bench/local-cloud.ts --first-calls`), side by side. */
async function benchFirstCalls(): Promise<FirstCalls> {
  const firstCalls = await allFirstCalls();
  console.table(firstCallRows(firstCalls));
  return firstCalls;
}

const mode = process.argv[2];
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (mode === "--synth-child") await synthChild();
  else if (mode === "--boot-child") await bootChild(process.argv[3] ?? "");
  else if (mode === "--first-calls") {
    const loadAtStart = round(loadavg()[0] ?? 0);
    const firstCalls = await benchFirstCalls();
    const loadAverage = { atStart: loadAtStart, atEnd: round(loadavg()[0] ?? 0) };
    console.log(JSON.stringify({ loadAverage, firstCalls }, null, 2));
  } else console.log(JSON.stringify(await benchLocalCloud(), null, 2));
}
