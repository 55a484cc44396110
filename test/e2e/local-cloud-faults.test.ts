/**
 * Faults of the whole local cloud (issue 7):
 *
 * 1. Killing it mid-load loses nothing acknowledged. A child process starts the local cloud on a
 *    data directory and signs users up through the edge (SignUp, then AdminConfirmSignUp, whose
 *    post confirmation trigger runs in the Lambda runtime and writes the profile); it reports each
 *    acknowledged confirmation and is SIGKILLed while users are still in flight. The local cloud,
 *    started again on the same directory, comes back with the same ids, and every acknowledged
 *    user is there: confirmed, in the default group, with one profile written once. The user pool
 *    answers AdminConfirmSignUp only after post confirmation succeeded (it confirms, journals,
 *    then runs the trigger, as Cognito does), and the trigger answers only after the profile's
 *    conditional put and the group membership were acknowledged, so acknowledged means written.
 * 2. A function that hangs, spins or crashes is isolated: while such invocations are in flight in
 *    the same runtime, a sign-up through all three Cognito triggers and an SRP sign-in work, and
 *    they still work afterwards.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type LocalCloud, startLocalCloud } from "@boarding-pass/local/cloud";
import type { InvokeResult } from "@boarding-pass/local/cloud/contracts";
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LOAD = fileURLToPath(new URL("./fixtures/local-cloud-load.ts", import.meta.url));
const PASSWORD = "Corr3ct-Horse-Battery!";
/** Users the child attempts, how many at once, and after how many acknowledgements it dies. */
const LOAD_USERS = 60;
const LOAD_CONCURRENCY = 3;
const KILL_AFTER_ACKS = 10;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

interface Ready {
  endpoint: string;
  userPoolId: string;
  clientId: string;
  identityPoolId: string;
  tableName: string;
}

interface LoadRun {
  ready: Ready;
  acknowledged: { username: string; sub: string }[];
  failed: string[];
  finished: boolean;
  signal: NodeJS.Signals | null;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * Runs the load child and SIGKILLs it after `KILL_AFTER_ACKS` acknowledged users. Bounded: the
 * child is killed whatever happens once `deadlineMs` has passed (a cold synthesis included).
 */
async function loadThenKill(dataDir: string, deadlineMs: number): Promise<LoadRun> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", LOAD, dataDir, String(LOAD_USERS), String(LOAD_CONCURRENCY)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  const deadline = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let ready: Ready | undefined;
  const acknowledged: { username: string; sub: string }[] = [];
  const failed: string[] = [];
  let finished = false;
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      if (!line.startsWith("@load ")) continue;
      const message = JSON.parse(line.slice("@load ".length)) as Partial<Ready> & {
        ready?: boolean;
        ack?: string;
        sub?: string;
        failed?: string;
        done?: boolean;
      };
      if (message.ready) ready = message as Ready;
      if (message.ack && message.sub)
        acknowledged.push({ username: message.ack, sub: message.sub });
      if (message.failed) failed.push(message.failed);
      if (message.done) finished = true;
      if (acknowledged.length >= KILL_AFTER_ACKS) {
        // Mid-load: other users are between SignUp and their acknowledgement right now.
        child.kill("SIGKILL");
        break;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  const signal = await exited;
  if (!ready) throw new Error(`the local cloud never became ready in the child: ${stderr}`);
  return { ready, acknowledged, failed, finished, signal };
}

function idpClient(cloud: LocalCloud) {
  return new CognitoIdentityProviderClient({
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials,
  });
}

/** The default group post confirmation adds users to (from the function's template env). */
function defaultGroupOf(cloud: LocalCloud): string {
  const fn = cloud.provisioned.functions.find((f) =>
    f.handler.endsWith("post-confirmation.handler"),
  );
  const group = fn?.environment.DEFAULT_GROUP;
  if (!group) throw new Error("post confirmation has no DEFAULT_GROUP");
  return group;
}

/** Every item of a user's partition (`USER#<sub>`), unmarshalled. */
async function userItems(cloud: LocalCloud, sub: string): Promise<Record<string, unknown>[]> {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: cloud.endpoint, region: cloud.region, credentials }),
  );
  try {
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: cloud.output("TableName"),
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `USER#${sub}` },
        ConsistentRead: true,
      }),
    );
    return Items;
  } finally {
    dynamo.destroy();
  }
}

/** SRP sign-in with the unmodified browser client (the app client allows SRP only). */
function srpSignIn(cloud: LocalCloud, username: string): Promise<Record<string, unknown>> {
  const pool = new CognitoUserPool({
    UserPoolId: cloud.output("UserPoolId"),
    ClientId: cloud.output("UserPoolClientId"),
    endpoint: cloud.endpoint,
  });
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: PASSWORD }), {
      onSuccess: (session) => {
        const token = session.getIdToken().getJwtToken();
        resolve(JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()));
      },
      onFailure: reject,
    });
  });
}

/** Sign-up (pre sign-up), confirmation (post confirmation) and SRP sign-in (pre token). */
async function signUpJourney(cloud: LocalCloud, label: string) {
  const idp = idpClient(cloud);
  try {
    const username = `${label}-${crypto.randomUUID()}@example.com`;
    const { UserSub } = await idp.send(
      new SignUpCommand({
        ClientId: cloud.output("UserPoolClientId"),
        Username: username,
        Password: PASSWORD,
      }),
    );
    await idp.send(
      new AdminConfirmSignUpCommand({ UserPoolId: cloud.output("UserPoolId"), Username: username }),
    );
    const claims = await srpSignIn(cloud, username);
    return { username, sub: UserSub ?? "", claims };
  } finally {
    idp.destroy();
  }
}

/**
 * Retries what fails only because a trigger's first (cold) start ran past Cognito's 5 s budget on
 * a loaded machine. Used for warm-ups and the first call on a fresh cloud, never for the calls a
 * test makes its claim on.
 */
async function coldStartTolerant<T>(what: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (error) {
      const name = (error as { name?: string; code?: string }).name ?? "";
      const code = (error as { code?: string }).code ?? "";
      const cold = [name, code].some((n) =>
        ["UnexpectedLambdaException", "UserLambdaValidationException"].includes(n),
      );
      if (!cold || attempt >= attempts) throw error;
    }
  }
}

let cloud: LocalCloud | undefined;

describe("the local cloud under faults", () => {
  it("loses nothing acknowledged when killed mid-load, and comes back with the same ids", {
    // A cold synthesis (1 to 3 minutes on a busy 2-core machine), two boots and the load.
    timeout: 420_000,
  }, async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), "local-cloud-kill-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

    // Act
    const run = await loadThenKill(dataDir, 300_000);
    expect(run.signal).toBe("SIGKILL");
    expect(run.finished).toBe(false);
    // Users that failed (a trigger's cold start past Cognito's 5 s on a loaded machine) were
    // never acknowledged: nothing is claimed about them.
    expect(run.acknowledged).toHaveLength(KILL_AFTER_ACKS);
    cloud = await startLocalCloud({ root: ROOT, port: 0, dataDir, outputsFile: null });
    const restarted = cloud;
    cleanups.push(() => restarted.stop());

    // Assess: the same pool, client, identity pool and table.
    expect({
      userPoolId: cloud.output("UserPoolId"),
      clientId: cloud.output("UserPoolClientId"),
      identityPoolId: cloud.output("IdentityPoolId"),
      tableName: cloud.output("TableName"),
    }).toEqual({
      userPoolId: run.ready.userPoolId,
      clientId: run.ready.clientId,
      identityPoolId: run.ready.identityPoolId,
      tableName: run.ready.tableName,
    });
    const group = defaultGroupOf(cloud);
    const idp = idpClient(cloud);
    try {
      for (const { username, sub } of run.acknowledged) {
        const user = await idp.send(
          new AdminGetUserCommand({ UserPoolId: run.ready.userPoolId, Username: username }),
        );
        expect(user.UserStatus).toBe("CONFIRMED");
        expect(user.UserAttributes).toContainEqual({ Name: "sub", Value: sub });
        const { Groups = [] } = await idp.send(
          new AdminListGroupsForUserCommand({
            UserPoolId: run.ready.userPoolId,
            Username: username,
          }),
        );
        expect(Groups.map((g) => g.GroupName)).toContain(group);
        // Post confirmation ran exactly once for it: one profile, created once, never rewritten.
        const profiles = (await userItems(cloud, sub)).filter((item) => item.sk === "PROFILE");
        expect(profiles).toHaveLength(1);
        expect(profiles[0]).toMatchObject({ sub, version: 1, roles: [group] });
      }
    } finally {
      idp.destroy();
    }
    // An acknowledged user signs in on the restarted cloud (password and pool keys survived),
    // with the claims the pre token trigger reads from the surviving profile.
    // The first sign-in warms the pre token function (a cold start on a loaded machine can run
    // past Cognito's 5 s, or past the profile read's budget, which degrades to base claims).
    const first = run.acknowledged[0]!;
    await coldStartTolerant(() => srpSignIn(restarted, first.username));
    const claims = await srpSignIn(restarted, first.username);
    expect(claims).toMatchObject({ sub: first.sub, app_roles: group });
    expect(claims.tenant).toEqual(expect.any(String));
  });

  it("isolates functions that hang, spin or crash from the triggers and from each other", {
    timeout: 180_000,
  }, async () => {
    // Prepare: a running cloud (the restarted one above, or a fresh in-memory one).
    if (!cloud) {
      const fresh = await startLocalCloud({ root: ROOT, port: 0, outputsFile: null });
      cleanups.push(() => fresh.stop());
      cloud = fresh;
    }
    const running = cloud;
    // Warm the triggers first: the claim below is about faults, not cold starts.
    await coldStartTolerant(() => signUpJourney(running, "warm-up"));
    const { release, started, close } = await startReleaseServer();
    cleanups.push(close);
    const bundles = mkdtempSync(join(tmpdir(), "local-cloud-faulty-"));
    cleanups.push(() => rmSync(bundles, { recursive: true, force: true }));
    const roleArn = running.provisioned.functions[0]!.roleArn;
    const register = (name: string, source: string, timeoutSeconds: number) => {
      const file = join(bundles, "packages", "faulty", `${name}.mjs`);
      mkdirSync(join(bundles, "packages", "faulty"), { recursive: true });
      writeFileSync(file, source);
      const arn = `arn:aws:lambda:${running.region}:000000000000:function:faulty-${name}`;
      running.runtime.register({
        name: `faulty-${name}`,
        arn,
        roleArn,
        handler: `packages/faulty/${name}.handler`,
        bundleDir: bundles,
        runtime: "nodejs22.x",
        timeoutSeconds,
        memoryMb: 128,
        environment: {},
      });
      return arn;
    };
    // Hangs until the test releases it (an outbound call that is never answered meanwhile).
    const hang = register(
      "hang",
      "export const handler = async (event) => { await fetch(event.url); return 'released'; };",
      120,
    );
    // Burns its CPU in a busy loop until the runtime terminates it at its timeout.
    const spin = register("spin", "export const handler = () => { for (;;) {} };", 2);
    const boom = register(
      "boom",
      "export const handler = async () => { throw new TypeError('boom'); };",
      3,
    );
    const exit = register("exit", "export const handler = async () => { process.exit(7); };", 3);

    // Act: fill every execution environment of the hanging function, spin, and crash...
    let hangsSettled = 0;
    const hanging: Promise<InvokeResult>[] = [];
    for (let i = 0; i < 4; i++) {
      hanging.push(
        running.runtime
          .invoke(hang, { url: release.url }, { source: "test" })
          .finally(() => hangsSettled++),
      );
    }
    await started(4);
    const spinning = running.runtime.invoke(spin, {}, { source: "test" });
    const [thrown, exited] = await Promise.all([
      running.runtime.invoke(boom, {}, { source: "test" }),
      running.runtime.invoke(exit, {}, { source: "test" }),
    ]);
    // ...and meanwhile, the journey through the three Cognito triggers.
    const during = await signUpJourney(running, "during-faults");
    const settledBeforeRelease = hangsSettled;
    release.open();
    const released = await Promise.all(hanging);
    const spun = await spinning;
    const after = await signUpJourney(running, "after-faults");

    // Assess
    expect(thrown).toMatchObject({ ok: false, errorType: "TypeError", errorMessage: "boom" });
    expect(exited).toMatchObject({ ok: false, errorType: "Runtime.ExitError" });
    expect(settledBeforeRelease).toBe(0);
    expect(released.map((r) => (r.ok ? r.payload : r.errorType))).toEqual(
      Array(4).fill("released"),
    );
    expect(spun).toMatchObject({ ok: false, errorType: "Runtime.TimeoutError", timedOut: true });
    const group = defaultGroupOf(running);
    for (const journey of [during, after]) {
      expect(journey.claims).toMatchObject({ sub: journey.sub, app_roles: group });
      const profiles = (await userItems(running, journey.sub)).filter((i) => i.sk === "PROFILE");
      expect(profiles).toHaveLength(1);
    }
    // The crashed function gets a fresh environment and works again once fixed.
    register("boom", "export const handler = async () => 'fixed';", 3);
    expect(await running.runtime.invoke(boom, {}, { source: "test" })).toMatchObject({
      ok: true,
      payload: "fixed",
    });
  });
});

/**
 * A loopback server whose requests are held until `release.open()`: a handler that calls it
 * hangs for as long as the test wants, deterministically. `started(n)` waits (bounded) until
 * n requests arrived, so the invocations are known to be running.
 */
async function startReleaseServer() {
  const held: ServerResponse[] = [];
  let open = false;
  let arrived = 0;
  const server = createServer((_request, response) => {
    arrived++;
    if (open) response.end("ok");
    else held.push(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    release: {
      url,
      open() {
        open = true;
        for (const response of held.splice(0)) response.end("ok");
      },
    },
    async started(count: number) {
      for (let attempt = 0; attempt < 1200 && arrived < count; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (arrived < count) throw new Error(`only ${arrived} of ${count} invocations started`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held.splice(0)) response.end("ok");
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
