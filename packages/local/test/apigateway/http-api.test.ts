import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginPolicy } from "../../src/edge/origin";
import { type HttpApi, type HttpRoute, startHttpApi } from "../../src/services/apigateway/index";
import { GUEST_SESSION_POLICY } from "../../src/services/cognito-identity/index";
import {
  createStsService,
  type IssuedCredentials,
  type StsService,
} from "../../src/services/sts/index";
import { identityPoolTrustPolicy } from "../../src/testing";
import { generateSigningKey, signJwt } from "../services/jwt-helpers";
import {
  ACCOUNT,
  InProcessInvoker,
  invokePolicy,
  presignedUrl,
  REGION,
  signedFetch,
  signRequest,
  TestIamDirectory,
} from "./fixtures";

const API_ID = "a1b2c3d4e5";
const POOL = "us-east-1:4c3b2a10-0000-4000-8000-000000000001";
const CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado";
const AWS_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1";

const invoker = new InProcessInvoker();
const iam = new TestIamDirectory();
const logs: string[] = [];
let stsOffsetMs = 0;
let sts: StsService;
let api: HttpApi;
let jwksServer: Server;
let issuer: string;
const userPoolKey = generateSigningKey("pool-key-1");

const echo = (name: string) =>
  invoker.register(name, (event) => ({
    statusCode: 200,
    headers: { "content-type": "application/json", "x-handler": name },
    cookies: ["session=abc; Path=/", "theme=dark"],
    body: JSON.stringify({ handler: name, event }),
  }));

const routes = (): HttpRoute[] => {
  const iamRoute = (routeKey: string, fn: string): HttpRoute => ({
    routeKey,
    functionArn: echo(fn),
    payloadFormatVersion: "2.0",
    authorizationType: "AWS_IAM",
  });
  const open = (
    routeKey: string,
    functionArn: string,
    payloadFormatVersion: "2.0" | "1.0" = "2.0",
  ): HttpRoute => ({
    routeKey,
    functionArn,
    payloadFormatVersion,
    authorizationType: "NONE",
  });
  const jwt = { issuer, audience: [CLIENT_ID] };
  return [
    iamRoute("GET /identity/{sub}", "getIdentity"),
    iamRoute("POST /identity/link", "link"),
    iamRoute("GET /admin/users/{sub}", "adminGetUser"),
    {
      routeKey: "GET /profile",
      functionArn: echo("profile"),
      payloadFormatVersion: "2.0",
      authorizationType: "JWT",
      jwt,
    },
    {
      routeKey: "GET /scoped",
      functionArn: echo("scoped"),
      payloadFormatVersion: "2.0",
      authorizationType: "JWT",
      jwt,
      authorizationScopes: ["boarding/read", "boarding/admin"],
    },
    {
      routeKey: "GET /aws-issuer",
      functionArn: echo("awsIssuer"),
      payloadFormatVersion: "2.0",
      authorizationType: "JWT",
      jwt: { issuer: AWS_ISSUER, audience: [CLIENT_ID] },
    },
    open("GET /public/{proxy+}", echo("publicProxy")),
    open("GET /public/exact", echo("publicExact")),
    open("GET /public/{a}/fixed", echo("publicParamFixed")),
    open("ANY /items/{id}", echo("itemsV1"), "1.0"),
    open("GET /items/{id}", echo("itemsGet")),
    open(
      "GET /boom",
      invoker.register("boom", () => {
        throw new TypeError("handler exploded");
      }),
    ),
    open(
      "GET /plain",
      invoker.register("plain", () => ({ hello: "world", n: 1 })),
    ),
    open("$default", echo("fallback")),
  ];
};

beforeAll(async () => {
  jwksServer = createServer((req, res) => {
    if (req.url === "/us-east-1_TestPool1/.well-known/jwks.json") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [userPoolKey.jwk] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/us-east-1_TestPool1`;

  sts = createStsService({ region: REGION, now: () => Date.now() + stsOffsetMs });
  const member = iam.put("member", identityPoolTrustPolicy(POOL, "authenticated"), [
    invokePolicy(API_ID, "POST /identity/link"),
    {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "execute-api:Invoke",
          // Only the caller's own identity, through the policy variable IAM fills for Cognito.
          Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*/GET/identity/\${cognito-identity.amazonaws.com:sub}`,
        },
      ],
    },
  ]);
  const guest = iam.put("guest", identityPoolTrustPolicy(POOL, "unauthenticated"), [
    invokePolicy(API_ID, "GET /identity/{sub}"),
  ]);
  for (const role of [member, guest]) sts.putRole({ arn: role.arn, trustPolicy: role.trustPolicy });

  api = await startHttpApi({
    port: 0,
    region: REGION,
    accountId: ACCOUNT,
    apiId: API_ID,
    stageName: "$default",
    routes: routes(),
    cors: {
      allowOrigins: ["https://app.example"],
      allowMethods: ["*"],
      allowHeaders: ["*"],
      maxAge: 600,
    },
    // Pages the local cloud answers at all; the API's own CORS configuration decides the rest.
    origins: createOriginPolicy(["https://app.example", "https://admitted.example"]),
    invoker,
    sts,
    iam,
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await sts?.close();
});

let counter = 0;
function issue(
  role: "member" | "guest",
  options: { sessionPolicy?: string; durationSeconds?: number } = {},
) {
  const identityId = `${REGION}:00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
  return sts.issueCredentials({
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
    sessionName: "CognitoIdentityCredentials",
    subject: identityId,
    identityId,
    durationSeconds: options.durationSeconds ?? 3600,
    ...(options.sessionPolicy !== undefined ? { sessionPolicy: options.sessionPolicy } : {}),
  });
}

function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

// biome-ignore lint/suspicious/noExplicitAny: assertions read deep event shapes
async function json(response: Response): Promise<any> {
  return JSON.parse(await response.text());
}

describe("routing and the 2.0 event", () => {
  it("passes path parameters, query, headers and cookies as API Gateway does", async () => {
    const response = await fetch(`${api.url}/public/exact?b=2&a=1&a=3`, {
      headers: { cookie: "c1=v1; c2=v2", "x-multi": "one", "user-agent": "test-agent" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("apigw-requestid")).toMatch(/^[A-Za-z0-9+/]{14}==$/);
    expect(response.headers.getSetCookie()).toEqual(["session=abc; Path=/", "theme=dark"]);
    const { handler, event } = await json(response);
    expect(handler).toBe("publicExact");
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "GET /public/exact",
      rawPath: "/public/exact",
      rawQueryString: "b=2&a=1&a=3",
      cookies: ["c1=v1", "c2=v2"],
      queryStringParameters: { a: "1,3", b: "2" },
      isBase64Encoded: false,
      requestContext: {
        accountId: ACCOUNT,
        apiId: API_ID,
        http: {
          method: "GET",
          path: "/public/exact",
          protocol: "HTTP/1.1",
          sourceIp: "127.0.0.1",
          userAgent: "test-agent",
        },
        routeKey: "GET /public/exact",
        stage: "$default",
      },
    });
    expect(event.headers["x-multi"]).toBe("one");
    expect(event.headers).toMatchObject({
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-port": String(api.port),
      "x-forwarded-proto": "http",
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.pathParameters).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.time).toMatch(
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(event.requestContext.requestId).toBe(response.headers.get("apigw-requestid"));
  });

  it("chooses the most specific route: literal, then parameter, then greedy, then $default", async () => {
    const handlerOf = async (path: string, method = "GET") =>
      (await json(await fetch(`${api.url}${path}`, { method }))).handler;
    expect(await handlerOf("/public/x/fixed")).toBe("publicParamFixed");
    expect(await handlerOf("/public/x/other")).toBe("publicProxy");
    expect(await handlerOf("/public")).toBe("fallback");
    expect(await handlerOf("/items/7")).toBe("itemsGet");
    expect(await handlerOf("/nowhere/at/all", "DELETE")).toBe("fallback");
    const proxied = (await json(await fetch(`${api.url}/public/a/b%20c/d`))).event;
    expect(proxied.pathParameters).toEqual({ proxy: "a/b c/d" });
    expect(proxied.rawPath).toBe("/public/a/b%20c/d");
  });

  it("maps a result without statusCode to a 200 JSON body", async () => {
    const response = await fetch(`${api.url}/plain`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await json(response)).toEqual({ hello: "world", n: 1 });
  });

  it("answers 500 Internal Server Error when the function throws", async () => {
    const response = await fetch(`${api.url}/boom`);
    expect(response.status).toBe(500);
    expect(await json(response)).toEqual({ message: "Internal Server Error" });
    expect(logs.some((l) => l.includes("TypeError: handler exploded"))).toBe(true);
  });

  it("builds a 1.0 event for a 1.0 integration", async () => {
    const response = await fetch(`${api.url}/items/42?tag=a&tag=b`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x: 1 }),
    });
    expect(response.status).toBe(200);
    const { event } = await json(response);
    expect(event).toMatchObject({
      version: "1.0",
      resource: "/items/{id}",
      path: "/items/42",
      httpMethod: "POST",
      pathParameters: { id: "42" },
      queryStringParameters: { tag: "b" },
      multiValueQueryStringParameters: { tag: ["a", "b"] },
      body: '{"x":1}',
      isBase64Encoded: false,
      requestContext: { resourcePath: "/items/{id}", stage: "$default", httpMethod: "POST" },
    });
  });

  it("base64-encodes binary bodies and answers CORS as configured", async () => {
    const response = await fetch(`${api.url}/anything`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", origin: "https://app.example" },
      body: Buffer.from([0, 1, 2, 255]),
    });
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const { event } = await json(response);
    expect(event).toMatchObject({ routeKey: "$default", isBase64Encoded: true, body: "AAEC/w==" });

    // fetch() may not send Access-Control-Request-Headers (a forbidden header): raw HTTP.
    const preflight = await rawRequest(`${api.url}/identity/x`, "OPTIONS", {
      origin: "https://app.example",
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization,x-amz-date",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(preflight.headers["access-control-allow-headers"]).toBe("authorization,x-amz-date");
    expect(preflight.headers["access-control-allow-methods"]).toBe("GET");
    expect(preflight.headers["access-control-max-age"]).toBe("600");

    // Admitted by the local cloud, but not in the API's AllowOrigins: answered, no CORS grant.
    const other = await fetch(`${api.url}/public/exact`, {
      headers: { origin: "https://admitted.example" },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    // Any other page: API Gateway's 403 before the route, without CORS headers.
    const foreign = await fetch(`${api.url}/public/exact`, {
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(foreign.headers.get("vary")).toBe("Origin");
  });

  it("echoes an admitted origin where the API's AllowOrigins is `*`, never `*` itself", async () => {
    const wildcard = await startHttpApi({
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      apiId: API_ID,
      routes: routes(),
      cors: { allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"] },
      invoker,
      sts,
      iam,
      log: () => {},
    });
    try {
      const response = await fetch(`${wildcard.url}/public/exact`, {
        headers: { origin: "http://localhost:5173" },
      });
      const preflight = await rawRequest(`${wildcard.url}/public/exact`, "OPTIONS", {
        origin: "http://127.0.0.1:3000",
        "access-control-request-method": "GET",
      });

      expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(preflight.headers["access-control-allow-origin"]).toBe("http://127.0.0.1:3000");
    } finally {
      await wildcard.close();
    }
  });

  it("refuses bodies over 10 MB with 413", async () => {
    const response = await fetch(`${api.url}/anything`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(await json(response)).toEqual({ message: "Request Entity Too Large" });
  });
});

describe("AWS_IAM routes", () => {
  it("lets a Cognito identity call its own route and fills authorizer.iam", async () => {
    const credentials = issue("member");
    const response = await signedFetch(api.url, credentials, {
      path: `/identity/${credentials.identityId}`,
    });
    expect(response.status).toBe(200);
    const { event } = await json(response);
    expect(event.pathParameters).toEqual({ sub: credentials.identityId });
    expect(event.requestContext.authorizer.iam).toEqual({
      accessKey: credentials.accessKeyId,
      accountId: ACCOUNT,
      callerId: credentials.assumedRoleId,
      cognitoIdentity: {
        amr: ["authenticated"],
        identityId: credentials.identityId,
        identityPoolId: "",
      },
      principalOrgId: null,
      userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/member/CognitoIdentityCredentials`,
      userId: credentials.assumedRoleId,
    });
  });

  it("signs the body: a POST with JSON reaches the function", async () => {
    const credentials = issue("member");
    const body = JSON.stringify({ guestProof: "p", n: "ü" });
    const response = await signedFetch(api.url, credentials, {
      method: "POST",
      path: "/identity/link",
      body,
    });
    expect(response.status).toBe(200);
    expect((await json(response)).event.body).toBe(body);
  });

  it("denies a route the role's policies do not grant, and another identity's path", async () => {
    const credentials = issue("member");
    const admin = await signedFetch(api.url, credentials, { path: "/admin/users/someone" });
    expect(admin.status).toBe(403);
    expect(await json(admin)).toEqual({ message: "Forbidden" });
    const other = await signedFetch(api.url, credentials, {
      path: `/identity/${REGION}:someone-else`,
    });
    expect(other.status).toBe(403);
    expect(await json(other)).toEqual({ message: "Forbidden" });
    expect(
      logs.some(
        (l) => l.includes("may not execute-api:Invoke") && l.includes("/GET/admin/users/someone"),
      ),
    ).toBe(true);
  });

  it("intersects the role's policies with the session policy", async () => {
    const scopedOut = issue("guest", {
      sessionPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
      }),
    });
    const denied = await signedFetch(api.url, scopedOut, { path: "/identity/anyone" });
    expect(denied.status).toBe(403);

    const guest = issue("guest", { sessionPolicy: GUEST_SESSION_POLICY });
    const allowed = await signedFetch(api.url, guest, { path: "/identity/anyone" });
    expect(allowed.status).toBe(200);
    expect((await json(allowed)).event.requestContext.authorizer.iam.cognitoIdentity.amr).toEqual([
      "unauthenticated",
    ]);
  });

  it("lets an explicit deny win and fails closed on a policy it cannot validate", async () => {
    const roleWith = (name: string, policies: object[]) => {
      const role = iam.put(name, identityPoolTrustPolicy(POOL, "authenticated"), policies as never);
      sts.putRole({ arn: role.arn, trustPolicy: role.trustPolicy });
      return sts.issueCredentials({
        roleArn: role.arn,
        sessionName: name,
        subject: name,
        durationSeconds: 900,
      });
    };
    const denyAdmin = roleWith("deny-admin", [
      {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "execute-api:Invoke", Resource: "*" },
          {
            Effect: "Deny",
            Action: "execute-api:*",
            Resource: `arn:aws:execute-api:*:*:${API_ID}/*/*/admin/*`,
          },
        ],
      },
    ]);
    expect((await signedFetch(api.url, denyAdmin, { path: "/identity/x" })).status).toBe(200);
    expect((await signedFetch(api.url, denyAdmin, { path: "/admin/users/x" })).status).toBe(403);

    const broken = roleWith("broken-policy", [
      { Version: "2012-10-17", Statement: [{ Effect: "Allow", Resource: "*" }] },
    ]);
    expect((await signedFetch(api.url, broken, { path: "/identity/x" })).status).toBe(403);
    expect(logs.some((l) => l.includes("policies of") && l.includes("broken-policy"))).toBe(true);
  });

  it("refuses unsigned requests and dummy keys", async () => {
    const unsigned = await fetch(`${api.url}/identity/x`);
    expect(unsigned.status).toBe(403);
    expect(await json(unsigned)).toEqual({ message: "Forbidden" });
    const dummy = await signedFetch(
      api.url,
      { accessKeyId: "test", secretAccessKey: "test" },
      { path: "/identity/x" },
    );
    expect(dummy.status).toBe(403);
    expect(await json(dummy)).toEqual({
      message: "The security token included in the request is invalid",
    });
  });

  it("refuses a tampered signature, path or body", async () => {
    const credentials = issue("member");
    const path = `/identity/${credentials.identityId}`;
    const mismatch = {
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    };
    // Wrong secret: a different signature over the same request.
    const wrongSecret = await signedFetch(
      api.url,
      { ...credentials, secretAccessKey: "x".repeat(40) },
      { path },
    );
    expect(wrongSecret.status).toBe(403);
    expect(await json(wrongSecret)).toEqual(mismatch);

    // Signed for one query, sent with another.
    const url = await presignedUrl(api.url, credentials, { path });
    const good = await fetch(url);
    expect(good.status).toBe(200);
    const tampered = await fetch(`${url}&extra=1`);
    expect(tampered.status).toBe(403);
    expect(await json(tampered)).toEqual(mismatch);

    // Body changed after signing: x-amz-content-sha256 no longer matches.
    const signed = await signRequest(api.url, credentials, {
      method: "POST",
      path: "/identity/link",
      body: '{"a":1}',
    });
    const changed = await fetch(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: '{"a":2}',
    });
    expect(changed.status).toBe(403);
    expect(await json(changed)).toEqual(mismatch);
  });

  it("refuses expired credentials, a wrong session token, a stale signature and a wrong scope", async () => {
    stsOffsetMs = -2 * 3600 * 1000;
    let expired: IssuedCredentials;
    try {
      expired = issue("member", { durationSeconds: 900 });
    } finally {
      stsOffsetMs = 0;
    }
    const path = `/identity/${expired.identityId}`;
    const gone = await signedFetch(api.url, expired, { path });
    expect(gone.status).toBe(403);
    expect(await json(gone)).toEqual({
      message: "The security token included in the request is expired",
    });

    const credentials = issue("member");
    const own = `/identity/${credentials.identityId}`;
    const otherToken = issue("member").sessionToken;
    const wrongToken = await signedFetch(
      api.url,
      { ...credentials, sessionToken: otherToken },
      { path: own },
    );
    expect(wrongToken.status).toBe(403);
    expect(await json(wrongToken)).toEqual({
      message: "The security token included in the request is invalid",
    });
    const noToken = await signedFetch(
      api.url,
      { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      { path: own },
    );
    expect(noToken.status).toBe(403);

    const stale = await signedFetch(api.url, credentials, {
      path: own,
      signingDate: new Date(Date.now() - 20 * 60 * 1000),
    });
    expect(stale.status).toBe(403);
    expect((await json(stale)).message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
    );

    const wrongService = await signedFetch(api.url, credentials, { path: own, service: "lambda" });
    expect(await json(wrongService)).toEqual({
      message: "Credential should be scoped to correct service: 'execute-api'. ",
    });
    const wrongRegion = await signedFetch(api.url, credentials, { path: own, region: "eu-west-1" });
    expect(await json(wrongRegion)).toEqual({
      message: "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    });
  });
});

describe("presigned URLs and named stages", () => {
  it("refuses a presigned URL past X-Amz-Expires", async () => {
    const credentials = issue("member");
    const path = `/identity/${credentials.identityId}`;
    const url = await presignedUrl(api.url, credentials, {
      path,
      expiresIn: 60,
      signingDate: new Date(Date.now() - 5 * 60 * 1000),
    });
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect((await json(response)).message).toMatch(/^Signature expired: /);
  });

  it("serves a named stage under its prefix and authorizes against that stage's ARN", async () => {
    const stageRole = iam.put("stage-caller", identityPoolTrustPolicy(POOL, "authenticated"), [
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:stageapi01/v1/GET/orders/*`,
          },
        ],
      },
    ]);
    sts.putRole({ arn: stageRole.arn, trustPolicy: stageRole.trustPolicy });
    const credentials = sts.issueCredentials({
      roleArn: stageRole.arn,
      sessionName: "stage-test",
      subject: "stage-test",
      durationSeconds: 900,
    });
    const staged = await startHttpApi({
      region: REGION,
      accountId: ACCOUNT,
      apiId: "stageapi01",
      stageName: "v1",
      routes: [
        {
          routeKey: "GET /orders/{id}",
          functionArn: echo("orders"),
          payloadFormatVersion: "2.0",
          authorizationType: "AWS_IAM",
        },
      ],
      invoker,
      sts,
      iam,
      log: (line) => logs.push(line),
    });
    try {
      const ok = await signedFetch(staged.url, credentials, { path: "/v1/orders/9" });
      expect(ok.status).toBe(200);
      const { event } = await json(ok);
      expect(event).toMatchObject({
        rawPath: "/v1/orders/9",
        pathParameters: { id: "9" },
        requestContext: { stage: "v1", authorizer: { iam: { cognitoIdentity: null } } },
      });
      expect((await fetch(`${staged.url}/orders/9`)).status).toBe(404);
    } finally {
      await staged.close();
    }
  });
});

describe("JWT routes", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const idToken = (claims: Record<string, unknown> = {}) =>
    signJwt(userPoolKey, {
      sub: "5f0c2a3e-1111-4000-8000-000000000001",
      aud: CLIENT_ID,
      iss: issuer,
      token_use: "id",
      email_verified: true,
      "cognito:groups": ["admin", "crew"],
      auth_time: now(),
      iat: now(),
      exp: now() + 3600,
      ...claims,
    });
  const accessToken = (scope: string, claims: Record<string, unknown> = {}) =>
    signJwt(userPoolKey, {
      sub: "5f0c2a3e-1111-4000-8000-000000000001",
      client_id: CLIENT_ID,
      iss: issuer,
      token_use: "access",
      scope,
      iat: now(),
      exp: now() + 3600,
      ...claims,
    });
  const call = (path: string, token?: string) =>
    fetch(`${api.url}${path}`, { headers: token ? { authorization: token } : {} });

  it("accepts a valid ID token and passes its claims as strings", async () => {
    const response = await call("/profile", idToken());
    expect(response.status).toBe(200);
    const { event } = await json(response);
    expect(event.requestContext.authorizer.jwt).toEqual({
      claims: expect.objectContaining({
        sub: "5f0c2a3e-1111-4000-8000-000000000001",
        aud: CLIENT_ID,
        email_verified: "true",
        "cognito:groups": "[admin crew]",
        exp: expect.stringMatching(/^\d+$/),
      }),
      scopes: null,
    });
  });

  it("accepts an access token by client_id, with or without Bearer", async () => {
    const token = accessToken("aws.cognito.signin.user.admin");
    expect((await call("/profile", token)).status).toBe(200);
    const bearer = await call("/profile", `Bearer ${token}`);
    expect(bearer.status).toBe(200);
    expect((await json(bearer)).event.requestContext.authorizer.jwt.scopes).toEqual([
      "aws.cognito.signin.user.admin",
    ]);
  });

  it("answers 401 Unauthorized for a missing, expired, foreign-audience or foreign-issuer token", async () => {
    const unauthorized = { message: "Unauthorized" };
    for (const token of [
      undefined,
      "not-a-jwt",
      idToken({ exp: now() - 10, iat: now() - 3700 }),
      idToken({ aud: "some-other-client" }),
      idToken({ iss: `${issuer}x` }),
      idToken({ nbf: now() + 600 }),
      `${idToken().slice(0, -4)}AAAA`,
      signJwt(generateSigningKey("pool-key-1"), {
        iss: issuer,
        aud: CLIENT_ID,
        exp: now() + 60,
        sub: "x",
      }),
    ]) {
      const response = await call("/profile", token);
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual(unauthorized);
    }
  });

  it("never fetches keys from a non-loopback issuer", async () => {
    const response = await call("/aws-issuer", idToken({ iss: AWS_ISSUER }));
    expect(response.status).toBe(401);
    expect(logs.some((l) => l.includes("JWKS URL is not on loopback"))).toBe(true);
  });

  it("checks the route's scopes: 403 without one of them", async () => {
    const without = await call("/scoped", accessToken("aws.cognito.signin.user.admin"));
    expect(without.status).toBe(403);
    expect(await json(without)).toEqual({ message: "Forbidden" });
    expect((await call("/scoped", idToken())).status).toBe(403);
    const withScope = await call("/scoped", accessToken("openid boarding/read"));
    expect(withScope.status).toBe(200);
  });
});

describe("integration timeout and unmatched routes", () => {
  it("answers 503 past the integration timeout and 404 without a route", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = invoker.register(
      "slow",
      async () => {
        await gate;
        return { statusCode: 200, body: "late" };
      },
      60_000,
    );
    const small = await startHttpApi({
      region: REGION,
      accountId: ACCOUNT,
      apiId: "slowapi001",
      routes: [
        {
          routeKey: "GET /slow",
          functionArn: slow,
          payloadFormatVersion: "2.0",
          authorizationType: "NONE",
        },
      ],
      invoker,
      sts,
      iam,
      integrationTimeoutMs: 50,
      log: (line) => logs.push(line),
    });
    try {
      const response = await fetch(`${small.url}/slow`);
      expect(response.status).toBe(503);
      expect(await json(response)).toEqual({ message: "Service Unavailable" });
      const missing = await fetch(`${small.url}/fast`);
      expect(missing.status).toBe(404);
      expect(await json(missing)).toEqual({ message: "Not Found" });
    } finally {
      release();
      await small.close();
    }
  });
});
