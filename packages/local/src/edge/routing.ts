import { isServiceName, SERVICE_PROTOCOLS, type WireProtocol } from "../protocol/wire";
import type { ServiceName } from "../types";
import { sigV4Scope } from "./sigv4";

/** What the router needs to see of a request; the body only matters for unsigned query calls. */
export interface RoutableRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

interface ServiceRoute {
  service: ServiceName;
  protocol: WireProtocol;
  /** How the route was found, for diagnostics and tests. */
  via: "target" | "sigv4" | "jwks-path" | "query-version";
}

const TARGET_PREFIXES: ReadonlyArray<readonly [prefix: string, service: ServiceName]> = [
  ["DynamoDB_20120810", "dynamodb"],
  ["Kinesis_20131202", "kinesis"],
  ["AWSCognitoIdentityProviderService", "cognito-idp"],
  ["AWSCognitoIdentityService", "cognito-identity"],
  ["TrentService", "kms"],
  ["AmazonSQS", "sqs"],
];

/** Query-protocol API versions of the services that accept unsigned calls. */
const QUERY_VERSIONS: Readonly<Record<string, ServiceName>> = {
  "2011-06-15": "sts", // AssumeRoleWithWebIdentity is unsigned
  "2010-03-31": "sns",
};

/** `/us-east-1_AbCdEf123/.well-known/jwks.json`: user-pool paths served unsigned by cognito-idp. */
const USER_POOL_PATH = /^\/[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+\//;

function route(service: ServiceName, via: ServiceRoute["via"]): ServiceRoute {
  return { service, protocol: SERVICE_PROTOCOLS[service], via };
}

function formVersion(request: RoutableRequest): string | null {
  const fromQuery = request.query.get("Version");
  if (fromQuery) return fromQuery;
  const contentType = request.headers["content-type"] ?? "";
  if (!contentType.startsWith("application/x-www-form-urlencoded")) return null;
  return new URLSearchParams(request.body.toString("utf8")).get("Version");
}

/**
 * Finds the emulated service a request is for, in the order AWS clients make unambiguous:
 * JSON services name themselves in `X-Amz-Target`; signed query and REST calls carry the service
 * in the SigV4 credential scope; unsigned query calls only have their API `Version`.
 */
export function resolveRoute(request: RoutableRequest): ServiceRoute | undefined {
  const target = request.headers["x-amz-target"];
  if (target) {
    const prefix = target.split(".", 1)[0];
    const match = TARGET_PREFIXES.find(([known]) => known === prefix);
    if (match) return route(match[1], "target");
  }

  const scope = sigV4Scope(request.headers, request.query);
  if (scope && isServiceName(scope.service)) return route(scope.service, "sigv4");

  if (request.method === "GET" && USER_POOL_PATH.test(request.path)) {
    return route("cognito-idp", "jwks-path");
  }

  const version = formVersion(request);
  const byVersion = version ? QUERY_VERSIONS[version] : undefined;
  if (byVersion) return route(byVersion, "query-version");

  return undefined;
}

/** Best guess of the protocol of a request nobody routes, so its error is still parseable. */
export function guessProtocol(headers: Record<string, string>): WireProtocol {
  const contentType = headers["content-type"] ?? "";
  return contentType.startsWith("application/x-www-form-urlencoded") ? "query" : "json";
}
