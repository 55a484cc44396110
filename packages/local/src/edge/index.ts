import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { lateBound } from "../late-bound";
import { AwsServiceError } from "../protocol/errors";
import { renderError } from "../protocol/wire";
import type { LocalService, ServiceName, ServiceRequest, ServiceResponse } from "../types";
import { corsHeaders, isPreflight, preflightHeaders } from "./cors";
import { LocalAwsError, NonLoopbackHostError } from "./errors";
import {
  BodyTooLargeError,
  type EdgeRequest,
  type EdgeResponse,
  plainHeaders,
  readBody,
  writeResponse,
} from "./exchange";
import { sniffWireVersion } from "./h2c";
import { createOriginPolicy, isRefusal, type OriginPolicy, type OriginRefusal } from "./origin";
import { guessProtocol, resolveRoute } from "./routing";
import { sigV4Scope } from "./sigv4";

/** Everything under this prefix is the local control API, never an AWS call. */
export const CONTROL_PREFIX = "/_local/";

const SNIFF_TIMEOUT_MS = 30_000;

export type ControlHandler = (request: ServiceRequest) => Promise<ServiceResponse>;

/** How the edge listens and answers, whatever it routes to. */
interface EdgeListenOptions {
  host: string;
  port: number;
  region: string;
  /** Largest request body accepted (default 20 MiB); larger ones get a 413. */
  maxBodyBytes?: number;
  /** Called with failures a service threw (they become AWS-shaped 500s); console.error by default. */
  onError?: (error: unknown, requestId: string) => void;
  /** Which hosts and browser origins are answered (loopback only by default). */
  origins?: OriginPolicy;
}

/** What the edge routes to: the services behind it and the control API. */
interface EdgeRouting {
  services: ReadonlyMap<ServiceName, LocalService>;
  control: ControlHandler;
}

interface EdgeOptions extends EdgeListenOptions, EdgeRouting {}

export interface Edge {
  readonly host: string;
  readonly port: number;
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * An edge that holds its port (so its endpoint is known) and routes nothing yet: the services it
 * will front are built knowing the endpoint, then handed over with `serve`.
 */
interface BoundEdge extends Edge {
  /** Starts routing; requests that arrived since the bind wait for it. Once only. */
  serve(routing: EdgeRouting): void;
}

export function assertLoopbackHost(host: string): string {
  if (host === "localhost") return "127.0.0.1";
  if (host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return host;
  throw new NonLoopbackHostError(host);
}

/**
 * One port for every emulated service, as AWS_ENDPOINT_URL expects. Each connection is sniffed
 * once: HTTP/2 prior-knowledge clients (the SDK's Kinesis client on http:// endpoints) go to an
 * h2c server, everything else to an HTTP/1.1 server; both share the same request handler.
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const edge = await bindEdge(options);
  edge.serve(options);
  return edge;
}

/** Binds the edge's port first: services whose answers name the endpoint (queue URLs, token
 * issuers) are created once it is known, then `serve` hands them to the edge. */
export async function bindEdge(options: EdgeListenOptions): Promise<BoundEdge> {
  const host = assertLoopbackHost(options.host);
  const origins = options.origins ?? createOriginPolicy();
  const routing = lateBound<EdgeRouting>("The edge's routing table");
  const onRequest = (request: EdgeRequest, response: EdgeResponse) => {
    void handleExchange(options, routing.ready, origins, request, response);
  };

  // SDK clients keep connections alive; a server that drops idle sockets first (Node's default
  // is 5 s) races the client's next request into ECONNRESET. AWS keeps them for about a minute.
  const http1 = createHttpServer({ keepAliveTimeout: 65_000 }, onRequest);
  const h2c = createHttp2Server({}, onRequest);
  const sockets = new Set<Socket>();

  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // A peer that connects and never speaks would otherwise hold the socket until stop().
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    void sniffWireVersion(socket).then((version) => {
      socket.setTimeout(0);
      if (version === "h2c") {
        h2c.emit("connection", socket);
      } else if (version === "http/1.1") {
        http1.emit("connection", socket);
        socket.resume();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    host,
    port,
    endpoint,
    serve(table) {
      routing.set(table);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      http1.closeAllConnections();
      await closed;
    },
  };
}

async function handleExchange(
  options: EdgeListenOptions,
  routing: Promise<EdgeRouting>,
  origins: OriginPolicy,
  request: EdgeRequest,
  response: EdgeResponse,
): Promise<void> {
  const requestId = randomUUID();
  const method = request.method ?? "GET";
  const headers = plainHeaders(request);

  // Before the body is read or anything routed: a refused page gets no work done, reads or writes.
  const verdict = origins.check(headers);
  if (isRefusal(verdict)) {
    writeResponse(response, refusalResponse(verdict, method, request.url, headers, requestId), {
      "x-amzn-requestid": requestId,
      vary: "Origin",
    });
    return;
  }
  const responseHeaders = { ...corsHeaders(verdict), "x-amzn-requestid": requestId };

  if (isPreflight(method, headers)) {
    writeResponse(
      response,
      { status: 200 },
      { ...preflightHeaders(headers, verdict), ...responseHeaders },
    );
    return;
  }

  let result: ServiceResponse;
  try {
    const body = await readBody(request, options.maxBodyBytes);
    const url = parseRequestUrl(request.url);
    if (!url) {
      throw new AwsServiceError("MalformedRequestUrl", "The request target is not a URL", {
        status: 500,
      });
    }
    const scope = sigV4Scope(headers, url.searchParams);
    const serviceRequest: ServiceRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers,
      body,
      requestId,
      region: scope?.region ?? options.region,
      accessKeyId: scope?.accessKeyId,
    };
    const { services, control } = await routing;
    result = url.pathname.startsWith(CONTROL_PREFIX)
      ? await control(serviceRequest)
      : await dispatch(services, serviceRequest);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) {
      (options.onError ?? logFailure)(error, requestId);
    }
    result = failureResponse(error, requestId, headers);
  }
  if (response.headersSent || response.writableEnded) return;
  try {
    writeResponse(response, result, responseHeaders);
  } catch (error) {
    // The client went away mid-exchange (e.g. an HTTP/2 stream reset): nothing left to answer.
    (options.onError ?? logFailure)(error, requestId);
  }
}

async function dispatch(
  services: ReadonlyMap<ServiceName, LocalService>,
  request: ServiceRequest,
): Promise<ServiceResponse> {
  const route = resolveRoute(request);
  if (!route) {
    const protocol = guessProtocol(request.headers);
    return renderError(
      protocol,
      new AwsServiceError(
        protocol === "query" ? "InvalidAction" : "UnknownOperationException",
        "No local service matches this request (X-Amz-Target, SigV4 credential scope or Version)",
      ),
      request.requestId,
    );
  }
  const service = services.get(route.service);
  if (!service) {
    return renderError(
      route.protocol,
      new AwsServiceError(
        route.protocol === "query" ? "InvalidAction" : "UnknownOperationException",
        `The local ${route.service} service is not running`,
      ),
      request.requestId,
      route.service,
    );
  }
  return service.handle(request);
}

/**
 * The origin policy's 403 in the protocol of the service the request is for, decided from the
 * headers and URL alone (the body is never read): JSON `__type` for JSON services and the control
 * API, an XML `ErrorResponse` for query services.
 */
function refusalResponse(
  refusal: OriginRefusal,
  method: string,
  rawUrl: string | undefined,
  headers: Record<string, string>,
  requestId: string,
): ServiceResponse {
  const url = parseRequestUrl(rawUrl);
  const route =
    url && !url.pathname.startsWith(CONTROL_PREFIX)
      ? resolveRoute({
          method,
          path: url.pathname,
          query: url.searchParams,
          headers,
          body: Buffer.alloc(0),
        })
      : undefined;
  const protocol = route?.protocol ?? (url ? guessProtocol(headers) : "json");
  return renderError(
    protocol,
    new AwsServiceError(
      protocol === "query" ? "AccessDenied" : "AccessDeniedException",
      refusal.message,
      { status: refusal.status },
    ),
    requestId,
    route?.service,
  );
}

function parseRequestUrl(rawUrl = "/"): URL | undefined {
  try {
    // Prefixing keeps a path like `//x` a path instead of a protocol-relative URL.
    return new URL(rawUrl.startsWith("/") ? `http://edge.local${rawUrl}` : rawUrl);
  } catch {
    return undefined;
  }
}

function logFailure(error: unknown, requestId: string): void {
  console.error(`[local-aws] request ${requestId} failed`, error);
}

/**
 * Anything a service throws becomes an AWS-shaped error instead of a dropped connection: an
 * `AwsServiceError` as it is, the local cloud's own failures under their code, anything else as
 * InternalFailure; all with their message, which is what a developer needs to see locally.
 */
function failureResponse(
  error: unknown,
  requestId: string,
  headers: Record<string, string>,
): ServiceResponse {
  return renderError(guessProtocol(headers), asServiceError(error), requestId);
}

function asServiceError(error: unknown): AwsServiceError {
  if (error instanceof AwsServiceError) return error;
  if (error instanceof BodyTooLargeError) {
    return new AwsServiceError("RequestEntityTooLargeException", error.message, { status: 413 });
  }
  const code = error instanceof LocalAwsError ? error.code : "InternalFailure";
  const message = error instanceof Error ? error.message : String(error);
  return new AwsServiceError(code, message, { status: 500, cause: error });
}
