/**
 * The local API Gateway HTTP API: one loopback port per API, routes to Lambda proxy integrations
 * (through the shared `LambdaInvoker`), with the `NONE`, `AWS_IAM` and `JWT` authorization of
 * HTTP APIs, payload formats 2.0 and 1.0, CORS, and API Gateway's own failure answers:
 * 404 `Not Found`, 401 `Unauthorized`, 403 `Forbidden` (or the SigV4 message), 413 over 10 MB,
 * 429 `Too Many Requests` past the stage's or route's throttle,
 * 500 `Internal Server Error` when the function fails, 503 `Service Unavailable` past 30 s.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BodyTooLargeError, readBody } from "../../edge/exchange";
import { assertLoopbackHost } from "../../edge/index";
import { createOriginPolicy, isRefusal, type OriginRefusal } from "../../edge/origin";
import { applyCors, isPreflight, preflightHeaders } from "./cors";
import {
  type EventContext,
  eventV1,
  eventV2,
  type HttpResult,
  INTERNAL_ERROR,
  type IncomingRequest,
  messageResult,
  newRequestId,
  resultFromPayload,
} from "./events";
import { createIamAuthorizer } from "./iam-authorizer";
import { createJwtAuthorizer, fetchJwksOverHttp } from "./jwt-authorizer";
import { createRouter, routePath } from "./routes";
import { parseQuery } from "./sigv4";
import { createThrottle } from "./throttle";
import type { AuthorizerContext, HttpApi, HttpApiOptions, HttpRoute, Rejection } from "./types";

/** HTTP APIs refuse request bodies over 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** HTTP APIs wait at most 30 s for an integration. */
const INTEGRATION_TIMEOUT_MS = 30_000;

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const host = assertLoopbackHost(options.host ?? "127.0.0.1");
  const stage = options.stageName ?? "$default";
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.info(line));
  const integrationTimeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const origins = options.origins ?? createOriginPolicy();
  for (const route of options.routes) {
    if (route.authorizationType === "JWT" && !route.jwt) {
      throw new Error(`Route ${route.routeKey} is JWT-authorized but has no jwt configuration`);
    }
  }
  const route = createRouter(options.routes);
  const authorizeIam = createIamAuthorizer({
    region: options.region,
    accountId: options.accountId,
    apiId: options.apiId,
    stageName: stage,
    lookupCredentials: (key) => options.sts.lookupCredentials(key),
    iam: options.iam,
    identities: options.identities,
  });
  const authorizeJwt = createJwtAuthorizer(options.fetchJwks ?? fetchJwksOverHttp);
  const admit = createThrottle(options.throttling);

  async function handle(req: IncomingMessage): Promise<HttpResult> {
    const requestId = newRequestId();
    const nowMs = now();
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? "" : url.slice(queryAt + 1);
    const headerValues = collectHeaders(req.rawHeaders);
    const headers: Record<string, string> = {};
    for (const [name, values] of Object.entries(headerValues)) headers[name] = values.join(",");
    const method = (req.method ?? "GET").toUpperCase();

    if (options.cors && isPreflight(method, headers)) {
      await readBody(req, MAX_BODY_BYTES).catch(() => undefined);
      return {
        status: 204,
        headers: preflightHeaders(options.cors, headers),
        body: Buffer.alloc(0),
        preflight: true,
      };
    }

    const declaredLength = Number(headers["content-length"] ?? 0);
    let body: Buffer;
    try {
      if (declaredLength > MAX_BODY_BYTES) {
        req.resume();
        throw new BodyTooLargeError(MAX_BODY_BYTES);
      }
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return messageResult(413, "Request Entity Too Large");
      throw error;
    }

    // A named stage is the first path segment; `$default` has none.
    let stagePath = rawPath;
    if (stage !== "$default") {
      const prefix = `/${stage}`;
      if (rawPath !== prefix && !rawPath.startsWith(`${prefix}/`))
        return messageResult(404, "Not Found");
      stagePath = rawPath.slice(prefix.length) || "/";
    }
    const match = route(method, stagePath);
    if (!match) return messageResult(404, "Not Found");
    const selected = match.route;
    // Throttled requests are refused before any authorizer or integration runs.
    if (!admit(selected.routeKey, nowMs)) return messageResult(429, "Too Many Requests");

    const query = parseQuery(rawQuery);
    let authorizer: AuthorizerContext;
    const refused = (rejection: Rejection): HttpResult => {
      log(
        `apigw ${options.apiId} ${method} ${rawPath} -> ${rejection.status} (${selected.routeKey}: ${rejection.reason})`,
      );
      return messageResult(rejection.status, rejection.message);
    };
    if (selected.authorizationType === "AWS_IAM") {
      const result = await authorizeIam({
        method,
        rawPath,
        rawQuery,
        headers,
        body,
        stagePath,
        sourceIp: sourceIpOf(req),
        nowMs,
      });
      if ("status" in result) return refused(result);
      authorizer = { iam: result.context };
    } else if (selected.authorizationType === "JWT") {
      const result = await authorizeJwt(
        { headers, query, nowMs },
        selected.jwt!,
        selected.authorizationScopes,
      );
      if ("status" in result) return refused(result);
      authorizer = { jwt: result };
    }

    // API Gateway adds the forwarding headers its integrations see.
    const sourceIp = sourceIpOf(req);
    const forwarded: Record<string, string[]> = {
      ...headerValues,
      "x-forwarded-for": [[...(headerValues["x-forwarded-for"] ?? []), sourceIp].join(", ")],
      "x-forwarded-port": [String(req.socket.localPort ?? "")],
      "x-forwarded-proto": ["http"],
    };
    const incoming: IncomingRequest = {
      method,
      rawPath,
      rawQuery,
      headerValues: forwarded,
      query,
      body,
      sourceIp,
      protocol: `HTTP/${req.httpVersion}`,
    };
    const context: EventContext = {
      accountId: options.accountId,
      apiId: options.apiId,
      stage,
      routeKey: selected.routeKey,
      resourcePath: routePath(selected.routeKey),
      pathParameters: match.pathParameters,
      authorizer,
      requestId,
      nowMs,
    };
    const event =
      selected.payloadFormatVersion === "1.0"
        ? eventV1(incoming, context)
        : eventV2(incoming, context);
    const result = await invoke(selected, event);
    result.headers.push(["apigw-requestid", requestId]);
    return result;
  }

  async function invoke(selected: HttpRoute, event: unknown): Promise<HttpResult> {
    let timer: NodeJS.Timeout | undefined;
    // The function keeps running past the deadline (as in AWS); only the caller stops waiting.
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), integrationTimeoutMs);
    });
    try {
      const outcome = await Promise.race([
        options.invoker.invoke(selected.functionArn, event, { source: "apigateway" }),
        deadline,
      ]);
      if (outcome === "timeout") {
        log(
          `apigw ${options.apiId} ${selected.routeKey}: integration timed out after ${integrationTimeoutMs} ms`,
        );
        return messageResult(503, "Service Unavailable");
      }
      if (!outcome.ok) {
        log(
          `apigw ${options.apiId} ${selected.routeKey}: ${outcome.errorType}: ${outcome.errorMessage}`,
        );
        return messageResult(500, INTERNAL_ERROR);
      }
      return resultFromPayload(outcome.payload, selected.payloadFormatVersion);
    } finally {
      clearTimeout(timer);
    }
  }

  const server = createServer((req, res) => {
    // Before the body, the route or an authorizer: a page the policy refuses gets no work done.
    const verdict = origins.check(req.headers);
    if (isRefusal(verdict)) {
      log(
        `apigw ${options.apiId} ${req.method} ${(req.url ?? "/").split("?")[0]} -> 403 (${verdict.reason})`,
      );
      refuse(req, res, verdict);
      return;
    }
    handle(req)
      .then((result) => {
        // The path only: a query string may carry a presigned signature or a token.
        log(
          `apigw ${options.apiId} ${req.method} ${(req.url ?? "/").split("?")[0]} ${result.status}`,
        );
        send(req, res, result);
      })
      .catch((error: unknown) => {
        log(
          `apigw ${options.apiId} ${req.method} ${(req.url ?? "/").split("?")[0]}: ${(error as Error).stack ?? String(error)}`,
        );
        send(req, res, messageResult(500, INTERNAL_ERROR));
      });
  });

  /** API Gateway's `{"message": ...}` 403, without any CORS header: the page may not read it. */
  function refuse(req: IncomingMessage, res: ServerResponse, refusal: OriginRefusal): void {
    req.resume();
    const body = messageResult(refusal.status, refusal.message).body;
    res.writeHead(refusal.status, {
      "content-type": "application/json",
      "content-length": String(body.length),
      vary: "Origin",
      "apigw-requestid": newRequestId(),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  function send(req: IncomingMessage, res: ServerResponse, result: HttpResult): void {
    if (res.headersSent) return;
    const origin = req.headers.origin;
    const headers =
      options.cors && !result.preflight
        ? applyCors(options.cors, origin, result.headers)
        : [...result.headers];
    // Answers differ by origin (CORS headers): caches must keep them apart.
    headers.push(["vary", "Origin"]);
    const grouped = new Map<string, string[]>();
    for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped) {
      res.setHeader(name, name === "set-cookie" ? values : values.join(","));
    }
    res.statusCode = result.status;
    res.end(req.method === "HEAD" ? undefined : result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function collectHeaders(raw: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const values = out[name] ?? [];
    values.push(raw[i + 1]!);
    out[name] = values;
  }
  return out;
}

function sourceIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
}
