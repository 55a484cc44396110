/**
 * Test helper: serves one LocalService over HTTP/1.1 on 127.0.0.1:<random>, doing the little the
 * edge endpoint does (build a ServiceRequest from the raw request). Lets service tests run with
 * the real SDK clients independently of the edge.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalService, ServiceRequest } from "../../src/types";

export interface Served {
  endpoint: string;
  close(): Promise<void>;
}

/** SigV4 `Credential=<akid>/<date>/<region>/<service>/aws4_request`, from header or query. */
function credentialScope(req: IncomingMessage, query: URLSearchParams): string[] | undefined {
  const header = req.headers.authorization ?? "";
  const match = /Credential=([^,\s]+)/.exec(header);
  const credential = match?.[1] ?? query.get("X-Amz-Credential") ?? undefined;
  return credential ? decodeURIComponent(credential).split("/") : undefined;
}

export async function toServiceRequest(
  req: IncomingMessage,
  defaultRegion: string,
): Promise<ServiceRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined)
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  const scope = credentialScope(req, url.searchParams);
  const request: ServiceRequest = {
    method: req.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks),
    requestId: randomUUID(),
    region: scope?.[2] ?? defaultRegion,
  };
  if (scope?.[0]) request.accessKeyId = scope[0];
  return request;
}

export async function serve(service: LocalService, defaultRegion = "us-east-1"): Promise<Served> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    toServiceRequest(req, defaultRegion)
      .then((request) => service.handle(request))
      .then((response) => {
        res.writeHead(response.status, response.headers ?? {});
        res.end(response.body ?? "");
      })
      .catch((err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Client options for the real SDK against a served service. */
export function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    // Fail fast: a local server that errors should not be hammered by the SDK's retries.
    maxAttempts: 1,
  };
}
