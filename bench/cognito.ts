import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { startLocalAws } from "@boarding-pass/local";
import { createCognitoIdpService } from "@boarding-pass/local/services/cognito-idp";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { type LatencySummary, round, summarize } from "./stats";

/**
 * Sign-in throughput and latency of the local user pool against cognito-local 5.3 on the same
 * machine: InitiateAuth USER_PASSWORD_AUTH through the unmodified SDK client, with a pre token
 * generation trigger that adds a claim. Ours gets the trigger as an in-process callback (how the
 * local runtime registers handlers); cognito-local can only invoke triggers through a Lambda
 * endpoint, so it gets a loopback HTTP server that answers the same way.
 *
 * Both persist to a temporary directory. cognito-local runs as its own process (its bin; it reads
 * `.cognito/` in its working directory), ours in the benchmark's process, sharing the CPU with the
 * SDK client that drives the load: the comparison is, if anything, tilted against ours.
 */
const USERS = 8;
const WARM_UP = 40;
const SEQUENTIAL = 300;
const CONCURRENCY = 8;
const CONCURRENT_TOTAL = 800;
const PASSWORD = "Corr3ct-Horse!";
const PRE_TOKEN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:pre-token";

interface Figures {
  sequential: LatencySummary;
  concurrent: LatencySummary & { concurrency: number; signInsPerSecond: number };
}

async function measure(signIn: (user: number) => Promise<void>): Promise<Figures> {
  for (let i = 0; i < WARM_UP; i++) await signIn(i % USERS);
  const sequential: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const start = performance.now();
    await signIn(i % USERS);
    sequential.push(performance.now() - start);
  }
  const concurrent: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < CONCURRENT_TOTAL) {
        next++;
        const start = performance.now();
        await signIn(worker % USERS);
        concurrent.push(performance.now() - start);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  return {
    sequential: summarize(sequential, 2),
    concurrent: {
      concurrency: CONCURRENCY,
      signInsPerSecond: round((concurrent.length / elapsedMs) * 1000, 2),
      ...summarize(concurrent, 2),
    },
  };
}

function sdkClient(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 }),
    }),
  });
}

async function seedUsers(
  client: CognitoIdentityProviderClient,
  poolId: string,
  clientId: string,
): Promise<string[]> {
  const emails: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench-${i}-${Date.now()}@example.com`;
    await client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    emails.push(email);
  }
  return emails;
}

function signInWith(client: CognitoIdentityProviderClient, clientId: string, emails: string[]) {
  return async (user: number) => {
    const result = await client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: emails[user]!, PASSWORD },
      }),
    );
    const idToken = result.AuthenticationResult?.IdToken ?? "";
    const claims = JSON.parse(Buffer.from(idToken.split(".")[1] ?? "", "base64url").toString());
    if (claims.tier !== "gold") throw new Error("the pre token generation trigger did not run");
  };
}

/** The trigger both candidates run: V1, adds one claim. */
function preTokenResponse(event: Record<string, unknown>): Record<string, unknown> {
  return {
    ...event,
    response: { claimsOverrideDetails: { claimsToAddOrOverride: { tier: "gold" } } },
  };
}

async function benchOurs(dataDir: string): Promise<Figures> {
  const aws = await startLocalAws({ port: 0 });
  const cognito = createCognitoIdpService({
    region: "us-east-1",
    dataDir,
    endpoint: () => aws.endpoint,
    log: () => {},
    invokeTrigger: async (_arn, event) => preTokenResponse(event as Record<string, unknown>),
  });
  aws.register(cognito);
  const client = sdkClient(aws.endpoint);
  try {
    const pool = cognito.createUserPool({
      UsernameAttributes: ["email"],
      LambdaConfig: { PreTokenGeneration: PRE_TOKEN_ARN },
    });
    const { ClientId } = cognito.createUserPoolClient(pool.Id, {
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
    const emails = await seedUsers(client, pool.Id, ClientId);
    return await measure(signInWith(client, ClientId, emails));
  } finally {
    client.destroy();
    await aws.stop();
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback stand-in for the Lambda Invoke API that cognito-local calls for its triggers. */
async function startFakeLambda(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(preTokenResponse(event)));
    });
  });
  server.keepAliveTimeout = 65_000;
  const port = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startCognitoLocal(
  workDir: string,
  lambdaEndpoint: string,
): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  mkdirSync(join(workDir, ".cognito"), { recursive: true });
  writeFileSync(
    join(workDir, ".cognito", "config.json"),
    JSON.stringify({
      TriggerFunctions: { PreTokenGeneration: "pre-token" },
      LambdaClient: {
        endpoint: lambdaEndpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      },
    }),
  );
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = join(here, "..", "node_modules", "cognito-local", "lib", "bin", "start.js");
  const child = spawn(process.execPath, [bin], {
    cwd: workDir,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("cognito-local did not start in 30 s")),
      30_000,
    );
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Cognito Local running")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`cognito-local exited with ${code}: ${output.slice(-500)}`));
    });
  });
  // Keep draining its (per-request) log so a full pipe never stalls it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

async function benchCognitoLocal(workDir: string): Promise<Figures> {
  const lambda = await startFakeLambda();
  const { endpoint, child } = await startCognitoLocal(workDir, lambda.endpoint);
  const client = sdkClient(endpoint);
  try {
    const pool = await client.send(
      new CreateUserPoolCommand({ PoolName: "bench", UsernameAttributes: ["email"] }),
    );
    const poolId = pool.UserPool?.Id ?? "";
    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: "bench",
        ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      }),
    );
    const clientId = created.UserPoolClient?.ClientId ?? "";
    const emails = await seedUsers(client, poolId, clientId);
    return await measure(signInWith(client, clientId, emails));
  } finally {
    client.destroy();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    await lambda.close();
  }
}

export async function benchCognito() {
  const root = mkdtempSync(join(tmpdir(), "bench-cognito-"));
  try {
    const oursDir = join(root, "ours");
    const theirsDir = join(root, "cognito-local");
    mkdirSync(oursDir);
    mkdirSync(theirsDir);
    const ours = await benchOurs(oursDir);
    const cognitoLocal = await benchCognitoLocal(theirsDir);
    return {
      operation: "InitiateAuth USER_PASSWORD_AUTH + pre token generation (V1, adds a claim)",
      users: USERS,
      ours,
      cognitoLocal,
      throughputRatio: round(
        ours.concurrent.signInsPerSecond / cognitoLocal.concurrent.signInsPerSecond,
        2,
      ),
      sequentialP50Ratio: round(cognitoLocal.sequential.p50Ms / ours.sequential.p50Ms, 2),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchCognito();
  console.log(JSON.stringify(results, null, 2));
  console.table({
    ours: {
      "sign-ins/s": results.ours.concurrent.signInsPerSecond,
      "conc p50 ms": results.ours.concurrent.p50Ms,
      "conc p99 ms": results.ours.concurrent.p99Ms,
      "seq p50 ms": results.ours.sequential.p50Ms,
      "seq p99 ms": results.ours.sequential.p99Ms,
    },
    "cognito-local 5.3": {
      "sign-ins/s": results.cognitoLocal.concurrent.signInsPerSecond,
      "conc p50 ms": results.cognitoLocal.concurrent.p50Ms,
      "conc p99 ms": results.cognitoLocal.concurrent.p99Ms,
      "seq p50 ms": results.cognitoLocal.sequential.p50Ms,
      "seq p99 ms": results.cognitoLocal.sequential.p99Ms,
    },
  });
  console.log(`throughput ratio (ours / cognito-local): ${results.throughputRatio}x`);
}
