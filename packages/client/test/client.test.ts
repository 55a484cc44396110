/**
 * The client module against a loopback HTTP server: SigV4 signatures checked by an independent
 * verifier (node:crypto, the algorithm as AWS documents it), identity-change detection, the link
 * route's answers, and GetOpenIdToken through the real SDK client against a fake endpoint.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AccountDeletionError,
  backendGuestProofSource,
  cognitoGuestProofSource,
  deleteAccount,
  detectIdentityChange,
  GuestLinkClient,
  type GuestProof,
  LinkRequestError,
  ReauthenticationRequiredError,
  signRequest,
} from "../src/index";

const REGION = "us-east-1";
const CREDENTIALS = {
  accessKeyId: "ASIAEXAMPLEEXAMPLE12",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE",
};
const GUEST = "us-east-1:0f6d9b4e-1111-4222-8333-444455556666";
const SURVIVOR = "us-east-1:a1b2c3d4-1111-4222-8333-444455556666";

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) =>
  createHmac("sha256", key).update(data).digest();

/** Independent SigV4 check of a received request (single-valued headers, no query). */
function verifySigV4(req: IncomingMessage, body: string, secret: string): boolean {
  const auth = String(req.headers.authorization ?? "");
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) return false;
  const [, , date, region, service, signedHeaders, signature] = match;
  const names = signedHeaders!.split(";");
  const canonicalHeaders = names
    .map((name) => `${name}:${String(req.headers[name] ?? "").trim()}\n`)
    .join("");
  const url = new URL(req.url ?? "/", "http://local");
  const canonicalRequest = [
    req.method,
    url.pathname,
    "",
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join("\n");
  const amzDate = String(req.headers["x-amz-date"]);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${secret}`, date!);
  for (const part of [region!, service!, "aws4_request"]) key = hmac(key, part);
  return createHmac("sha256", key).update(stringToSign).digest("hex") === signature;
}

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  signatureValid: boolean;
}

let server: Server;
let baseUrl: string;
let received: Received[] = [];
let respond: (request: Received) => { status: number; body: unknown } = () => ({
  status: 200,
  body: {},
});

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const request: Received = {
      method: req.method ?? "",
      path: new URL(req.url ?? "/", "http://local").pathname,
      headers: req.headers,
      body,
      signatureValid: verifySigV4(req, body, CREDENTIALS.secretAccessKey),
    };
    received.push(request);
    const answer = respond(request);
    res
      .writeHead(answer.status, { "content-type": "application/json" })
      .end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received = [];
});

/** An unsigned JWT-shaped token: the client never verifies, only reads `exp`. */
function fakeToken(sub: string, expSeconds: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: "k" })}.${part({ sub, exp: expSeconds, amr: ["unauthenticated"] })}.c2ln`;
}

const proofSource = (expSeconds = Math.floor(Date.now() / 1000) + 600) => ({
  getGuestProof: async (identityId: string): Promise<GuestProof> => ({
    identityId,
    token: fakeToken(identityId, expSeconds),
    expiresAt: expSeconds * 1000,
  }),
});

describe("signRequest", () => {
  it("produces a SigV4 execute-api signature that an independent verifier accepts", async () => {
    // Prepare
    respond = () => ({ status: 200, body: { ok: true } });
    const signed = await signRequest({
      url: `${baseUrl}/identity/link`,
      method: "POST",
      body: { guestProof: "a.b.c" },
      region: REGION,
      credentials: CREDENTIALS,
    });
    const { host: _host, ...headers } = signed.headers;

    // Act
    await fetch(signed.url, { method: "POST", headers, body: signed.body! });

    // Assess
    expect(received).toHaveLength(1);
    expect(received[0]!.signatureValid).toBe(true);
    expect(received[0]!.headers.authorization).toMatch(
      new RegExp(`Credential=${CREDENTIALS.accessKeyId}/\\d{8}/${REGION}/execute-api/aws4_request`),
    );
    expect(received[0]!.headers["x-amz-security-token"]).toBe(CREDENTIALS.sessionToken);
  });

  it("is detected as tampered when the body changes after signing", async () => {
    const signed = await signRequest({
      url: `${baseUrl}/identity/link`,
      method: "POST",
      body: { guestProof: "a.b.c" },
      region: REGION,
      credentials: CREDENTIALS,
    });
    const { host: _host, ...headers } = signed.headers;
    await fetch(signed.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ guestProof: "x.y.z" }),
    });
    expect(received[0]!.signatureValid).toBe(false);
  });
});

describe("detectIdentityChange", () => {
  it("tells a link (same id) from a merge (Cognito returned another id)", () => {
    expect(detectIdentityChange(GUEST, GUEST)).toBe("unchanged");
    expect(detectIdentityChange(GUEST, SURVIVOR)).toBe("changed");
  });
});

describe("GuestLinkClient", () => {
  it("reports a merge when the identity id changed, after a signed call carrying the proof", async () => {
    // Prepare
    respond = () => ({
      status: 200,
      body: { outcome: "merged", identityId: SURVIVOR, guestIdentityId: GUEST, alreadyDone: false },
    });
    const client = new GuestLinkClient({ apiUrl: baseUrl, region: REGION, proofs: proofSource() });
    await client.beforeSignIn(GUEST);

    // Act
    const report = await client.afterSignIn({ identityId: SURVIVOR, credentials: CREDENTIALS });

    // Assess
    expect(report).toEqual({
      outcome: "merged",
      identityId: SURVIVOR,
      guestIdentityId: GUEST,
      change: "changed",
      alreadyDone: false,
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: "POST",
      path: "/identity/link",
      signatureValid: true,
    });
    expect(JSON.parse(received[0]!.body)).toMatchObject({ guestIdentityId: GUEST });
    // The proof is used once, then forgotten.
    expect(await client.afterSignIn({ identityId: SURVIVOR, credentials: CREDENTIALS })).toEqual({
      outcome: "no-guest",
    });
  });

  it("reports a link when the identity id stayed the same", async () => {
    respond = () => ({
      status: 200,
      body: { outcome: "linked", identityId: GUEST, guestIdentityId: GUEST, alreadyDone: false },
    });
    const client = new GuestLinkClient({
      apiUrl: `${baseUrl}/`,
      region: REGION,
      proofs: proofSource(),
    });
    await client.beforeSignIn(GUEST);
    const report = await client.afterSignIn({ identityId: GUEST, credentials: CREDENTIALS });
    expect(report).toMatchObject({ outcome: "linked", change: "unchanged" });
  });

  it("does not call the route without a guest, or with a proof about to expire", async () => {
    const none = new GuestLinkClient({ apiUrl: baseUrl, region: REGION, proofs: proofSource() });
    expect(await none.afterSignIn({ identityId: GUEST, credentials: CREDENTIALS })).toEqual({
      outcome: "no-guest",
    });
    const stale = new GuestLinkClient({
      apiUrl: baseUrl,
      region: REGION,
      proofs: proofSource(Math.floor(Date.now() / 1000) + 2),
    });
    await stale.beforeSignIn(GUEST);
    expect(await stale.afterSignIn({ identityId: SURVIVOR, credentials: CREDENTIALS })).toEqual({
      outcome: "proof-expired",
      guestIdentityId: GUEST,
    });
    expect(received).toHaveLength(0);
  });

  it("surfaces the route's refusal with its reason, and keeps the proof for a retry", async () => {
    respond = () => ({
      status: 403,
      body: { error: "GuestProofRejected", reason: "foreign-audience", message: "other pool" },
    });
    const client = new GuestLinkClient({ apiUrl: baseUrl, region: REGION, proofs: proofSource() });
    await client.beforeSignIn(GUEST);
    const error = await client
      .afterSignIn({ identityId: SURVIVOR, credentials: CREDENTIALS })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkRequestError);
    expect(error).toMatchObject({
      status: 403,
      error: "GuestProofRejected",
      reason: "foreign-audience",
    });
  });
});

describe("cognitoGuestProofSource", () => {
  it("calls GetOpenIdToken (unsigned, JSON 1.1) for the guest and keeps the token's expiry", async () => {
    // Prepare
    const exp = Math.floor(Date.now() / 1000) + 600;
    respond = (request) => {
      const { IdentityId } = JSON.parse(request.body) as { IdentityId: string };
      return { status: 200, body: { IdentityId, Token: fakeToken(IdentityId, exp) } };
    };
    const source = cognitoGuestProofSource({ region: REGION, endpoint: baseUrl });

    // Act
    const proof = await source.getGuestProof(GUEST);

    // Assess
    expect(proof).toMatchObject({ identityId: GUEST, expiresAt: exp * 1000 });
    expect(received[0]!.headers["x-amz-target"]).toBe("AWSCognitoIdentityService.GetOpenIdToken");
    expect(received[0]!.headers.authorization).toBeUndefined();
  });
});

describe("backendGuestProofSource", () => {
  it("asks the backend for a proof with a request signed by the guest's credentials", async () => {
    // Prepare
    const exp = Math.floor(Date.now() / 1000) + 600;
    respond = () => ({
      status: 200,
      body: { guestProof: fakeToken(GUEST, exp), guestIdentityId: GUEST, expiresAt: "" },
    });
    const source = backendGuestProofSource({
      apiUrl: baseUrl,
      region: REGION,
      credentials: async () => CREDENTIALS,
    });

    // Act
    const proof = await source.getGuestProof(GUEST);

    // Assess
    expect(proof).toMatchObject({ identityId: GUEST, expiresAt: exp * 1000 });
    expect(received[0]).toMatchObject({
      method: "POST",
      path: "/identity/guest-proof",
      signatureValid: true,
    });
  });

  it("refuses a proof for another identity than the guest it was asked for", async () => {
    respond = () => ({
      status: 200,
      body: {
        guestProof: fakeToken(SURVIVOR, Math.floor(Date.now() / 1000) + 600),
        guestIdentityId: SURVIVOR,
      },
    });
    const source = backendGuestProofSource({
      apiUrl: baseUrl,
      region: REGION,
      credentials: async () => CREDENTIALS,
    });
    await expect(source.getGuestProof(GUEST)).rejects.toThrow(/another identity/);
  });
});

describe("deleteAccount", () => {
  it("calls DELETE /identity/me with the access token and reports what was released", async () => {
    respond = () => ({
      status: 200,
      body: {
        sub: "0f6d9b4e-aaaa-4bbb-8ccc-444455556666",
        outcome: "deleted",
        released: [{ identityId: SURVIVOR, policies: ["app-identity"] }],
        event: { id: "evt", published: true },
      },
    });
    const result = await deleteAccount({ apiUrl: `${baseUrl}/`, accessToken: "access.jwt.token" });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: "DELETE", path: "/identity/me" });
    expect(received[0]!.headers.authorization).toBe("Bearer access.jwt.token");
    expect(result).toEqual({
      sub: "0f6d9b4e-aaaa-4bbb-8ccc-444455556666",
      outcome: "deleted",
      released: [{ identityId: SURVIVOR, policies: ["app-identity"] }],
    });
  });

  it("surfaces API Gateway's and the route's refusals with their status", async () => {
    respond = () => ({ status: 401, body: { message: "Unauthorized" } });
    const unauthorized = await deleteAccount({ apiUrl: baseUrl, accessToken: "x" }).catch(
      (e: unknown) => e,
    );
    expect(unauthorized).toBeInstanceOf(AccountDeletionError);
    expect(unauthorized).toMatchObject({ status: 401, error: "Unauthorized" });
    respond = () => ({
      status: 403,
      body: { error: "Forbidden", message: "Delete your account with your access token." },
    });
    const idToken = await deleteAccount({ apiUrl: baseUrl, accessToken: "id" }).catch(
      (e: unknown) => e,
    );
    expect(idToken).toMatchObject({
      status: 403,
      error: "Forbidden",
      message: "Delete your account with your access token.",
    });
    expect(idToken).not.toBeInstanceOf(ReauthenticationRequiredError);
  });

  it.each([
    ["session-revoked", undefined],
    ["session-too-old", 900],
  ] as const)(
    "surfaces 401 ReauthenticationRequired (%s) as a typed error the app can act on",
    async (reason, maxAgeSeconds) => {
      respond = () => ({
        status: 401,
        body: {
          error: "ReauthenticationRequired",
          reason,
          ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}),
          message: "Sign in again.",
        },
      });
      const refused = await deleteAccount({ apiUrl: baseUrl, accessToken: "old" }).catch(
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(ReauthenticationRequiredError);
      expect(refused).toBeInstanceOf(AccountDeletionError);
      expect(refused).toMatchObject({
        status: 401,
        error: "ReauthenticationRequired",
        reason,
        maxAgeSeconds,
        message: "Sign in again.",
      });
    },
  );
});
