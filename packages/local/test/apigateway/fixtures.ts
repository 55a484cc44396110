/**
 * Real parts for the HTTP API tests: a LambdaInvoker that runs JS handler functions in process
 * (with the invoker contract's error and timeout results), an IamDirectory over roles built in the
 * test, and SigV4 signing with the SDK's own signer.
 */
import { randomUUID } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type {
  IamDirectory,
  InvokeResult,
  LambdaInvoker,
  LocalRole,
  PolicyDocument,
} from "../../src/cloud/contracts";

export const ACCOUNT = "000000000000";
export const REGION = "us-east-1";

export type Handler = (event: unknown, context: { awsRequestId: string }) => unknown;

/** Runs registered handlers by name or ARN; a throw becomes `ok: false`, as the runtime reports. */
export class InProcessInvoker implements LambdaInvoker {
  readonly events: Array<{ functionName: string; event: unknown }> = [];
  private readonly handlers = new Map<string, { handler: Handler; timeoutMs: number }>();

  register(functionName: string, handler: Handler, timeoutMs = 3000): string {
    this.handlers.set(functionName, { handler, timeoutMs });
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`;
  }

  async invoke(functionNameOrArn: string, event: unknown): Promise<InvokeResult> {
    const functionName = functionNameOrArn.split(":").at(-1)!;
    const entry = this.handlers.get(functionName);
    const requestId = randomUUID();
    const started = performance.now();
    const durationMs = () => performance.now() - started;
    if (!entry) {
      return {
        ok: false,
        errorType: "ResourceNotFoundException",
        errorMessage: `Function not found: ${functionNameOrArn}`,
        requestId,
        durationMs: 0,
        timedOut: false,
      };
    }
    this.events.push({ functionName, event: structuredClone(event) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), entry.timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve().then(() => entry.handler(event, { awsRequestId: requestId })),
        timeout,
      ]);
      if (outcome === "timeout") {
        return {
          ok: false,
          errorType: "Runtime.TimeoutError",
          errorMessage: `Task timed out after ${entry.timeoutMs / 1000} seconds`,
          requestId,
          durationMs: durationMs(),
          timedOut: true,
        };
      }
      // What crosses the Lambda boundary is JSON.
      const payload = outcome === undefined ? null : JSON.parse(JSON.stringify(outcome));
      return { ok: true, payload, requestId, durationMs: durationMs() };
    } catch (error) {
      const e = error as Error;
      return {
        ok: false,
        errorType: e.name ?? "Error",
        errorMessage: e.message ?? String(error),
        requestId,
        durationMs: durationMs(),
        timedOut: false,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Roles by ARN, as the provisioner would build them from the template. */
export class TestIamDirectory implements IamDirectory {
  private readonly byArn = new Map<string, LocalRole>();

  put(name: string, trustPolicy: object, policies: PolicyDocument[]): LocalRole {
    const role: LocalRole = {
      name,
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      trustPolicy: trustPolicy as PolicyDocument,
      policies,
      managedPolicyArns: [],
    };
    this.byArn.set(role.arn, role);
    return role;
  }

  role(roleArn: string): LocalRole | undefined {
    return this.byArn.get(roleArn);
  }

  roles(): LocalRole[] {
    return [...this.byArn.values()];
  }
}

export function invokePolicy(apiId: string, ...routes: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: routes.map((route) => {
          const [method, path] = route.split(" ") as [string, string];
          return `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/*/${method}${path.replace(/\{[^}]+\}/g, "*")}`;
        }),
      },
    ],
  };
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedCall {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  signingDate?: Date;
  service?: string;
  region?: string;
}

function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function urlOf(
  base: string,
  path: string,
  query: Record<string, string | string[]> | undefined,
): string {
  const pairs = Object.entries(query ?? {}).flatMap(([k, v]) =>
    [v].flat().map((x) => `${encode(k)}=${encode(x)}`),
  );
  return `${base}${path}${pairs.length > 0 ? `?${pairs.join("&")}` : ""}`;
}

/** @smithy/signature-v4 as the SDK and Amplify use it. */
function signerFor(credentials: Credentials, call: SignedCall): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    region: call.region ?? REGION,
    service: call.service ?? "execute-api",
    sha256: Sha256,
  });
}

/** The call as the signer takes it. */
function httpRequest(url: URL, call: SignedCall, headers: Record<string, string>) {
  return {
    method: call.method ?? "GET",
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: call.path,
    query: call.query ?? {},
    headers,
  };
}

/** Signs with @smithy/signature-v4 as the SDK and Amplify do: the URL and headers to send. */
export async function signRequest(
  baseUrl: string,
  credentials: Credentials,
  call: SignedCall,
): Promise<{ url: string; headers: Record<string, string> }> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { host: url.host, ...call.headers };
  if (call.body !== undefined) headers["content-type"] ??= "application/json";
  const signed = await signerFor(credentials, call).sign(
    { ...httpRequest(url, call, headers), body: call.body },
    { signingDate: call.signingDate },
  );
  const sent = { ...signed.headers };
  // fetch sets Host itself (and refuses to be told).
  delete sent.host;
  return { url: urlOf(baseUrl, call.path, call.query), headers: sent };
}

/** Signs, then sends with fetch. */
export async function signedFetch(
  baseUrl: string,
  credentials: Credentials,
  call: SignedCall,
): Promise<Response> {
  const { url, headers } = await signRequest(baseUrl, credentials, call);
  return fetch(url, { method: call.method ?? "GET", headers, body: call.body });
}

/** A presigned URL for a bodiless request (query-string SigV4). */
export async function presignedUrl(
  baseUrl: string,
  credentials: Credentials,
  call: SignedCall & { expiresIn?: number },
): Promise<string> {
  const url = new URL(baseUrl);
  const presigned = await signerFor(credentials, call).presign(
    httpRequest(url, call, { host: url.host }),
    { expiresIn: call.expiresIn ?? 300, signingDate: call.signingDate },
  );
  return urlOf(baseUrl, call.path, presigned.query as Record<string, string | string[]>);
}
