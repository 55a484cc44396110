import { describe, expect, it } from "vitest";
import { type RoutableRequest, resolveRoute } from "../src/edge/routing";
import { scopeFromAuthorization, scopeFromQuery } from "../src/edge/sigv4";

function request(overrides: Partial<RoutableRequest>): RoutableRequest {
  return {
    method: "POST",
    path: "/",
    query: new URLSearchParams(),
    headers: {},
    body: Buffer.alloc(0),
    ...overrides,
  };
}

const signedFor = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`,
});

describe("resolveRoute", () => {
  it.each([
    ["DynamoDB_20120810.GetItem", "dynamodb", "json"],
    ["Kinesis_20131202.PutRecords", "kinesis", "json"],
    ["AWSCognitoIdentityProviderService.InitiateAuth", "cognito-idp", "json"],
    ["AWSCognitoIdentityService.GetId", "cognito-identity", "json"],
  ])("routes X-Amz-Target %s to %s", (target, service, protocol) => {
    // Act
    const route = resolveRoute(request({ headers: { "x-amz-target": target } }));

    // Assess
    expect(route).toEqual({ service, protocol, via: "target" });
  });

  it.each([
    ["sns", "query"],
    ["sts", "query"],
    ["iot", "rest-json"],
    ["execute-api", "rest-json"],
  ])("routes a request signed for %s by its credential scope", (service, protocol) => {
    const route = resolveRoute(request({ headers: signedFor(service) }));

    expect(route).toEqual({ service, protocol, via: "sigv4" });
  });

  it("routes a presigned request by X-Amz-Credential", () => {
    const query = new URLSearchParams({
      "X-Amz-Credential": "AKID/20250101/us-east-1/iot/aws4_request",
    });

    expect(resolveRoute(request({ method: "GET", query }))?.service).toBe("iot");
  });

  it("prefers X-Amz-Target over the credential scope", () => {
    const headers = { ...signedFor("sns"), "x-amz-target": "DynamoDB_20120810.PutItem" };

    expect(resolveRoute(request({ headers }))?.service).toBe("dynamodb");
  });

  it.each([
    ["2011-06-15", "sts"],
    ["2010-03-31", "sns"],
  ])("routes an unsigned form body with Version=%s to %s", (version, service) => {
    const body = Buffer.from(`Action=Anything&Version=${version}`);
    const headers = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };

    expect(resolveRoute(request({ headers, body }))).toEqual({
      service,
      protocol: "query",
      via: "query-version",
    });
  });

  it("routes user-pool JWKS paths to cognito-idp", () => {
    const route = resolveRoute(
      request({ method: "GET", path: "/us-east-1_AbC123xyz/.well-known/jwks.json" }),
    );

    expect(route).toEqual({ service: "cognito-idp", protocol: "json", via: "jwks-path" });
  });

  it.each([
    ["an unknown target", { headers: { "x-amz-target": "AmazonSSM.GetParameter" } }],
    ["a scope of an unemulated service", { headers: signedFor("s3") }],
    ["an unknown query version", { body: Buffer.from("Action=X&Version=2012-11-05") }],
    ["a bare GET", { method: "GET", path: "/" }],
  ])("returns undefined for %s", (_label, overrides) => {
    expect(resolveRoute(request(overrides as Partial<RoutableRequest>))).toBeUndefined();
  });
});

describe("SigV4 scope parsing", () => {
  it("reads access key, date, region and service from the Authorization header", () => {
    expect(scopeFromAuthorization(signedFor("sns").authorization)).toEqual({
      accessKeyId: "AKIDEXAMPLE",
      date: "20250101",
      region: "eu-west-1",
      service: "sns",
    });
  });

  it.each([
    undefined,
    "Bearer token",
    "AWS4-HMAC-SHA256 Credential=AKID/2025/us-east-1/sns/aws4_request",
    "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sns/other_term",
  ])("ignores a malformed header %s", (header) => {
    expect(scopeFromAuthorization(header)).toBeUndefined();
  });

  it("reads a presigned X-Amz-Credential", () => {
    const query = new URLSearchParams({
      "X-Amz-Credential": "AKID/20250101/ap-southeast-2/sts/aws4_request",
    });

    expect(scopeFromQuery(query)?.region).toBe("ap-southeast-2");
  });
});
