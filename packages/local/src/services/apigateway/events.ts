/**
 * The Lambda proxy integration's event (payload format 2.0, and 1.0) and the mapping of the
 * function's result back to HTTP, as HTTP APIs do them.
 */
import { randomBytes } from "node:crypto";
import type { AuthorizerContext } from "./types";

export interface IncomingRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Lower-case names, each with every value in arrival order. */
  headerValues: Record<string, string[]>;
  query: Array<[string, string]>;
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface EventContext {
  accountId: string;
  apiId: string;
  stage: string;
  routeKey: string;
  /** The route key's path (`/identity/{sub}`), v1's `resource`. */
  resourcePath: string;
  pathParameters: Record<string, string> | undefined;
  authorizer: AuthorizerContext;
  requestId: string;
  nowMs: number;
}

export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** A preflight answer already carries its CORS headers. */
  preflight?: boolean;
}

/** API Gateway's request ids look like `JKJaXmPLvHcESHA=` (and go out as `apigw-requestid`). */
export function newRequestId(): string {
  return randomBytes(10).toString("base64");
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `26/Nov/2026:16:00:00 +0000`, the CLF time of `requestContext.time`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Text bodies pass as they are; anything else (form posts included) arrives base64-encoded. */
function encodeBody(request: IncomingRequest): {
  body: string | undefined;
  isBase64Encoded: boolean;
} {
  if (request.body.length === 0) return { body: undefined, isBase64Encoded: false };
  const type = (request.headerValues["content-type"]?.[0] ?? "").toLowerCase();
  const text =
    /^text\//.test(type) ||
    /^application\/(json|xml|javascript|graphql)\b/.test(type) ||
    /\+(json|xml)\b/.test(type);
  return text
    ? { body: request.body.toString("utf8"), isBase64Encoded: false }
    : { body: request.body.toString("base64"), isBase64Encoded: true };
}

function joinedHeaders(request: IncomingRequest, omit?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headerValues)) {
    if (name !== omit) headers[name] = values.join(",");
  }
  return headers;
}

export function eventV2(request: IncomingRequest, context: EventContext): Record<string, unknown> {
  const host = request.headerValues.host?.[0] ?? "";
  const cookies = (request.headerValues.cookie ?? [])
    .flatMap((header) => header.split(";"))
    .map((c) => c.trim())
    .filter(Boolean);
  const query: Record<string, string> = {};
  for (const [key, value] of request.query) {
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: context.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQuery,
  };
  if (cookies.length > 0) event.cookies = cookies;
  // Cookies travel in `cookies`, not as a header.
  event.headers = joinedHeaders(request, "cookie");
  if (request.query.length > 0) event.queryStringParameters = query;
  const requestContext: Record<string, unknown> = {
    accountId: context.accountId,
    apiId: context.apiId,
  };
  if (context.authorizer) requestContext.authorizer = context.authorizer;
  Object.assign(requestContext, {
    domainName: host,
    domainPrefix: host.split(".")[0] ?? host,
    http: {
      method: request.method,
      path: request.rawPath,
      protocol: request.protocol,
      sourceIp: request.sourceIp,
      userAgent: request.headerValues["user-agent"]?.join(",") ?? "",
    },
    requestId: context.requestId,
    routeKey: context.routeKey,
    stage: context.stage,
    time: clfTime(context.nowMs),
    timeEpoch: context.nowMs,
  });
  event.requestContext = requestContext;
  if (context.pathParameters) event.pathParameters = context.pathParameters;
  const { body, isBase64Encoded } = encodeBody(request);
  if (body !== undefined) event.body = body;
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

export function eventV1(request: IncomingRequest, context: EventContext): Record<string, unknown> {
  const host = request.headerValues.host?.[0] ?? "";
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headerValues)) headers[name] = values.at(-1)!;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of request.query) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  const hasQuery = request.query.length > 0;
  const authorizer = context.authorizer;
  const iam = authorizer && "iam" in authorizer ? authorizer.iam : undefined;
  const { body, isBase64Encoded } = encodeBody(request);
  return {
    version: "1.0",
    resource: context.resourcePath,
    path: request.rawPath,
    httpMethod: request.method,
    headers,
    multiValueHeaders: request.headerValues,
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      // v1 carries JWT results as `authorizer`; IAM callers appear under `identity` instead.
      authorizer: authorizer && "jwt" in authorizer ? authorizer.jwt : undefined,
      domainName: host,
      domainPrefix: host.split(".")[0] ?? host,
      extendedRequestId: context.requestId,
      httpMethod: request.method,
      identity: {
        accessKey: iam?.accessKey ?? null,
        accountId: iam?.accountId ?? null,
        caller: iam?.callerId ?? null,
        cognitoAuthenticationProvider: iam?.cognitoIdentity?.amr.slice(1).join(",") || null,
        cognitoAuthenticationType: iam?.cognitoIdentity?.amr[0] ?? null,
        cognitoIdentityId: iam?.cognitoIdentity?.identityId ?? null,
        cognitoIdentityPoolId: iam?.cognitoIdentity?.identityPoolId ?? null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: iam?.userId ?? null,
        userAgent: request.headerValues["user-agent"]?.join(",") ?? "",
        userArn: iam?.userArn ?? null,
      },
      path: request.rawPath,
      protocol: request.protocol,
      requestId: context.requestId,
      requestTime: clfTime(context.nowMs),
      requestTimeEpoch: context.nowMs,
      resourceId: context.routeKey,
      resourcePath: context.resourcePath,
      stage: context.stage,
    },
    pathParameters: context.pathParameters ?? null,
    stageVariables: null,
    body: body ?? null,
    isBase64Encoded,
  };
}

export const INTERNAL_ERROR = "Internal Server Error";

/**
 * Format 2.0: an object with `statusCode` is a response (headers, cookies, body,
 * isBase64Encoded); anything else is a 200 JSON body. Format 1.0 requires `statusCode`.
 */
export function resultFromPayload(payload: unknown, version: "2.0" | "1.0"): HttpResult {
  const isResponse =
    typeof payload === "object" &&
    payload !== null &&
    !Array.isArray(payload) &&
    "statusCode" in payload;
  if (!isResponse) {
    if (version === "1.0") return messageResult(500, INTERNAL_ERROR);
    return {
      status: 200,
      headers: [["content-type", "application/json"]],
      body: Buffer.from(JSON.stringify(payload ?? null)),
    };
  }
  const response = payload as {
    statusCode: unknown;
    headers?: unknown;
    multiValueHeaders?: unknown;
    cookies?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const status = Number(response.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599)
    return messageResult(500, INTERNAL_ERROR);
  const headers: Array<[string, string]> = [];
  if (response.headers && typeof response.headers === "object") {
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && value !== null) headers.push([name.toLowerCase(), String(value)]);
    }
  }
  if (response.multiValueHeaders && typeof response.multiValueHeaders === "object") {
    for (const [name, values] of Object.entries(response.multiValueHeaders)) {
      for (const value of [values].flat()) headers.push([name.toLowerCase(), String(value)]);
    }
  }
  if (Array.isArray(response.cookies)) {
    for (const cookie of response.cookies) headers.push(["set-cookie", String(cookie)]);
  }
  if (!headers.some(([name]) => name === "content-type"))
    headers.push(["content-type", "application/json"]);
  const text = response.body === undefined || response.body === null ? "" : String(response.body);
  const body = response.isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text);
  return { status, headers, body };
}

/** API Gateway's own answers: `{"message": "..."}`. */
export function messageResult(status: number, message: string): HttpResult {
  return {
    status,
    headers: [["content-type", "application/json"]],
    body: Buffer.from(JSON.stringify({ message })),
  };
}
