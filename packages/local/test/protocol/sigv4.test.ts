/**
 * The SigV4 verifier against AWS's own signer (@smithy/signature-v4, what every AWS SDK for
 * JavaScript signs with), as an attacker would probe it: each test signs a real request, changes
 * one thing, and expects the refusal that names it. No network: requests are values.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import {
  type SigningCredentials,
  type SigV4Request,
  type SigV4Rules,
  uriEncode,
  verifySigV4,
} from "../../src/protocol/sigv4";

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const REGION = "us-east-1";
const HOST = "abc123.execute-api.localhost:4566";

interface TestCredentials extends SigningCredentials {
  accessKeyId: string;
}

const credentials: TestCredentials = {
  accessKeyId: "ASIAQXLOCALTESTKEY01",
  secretAccessKey: randomBytes(30).toString("base64"),
  sessionToken: `IQoJ${randomBytes(120).toString("base64")}`,
  expiration: new Date(NOW + 3600_000).toISOString(),
};

/** What the signer hands a hash (`SourceData` in @smithy/types). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === "string" || ArrayBuffer.isView(data)
    ? typeof data === "string"
      ? data
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);

/** The Hash the SDK signer asks for, from Node's crypto (HMAC when given a secret). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

function signer(
  service: string,
  options: { region?: string; secret?: string; sessionToken?: string | null } = {},
) {
  return new SignatureV4({
    service,
    region: options.region ?? REGION,
    sha256: NodeSha256,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: options.secret ?? credentials.secretAccessKey,
      ...(options.sessionToken === null
        ? {}
        : { sessionToken: options.sessionToken ?? credentials.sessionToken }),
    },
  });
}

interface Unsigned {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

function httpRequest(unsigned: Unsigned) {
  return {
    method: unsigned.method ?? "GET",
    protocol: "http:",
    hostname: HOST.split(":")[0]!,
    port: 4566,
    path: unsigned.path ?? "/prod/identity/me",
    query: unsigned.query ?? {},
    headers: { host: HOST, ...unsigned.headers },
    body: unsigned.body,
  };
}

/** The query as a client puts it on the wire: names and values percent-encoded, in order. */
function wireQuery(query: Record<string, string | string[] | null>): string {
  return Object.entries(query)
    .flatMap(([name, value]) =>
      [value ?? ""].flat().map((v) => `${uriEncode(name)}=${uriEncode(v)}`),
    )
    .join("&");
}

function asReceived(signed: {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  headers: Record<string, string>;
  body?: unknown;
}): SigV4Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: wireQuery((signed.query ?? {}) as Record<string, string | string[]>),
    headers,
    ...(signed.body === undefined ? {} : { body: Buffer.from(signed.body as string) }),
  };
}

async function signed(
  unsigned: Unsigned = {},
  options: Parameters<typeof signer>[1] & { at?: number; service?: string } = {},
) {
  const request = await signer(options.service ?? "execute-api", options).sign(
    httpRequest(unsigned),
    {
      signingDate: new Date(options.at ?? NOW),
    },
  );
  return asReceived(request as Parameters<typeof asReceived>[0]);
}

async function presigned(
  unsigned: Unsigned = {},
  options: Parameters<typeof signer>[1] & {
    at?: number;
    expiresIn?: number;
    service?: string;
  } = {},
) {
  const request = await signer(options.service ?? "execute-api", options).presign(
    httpRequest(unsigned),
    {
      signingDate: new Date(options.at ?? NOW),
      expiresIn: options.expiresIn ?? 300,
    },
  );
  return asReceived(request as Parameters<typeof asReceived>[0]);
}

const AMZ_NOW = new Date(NOW)
  .toISOString()
  .replace(/[-:]/g, "")
  .replace(/\.\d{3}Z$/, "Z");
const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/**
 * A signature over a canonical request the test writes out by hand (for shapes the SDK never
 * produces): the string to sign by the documented recipe, the key and HMAC by the SDK.
 */
async function handSigned(canonical: string, service: string): Promise<string> {
  const scope = `${AMZ_NOW.slice(0, 8)}/${REGION}/${service}/aws4_request`;
  const hashed = createHash("sha256").update(canonical).digest("hex");
  return signer(service).sign(["AWS4-HMAC-SHA256", AMZ_NOW, scope, hashed].join("\n"), {
    signingDate: new Date(NOW),
  });
}

/** API Gateway's rules. */
function apiGateway(
  overrides: Partial<SigV4Rules<TestCredentials>> = {},
): SigV4Rules<TestCredentials> {
  return {
    service: "execute-api",
    region: REGION,
    nowMs: NOW,
    lookupCredentials: (id) => (id === credentials.accessKeyId ? credentials : undefined),
    placements: ["header", "query"],
    presignedExpires: "required",
    unsignedPayload: false,
    tokenAppendedAfterSigning: false,
    ...overrides,
  };
}

/** AWS IoT's device gateway rules. */
function iot(overrides: Partial<SigV4Rules<TestCredentials>> = {}): SigV4Rules<TestCredentials> {
  return apiGateway({
    service: "iotdevicegateway",
    placements: ["query"],
    presignedExpires: "optional",
    unsignedPayload: true,
    tokenAppendedAfterSigning: true,
    ...overrides,
  });
}

const failureOf = (request: SigV4Request, rules: SigV4Rules<TestCredentials>) => {
  const verdict = verifySigV4(request, rules);
  return verdict.ok ? "accepted" : verdict.failure.reason;
};

function withQuery(request: SigV4Request, rawQuery: string): SigV4Request {
  return { ...request, rawQuery };
}

describe("requests the AWS SDK signs are accepted", () => {
  it("in the Authorization header, with and without a body", async () => {
    expect(verifySigV4(await signed(), apiGateway())).toEqual({ ok: true, credentials });
    const post = await signed({
      method: "POST",
      path: "/prod/identity/guest-proof",
      headers: { "content-type": "application/json" },
      body: '{"proof":"x"}',
    });
    expect(failureOf(post, apiGateway())).toBe("accepted");
  });

  it("in a presigned query, the token signed with the rest", async () => {
    expect(failureOf(await presigned(), apiGateway())).toBe("accepted");
    expect(
      failureOf(await presigned({ path: "/mqtt" }, { service: "iotdevicegateway" }), iot()),
    ).toBe("accepted");
  });

  it("with repeated, reserved and non-ASCII query values, encoded as the SDK sorts them", async () => {
    const request = await signed({
      query: { tag: ["b", "a", "a b"], "name*": "x(y)!'", city: "Zürich", empty: "" },
    });
    expect(failureOf(request, apiGateway())).toBe("accepted");
  });

  it("with a percent-encoded path, encoded once more as for every service but S3", async () => {
    const request = await signed({ path: "/prod/identity/us-east-1%3Aabc%20def" });
    expect(failureOf(request, apiGateway())).toBe("accepted");
  });
});

describe("forgeries are refused", () => {
  it("a made-up signature, and one not in lower-case hex", async () => {
    const request = await signed();
    const forged = request.headers
      .authorization!.toString()
      .replace(/Signature=[0-9a-f]+/, `Signature=${"0".repeat(64)}`);
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, authorization: forged } },
        apiGateway(),
      ),
    ).toBe("mismatch");
    const upper = request.headers
      .authorization!.toString()
      .replace(/Signature=([0-9a-f]+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`);
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, authorization: upper } },
        apiGateway(),
      ),
    ).toBe("signature-format");
  });

  it("a signature made with the wrong secret", async () => {
    const request = await signed({}, { secret: "not-the-secret" });
    expect(failureOf(request, apiGateway())).toBe("mismatch");
    expect(failureOf(await presigned({}, { secret: "not-the-secret" }), apiGateway())).toBe(
      "mismatch",
    );
  });

  it("a scope naming another region or service (even when correctly signed for it)", async () => {
    expect(verifySigV4(await signed({}, { region: "eu-west-1" }), apiGateway())).toEqual({
      ok: false,
      failure: { reason: "region", region: "eu-west-1" },
    });
    expect(verifySigV4(await signed({}, { service: "sts" }), apiGateway())).toEqual({
      ok: false,
      failure: { reason: "service", service: "sts" },
    });
    expect(failureOf(await presigned({}, { service: "execute-api" }), iot())).toBe("service");
  });

  it("a scope date that is not the signing date", async () => {
    const request = await signed();
    const day = request.headers["x-amz-date"]!.toString().slice(0, 8);
    const authorization = request.headers
      .authorization!.toString()
      .replace(`/${day}/`, "/20250101/");
    expect(
      failureOf({ ...request, headers: { ...request.headers, authorization } }, apiGateway()),
    ).toBe("scope-date");
  });

  it("a signed header changed after signing, a signed header removed, an unsigned host", async () => {
    const request = await signed({ headers: { "x-app-tenant": "acme" } });
    expect(failureOf(request, apiGateway())).toBe("accepted");
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, "x-app-tenant": "evil" } },
        apiGateway(),
      ),
    ).toBe("mismatch");
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, host: "attacker.example" } },
        apiGateway(),
      ),
    ).toBe("mismatch");
    const { "x-app-tenant": _removed, ...rest } = request.headers;
    expect(verifySigV4({ ...request, headers: rest }, apiGateway())).toEqual({
      ok: false,
      failure: { reason: "header-absent", name: "x-app-tenant" },
    });
    const authorization = request.headers
      .authorization!.toString()
      .replace(/SignedHeaders=host;/, "SignedHeaders=");
    expect(
      failureOf({ ...request, headers: { ...request.headers, authorization } }, apiGateway()),
    ).toBe("host-unsigned");
  });

  it("a query parameter added, changed or removed after signing", async () => {
    const request = await signed({ query: { page: "1" } });
    expect(failureOf(withQuery(request, "page=1&admin=true"), apiGateway())).toBe("mismatch");
    expect(failureOf(withQuery(request, "page=2"), apiGateway())).toBe("mismatch");
    expect(failureOf(withQuery(request, ""), apiGateway())).toBe("mismatch");
    const url = await presigned();
    expect(failureOf(withQuery(url, `${url.rawQuery}&admin=true`), apiGateway())).toBe("mismatch");
  });

  it("another method or path than the one signed", async () => {
    const request = await signed();
    expect(failureOf({ ...request, method: "DELETE" }, apiGateway())).toBe("mismatch");
    expect(failureOf({ ...request, rawPath: "/prod/admin/users" }, apiGateway())).toBe("mismatch");
  });

  it("a body that is not the one whose hash was signed", async () => {
    const request = await signed({ method: "POST", body: '{"amount":1}' });
    expect(failureOf({ ...request, body: Buffer.from('{"amount":1000}') }, apiGateway())).toBe(
      "payload-hash",
    );
    // The declared hash is itself a signed header: dropping it does not unbind the body.
    const { "x-amz-content-sha256": _declared, ...undeclared } = request.headers;
    expect(verifySigV4({ ...request, headers: undeclared }, apiGateway())).toEqual({
      ok: false,
      failure: { reason: "header-absent", name: "x-amz-content-sha256" },
    });
  });

  it("keys the local STS did not issue, tokens that are not the session's, expired credentials", async () => {
    expect(verifySigV4(await signed(), apiGateway({ lookupCredentials: () => undefined }))).toEqual(
      {
        ok: false,
        failure: { reason: "unknown-key", accessKeyId: credentials.accessKeyId },
      },
    );
    expect(failureOf(await signed({}, { sessionToken: null }), apiGateway())).toBe("token");
    expect(
      failureOf(await signed({}, { sessionToken: `${credentials.sessionToken}x` }), apiGateway()),
    ).toBe("token");
    const expired = { ...credentials, expiration: new Date(NOW - 1000).toISOString() };
    expect(failureOf(await signed(), apiGateway({ lookupCredentials: () => expired }))).toBe(
      "credentials-expired",
    );
  });

  it("another algorithm, and an Authorization header missing its parts", async () => {
    const request = await signed();
    const authorization = request.headers.authorization!.toString();
    const other = authorization.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, authorization: other } },
        apiGateway(),
      ),
    ).toBe("algorithm");
    const noSignature = authorization.replace(/, Signature=[0-9a-f]+/, "");
    const { "x-amz-date": _date, ...undated } = request.headers;
    expect(
      verifySigV4(
        { ...request, headers: { ...undated, authorization: noSignature } },
        apiGateway(),
      ),
    ).toEqual({
      ok: false,
      failure: { reason: "incomplete", placement: "header", missing: ["Signature", "X-Amz-Date"] },
    });
    expect(failureOf({ ...request, headers: { host: HOST } }, apiGateway())).toBe("unsigned");
  });
});

describe("time", () => {
  it("a header signature more than 15 minutes old or ahead is refused; within that, accepted", async () => {
    const minute = 60_000;
    expect(failureOf(await signed({}, { at: NOW - 14 * minute }), apiGateway())).toBe("accepted");
    expect(failureOf(await signed({}, { at: NOW + 14 * minute }), apiGateway())).toBe("accepted");
    expect(verifySigV4(await signed({}, { at: NOW - 16 * minute }), apiGateway())).toMatchObject({
      failure: { reason: "expired", window: "skew", seconds: 900 },
    });
    expect(verifySigV4(await signed({}, { at: NOW + 16 * minute }), apiGateway())).toMatchObject({
      failure: { reason: "not-yet-valid", placement: "header" },
    });
  });

  it("a presigned URL past its X-Amz-Expires, or dated beyond the skew, is refused", async () => {
    const expired = await presigned({}, { at: NOW - 301_000, expiresIn: 300 });
    expect(verifySigV4(expired, apiGateway())).toMatchObject({
      failure: { reason: "expired", window: "expires", seconds: 300 },
    });
    expect(
      failureOf(await presigned({}, { at: NOW - 299_000, expiresIn: 300 }), apiGateway()),
    ).toBe("accepted");
    expect(failureOf(await presigned({}, { at: NOW + 16 * 60_000 }), apiGateway())).toBe(
      "not-yet-valid",
    );
  });

  it("X-Amz-Expires beyond seven days, or rewritten after signing, is refused", async () => {
    const url = await presigned({}, { expiresIn: 300 });
    expect(
      failureOf(
        withQuery(url, url.rawQuery.replace("X-Amz-Expires=300", "X-Amz-Expires=604801")),
        apiGateway(),
      ),
    ).toBe("expires");
    expect(
      failureOf(
        withQuery(url, url.rawQuery.replace("X-Amz-Expires=300", "X-Amz-Expires=3600")),
        apiGateway(),
      ),
    ).toBe("mismatch");
  });

  it("without X-Amz-Expires: refused where the service requires it (API Gateway), else the skew applies (AWS IoT)", async () => {
    const url = await presigned(
      { path: "/mqtt" },
      { service: "iotdevicegateway", at: NOW - 10 * 60_000 },
    );
    const withoutExpires = withQuery(url, url.rawQuery.replace(/&?X-Amz-Expires=\d+/, ""));
    // Removing a signed parameter breaks the signature; the time rules are checked first.
    expect(failureOf(withoutExpires, iot())).toBe("mismatch");
    expect(failureOf(withoutExpires, iot({ nowMs: NOW + 6 * 60_000 }))).toBe("expired");
    expect(
      failureOf(withoutExpires, {
        ...iot(),
        service: "iotdevicegateway",
        presignedExpires: "required",
      }),
    ).toBe("expires");
  });
});

describe("AWS IoT's presigned upgrade", () => {
  it("accepts the token appended after signing, only where the service allows it", async () => {
    const url = await presigned(
      { path: "/mqtt" },
      { service: "iotdevicegateway", sessionToken: null },
    );
    const appended = withQuery(
      url,
      `${url.rawQuery}&X-Amz-Security-Token=${uriEncode(credentials.sessionToken)}`,
    );
    expect(failureOf(appended, iot())).toBe("accepted");
    expect(failureOf(appended, iot({ tokenAppendedAfterSigning: false }))).toBe("mismatch");
  });

  it("refuses a repeated X-Amz-* parameter rather than guessing which one counts", async () => {
    const url = await presigned({ path: "/mqtt" }, { service: "iotdevicegateway" });
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url.rawQuery)![1]!;
    expect(
      verifySigV4(withQuery(url, `${url.rawQuery}&X-Amz-Signature=${signature}`), iot()),
    ).toEqual({
      ok: false,
      failure: { reason: "incomplete", placement: "query", missing: ["X-Amz-Signature"] },
    });
    // API Gateway took the first one before; the same rule now holds there.
    const api = await presigned();
    expect(
      failureOf(withQuery(api, `${api.rawQuery}&X-Amz-Signature=${"0".repeat(64)}`), apiGateway()),
    ).toBe("incomplete");
  });

  it("ignores an Authorization header where only presigned URLs are taken", async () => {
    const header = await signed({ path: "/mqtt" }, { service: "iotdevicegateway" });
    expect(failureOf(header, iot())).toBe("unsigned");
  });
});

/*
 * Where API Gateway's and AWS IoT's verifiers differed, the rule kept is the AWS SDK signer's
 * ("Create a canonical request", https://docs.aws.amazon.com/IAM/latest/UserGuide/
 * create-signed-request.html); these pin each.
 */
describe("rules pinned where the two former verifiers differed", () => {
  it("headers are canonicalized in the order SignedHeaders lists them (API Gateway's rule; IoT's sorted the lines but not the list)", async () => {
    const headers = {
      host: HOST,
      "x-amz-date": AMZ_NOW,
      "x-amz-security-token": credentials.sessionToken,
    };
    const listed = ["x-amz-date", "host", "x-amz-security-token"];
    const canonical = [
      "GET",
      "/prod/identity/me",
      "",
      ...listed.map((name) => `${name}:${headers[name as keyof typeof headers]}`),
      "",
      listed.join(";"),
      EMPTY_SHA256,
    ].join("\n");
    const signature = await handSigned(canonical, "execute-api");
    const request: SigV4Request = {
      method: "GET",
      rawPath: "/prod/identity/me",
      rawQuery: "",
      headers: {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${AMZ_NOW.slice(0, 8)}/${REGION}/execute-api/aws4_request, SignedHeaders=${listed.join(";")}, Signature=${signature}`,
      },
    };
    expect(failureOf(request, apiGateway())).toBe("accepted");
  });

  it("AWS IoT's documented URL (no X-Amz-Expires, token appended unsigned) holds for the skew, then not", async () => {
    const query = [
      ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
      [
        "X-Amz-Credential",
        `${credentials.accessKeyId}/${AMZ_NOW.slice(0, 8)}/${REGION}/iotdevicegateway/aws4_request`,
      ],
      ["X-Amz-Date", AMZ_NOW],
      ["X-Amz-SignedHeaders", "host"],
    ]
      .map(([name, value]) => `${uriEncode(name!)}=${uriEncode(value!)}`)
      .join("&");
    const canonical = ["GET", "/mqtt", query, `host:${HOST}`, "", "host", EMPTY_SHA256].join("\n");
    const signature = await handSigned(canonical, "iotdevicegateway");
    const url: SigV4Request = {
      method: "GET",
      rawPath: "/mqtt",
      rawQuery: `${query}&X-Amz-Signature=${signature}&X-Amz-Security-Token=${uriEncode(credentials.sessionToken)}`,
      headers: { host: HOST },
    };
    expect(failureOf(url, iot({ nowMs: NOW + 14 * 60_000 }))).toBe("accepted");
    expect(failureOf(url, iot({ nowMs: NOW + 16 * 60_000 }))).toBe("expired");
    expect(failureOf(url, apiGateway({ service: "iotdevicegateway" }))).toBe("expires");
  });

  it("path segments are normalized (`.`, `..`, empty) before encoding (API Gateway's rule; IoT's did not)", async () => {
    const request = await signed({ path: "/prod/./identity//x/../me" });
    expect(failureOf(request, apiGateway())).toBe("accepted");
    expect(failureOf({ ...request, rawPath: "/prod/identity/me" }, apiGateway())).toBe("accepted");
    expect(failureOf({ ...request, rawPath: "/prod/identity/x" }, apiGateway())).toBe("mismatch");
  });

  it("only spaces and tabs collapse in header values, as the SDK does (API Gateway's rule; IoT's collapsed all whitespace)", async () => {
    const request = await signed({ headers: { "x-app-note": "a \t  b\u00a0\u00a0c" } });
    expect(failureOf(request, apiGateway())).toBe("accepted");
    expect(
      failureOf(
        { ...request, headers: { ...request.headers, "x-app-note": "a b c" } },
        apiGateway(),
      ),
    ).toBe("mismatch");
  });

  it("empty `&&` parts of the query carry no parameter (IoT's rule; API Gateway's signed an empty pair)", async () => {
    const request = await signed({ query: { a: "1", b: "2" } });
    expect(failureOf(withQuery(request, "a=1&&b=2&"), apiGateway())).toBe("accepted");
  });

  it("a query that is not valid percent-encoding is refused (IoT's rule; API Gateway's kept it raw)", async () => {
    const request = await signed({ query: { a: "1" } });
    expect(failureOf(withQuery(request, "a=1&bad=%E0%A4%A"), apiGateway())).toBe("malformed-query");
  });

  it("`x-amz-content-sha256` is honoured in either placement: UNSIGNED-PAYLOAD only where the service allows it", async () => {
    const request = await signed({
      method: "PUT",
      body: "data",
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    expect(failureOf(request, apiGateway())).toBe("payload-hash");
    expect(failureOf(request, apiGateway({ unsignedPayload: true }))).toBe("accepted");
  });
});
