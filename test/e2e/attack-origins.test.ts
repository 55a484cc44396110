/**
 * Attacks of a web page on the local cloud (issue 12, section 2), end to end against a cloud booted
 * from the stacks: a page on `https://evil.example` the developer happens to visit tries to read
 * the emailed codes, drive the AWS APIs (JSON and query, preflighted and "simple"), call the HTTP
 * API and open the MQTT WebSocket. Each is refused with a 403 before any work; the same requests
 * from a loopback dev server (`http://localhost:5173`) or an origin given with `--allow-origin`
 * succeed, with that origin echoed and never `*`.
 *
 * Browsers set `Origin`, `Sec-Fetch-Site` and `Referer` themselves; these tests set them as the
 * browser would for the page in question.
 */
import { request } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetTopicAttributesCommand, NotFoundException, SNSClient } from "@aws-sdk/client-sns";
import { type AwsCredentials, signedFetch, signRequest } from "@boarding-pass/client";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import { BOOT_TIMEOUT_MS, bootCloud, STEP_TIMEOUT_MS } from "@boarding-pass/testing/cloud";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const EVIL = "https://evil.example";
const DEV_SERVER = "http://localhost:5173";
const ALLOWED_DEV_HOST = "https://dev.example.test";
const ANY_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const SIGNED_DYNAMODB =
  "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0";

let cloud: LocalCloud;
let sns: SNSClient;
let guest: AwsCredentials;

beforeAll(async () => {
  cloud = await bootCloud({ allowOrigins: [ALLOWED_DEV_HOST] });
  const config = { endpoint: cloud.endpoint, region: cloud.region, credentials: ANY_CREDENTIALS };
  sns = new SNSClient(config);
  const identity = new CognitoIdentityClient(config);
  const { IdentityId } = await identity.send(
    new GetIdCommand({ IdentityPoolId: cloud.output("IdentityPoolId") }),
  );
  const { Credentials } = await identity.send(new GetCredentialsForIdentityCommand({ IdentityId }));
  guest = {
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretKey!,
    sessionToken: Credentials!.SessionToken!,
  };
  identity.destroy();
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  sns?.destroy();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

/** A user who signed up and has a pending confirmation code in the local outbox. */
async function pendingCode(): Promise<{ email: string; code: string }> {
  const email = `origin-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const idp = new CognitoIdentityProviderClient({
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: ANY_CREDENTIALS,
  });
  try {
    await idp.send(
      new SignUpCommand({
        ClientId: cloud.output("UserPoolClientId"),
        Username: email,
        Password: "Corr3ct-Horse-Battery!",
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
  } finally {
    idp.destroy();
  }
  const [code] = cloud.aws.cognitoIdp!.outbox({ email }).map((message) => message.code);
  if (!code) throw new Error(`No confirmation code was sent to ${email}`);
  return { email, code };
}

const codesUrl = (email: string) =>
  `${cloud.endpoint}/_local/cognito-idp/codes?email=${encodeURIComponent(email)}`;

const createTopicBody = (name: string) =>
  new URLSearchParams({ Action: "CreateTopic", Name: name, Version: "2010-03-31" }).toString();

const topicArn = (name: string) => `arn:aws:sns:${cloud.region}:${cloud.plan.accountId}:${name}`;

async function topicExists(name: string): Promise<boolean> {
  try {
    await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn(name) }));
    return true;
  } catch (error) {
    if (error instanceof NotFoundException) return false;
    throw error;
  }
}

function scan(origin: string) {
  return fetch(cloud.endpoint, {
    method: "POST",
    headers: {
      origin,
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.Scan",
      "x-amz-date": "20250101T000000Z",
      authorization: SIGNED_DYNAMODB,
    },
    body: JSON.stringify({ TableName: cloud.output("TableName"), Limit: 1 }),
  });
}

/** A SigV4-presigned MQTT URL for the guest (service `iotdevicegateway`, as AWS IoT documents). */
async function presignedMqttUrl(): Promise<string> {
  const url = new URL(cloud.mqttUrl);
  const signer = new SignatureV4({
    service: "iotdevicegateway",
    region: cloud.region,
    sha256: Sha256,
    credentials: { accessKeyId: guest.accessKeyId, secretAccessKey: guest.secretAccessKey },
  });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host },
    },
    { expiresIn: 300 },
  );
  const query = new URLSearchParams(signed.query as Record<string, string>);
  query.set("X-Amz-Security-Token", guest.sessionToken!);
  return `${url.origin}${url.pathname}?${query.toString()}`;
}

/** Opens a WebSocket as a page on `origin` would: `open`, or the status of the refused upgrade. */
function openMqtt(url: string, origin: string): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "mqtt", { origin });
    socket.once("open", () => {
      socket.close();
      resolve("open");
    });
    socket.once("unexpected-response", (_request, response) => {
      response.resume();
      socket.terminate();
      resolve(response.statusCode ?? 0);
    });
    socket.once("error", reject);
  });
}

describe("a web page on another origin cannot read or drive the local cloud", () => {
  it(
    "GET /_local/cognito-idp/codes from evil.example: 403, no code in the body",
    async () => {
      const { email, code } = await pendingCode();

      const response = await fetch(codesUrl(email), { headers: { origin: EVIL } });
      const body = await response.text();

      expect(response.status).toBe(403);
      expect(body).not.toContain(code);
      expect(JSON.parse(body)).toMatchObject({ __type: "AccessDeniedException" });
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
    },
    STEP_TIMEOUT_MS,
  );

  it("a preflight for x-amz-target from evil.example is refused, without CORS approval", async () => {
    const response = await fetch(cloud.endpoint, {
      method: "OPTIONS",
      headers: {
        origin: EVIL,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-amz-target,x-amz-user-agent",
      },
    });

    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-headers")).toBeNull();
  });

  it("a form-encoded Action=CreateTopic simple POST from evil.example: 403 and no topic", async () => {
    const name = `evil-${crypto.randomUUID().slice(0, 8)}`;

    const response = await fetch(cloud.endpoint, {
      method: "POST",
      headers: { origin: EVIL, "content-type": "application/x-www-form-urlencoded" },
      body: createTopicBody(name),
    });
    const body = await response.text();

    expect(response.status).toBe(403);
    expect(body).toMatch(/^<ErrorResponse><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code>/);
    expect(await topicExists(name)).toBe(false);
  });

  it("a query-API GET without Origin that the browser marks cross-site (an <img src>): 403, no topic", async () => {
    const name = `evil-get-${crypto.randomUUID().slice(0, 8)}`;

    const response = await fetch(`${cloud.endpoint}/?${createTopicBody(name)}`, {
      headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", referer: `${EVIL}/` },
    });

    expect(response.status).toBe(403);
    expect(await topicExists(name)).toBe(false);
  });

  it("a DynamoDB Scan from evil.example: 403 AccessDeniedException, no items", async () => {
    const response = await scan(EVIL);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(403);
    expect(body).toMatchObject({ __type: "AccessDeniedException" });
    expect(body.Items).toBeUndefined();
  });

  it("an `Origin: null` page (sandboxed frame, file:) is refused too", async () => {
    const response = await scan("null");

    expect(response.status).toBe(403);
  });

  it(
    "the HTTP API from evil.example: 403 before the authorizer and the function",
    async () => {
      const before = cloud.runtime.invocations().length;

      const response = await signedFetch(
        {
          url: new URL("identity/preferences", `${cloud.output("ApiUrl")}/`).toString(),
          method: "GET",
          region: cloud.region,
          credentials: guest,
        },
        (url, init) =>
          fetch(url, { ...init, headers: { ...(init?.headers as object), origin: EVIL } }),
      );

      expect(response.status).toBe(403);
      expect(await response.json()).toHaveProperty("message");
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(cloud.runtime.invocations().length).toBe(before);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a WebSocket upgrade to MQTT from evil.example is refused (cross-site WebSocket hijacking)",
    async () => {
      const outcome = await openMqtt(await presignedMqttUrl(), EVIL);

      expect(outcome).toBe(403);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a request addressed to another host name (DNS rebinding) is refused on every listener",
    async () => {
      /** Sends `headers` to the listener of `url` as a page on a rebound name would reach it. */
      const rebound = (url: string, headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const { hostname, port, pathname } = new URL(url);
          const outgoing = request(
            { host: hostname, port, path: pathname, headers },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          );
          outgoing.on("error", reject);
          outgoing.end();
        });
      const apiPort = new URL(cloud.output("ApiUrl")).port;
      // A request the guest could make, signed for the rebound name: only the Host check refuses it.
      const signed = await signRequest({
        url: `http://rebound.example:${apiPort}/identity/preferences`,
        method: "GET",
        region: cloud.region,
        credentials: guest,
      });
      const reboundHost = (url: string) => ({ host: `rebound.example:${new URL(url).port}` });

      expect(await rebound(`${cloud.endpoint}/_local/health`, reboundHost(cloud.endpoint))).toBe(
        403,
      );
      expect(await rebound(`${cloud.output("ApiUrl")}/identity/preferences`, signed.headers)).toBe(
        403,
      );
      const mqtt = cloud.mqttUrl.replace(/^ws:/, "http:");
      expect(await rebound(mqtt, reboundHost(mqtt))).toBe(403);
    },
    STEP_TIMEOUT_MS,
  );
});

describe("the same requests from a loopback dev server succeed, the origin echoed", () => {
  it(
    "reads the codes from http://localhost:5173",
    async () => {
      const { email, code } = await pendingCode();

      const response = await fetch(codesUrl(email), { headers: { origin: DEV_SERVER } });

      expect(response.status).toBe(200);
      expect(await response.text()).toContain(code);
      expect(response.headers.get("access-control-allow-origin")).toBe(DEV_SERVER);
      expect(response.headers.get("vary")).toContain("Origin");
    },
    STEP_TIMEOUT_MS,
  );

  it("approves the preflight, echoing the origin", async () => {
    const response = await fetch(cloud.endpoint, {
      method: "OPTIONS",
      headers: {
        origin: DEV_SERVER,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-amz-target,x-amz-user-agent",
      },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(DEV_SERVER);
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "content-type,x-amz-target,x-amz-user-agent",
    );
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("creates the topic with a form POST", async () => {
    const name = `dev-${crypto.randomUUID().slice(0, 8)}`;

    const response = await fetch(cloud.endpoint, {
      method: "POST",
      headers: { origin: DEV_SERVER, "content-type": "application/x-www-form-urlencoded" },
      body: createTopicBody(name),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(DEV_SERVER);
    expect(await topicExists(name)).toBe(true);
  });

  it("scans DynamoDB", async () => {
    const response = await scan(DEV_SERVER);

    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("Items");
    expect(response.headers.get("access-control-allow-origin")).toBe(DEV_SERVER);
  });

  it(
    "calls the HTTP API with the guest's signature",
    async () => {
      const response = await signedFetch(
        {
          url: new URL("identity/preferences", `${cloud.output("ApiUrl")}/`).toString(),
          method: "GET",
          region: cloud.region,
          credentials: guest,
        },
        (url, init) =>
          fetch(url, { ...init, headers: { ...(init?.headers as object), origin: DEV_SERVER } }),
      );

      expect(response.status).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBe(DEV_SERVER);
      expect(response.headers.get("vary")).toContain("Origin");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "opens the MQTT WebSocket",
    async () => {
      expect(await openMqtt(await presignedMqttUrl(), DEV_SERVER)).toBe("open");
    },
    STEP_TIMEOUT_MS,
  );

  it("admits the origin given with --allow-origin, and only that one", async () => {
    const allowed = await scan(ALLOWED_DEV_HOST);
    const sibling = await scan("https://other.example.test");

    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_DEV_HOST);
    expect(sibling.status).toBe(403);
  });

  it("answers SDKs and curl, which send no Origin, without any CORS grant", async () => {
    const response = await fetch(cloud.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.Scan",
        "x-amz-date": "20250101T000000Z",
        authorization: SIGNED_DYNAMODB,
      },
      body: JSON.stringify({ TableName: cloud.output("TableName"), Limit: 1 }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
