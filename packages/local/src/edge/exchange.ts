import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { ServiceResponse } from "../types";

/** Node's HTTP/1.1 and HTTP/2 compatibility objects share enough surface to be handled alike. */
export type EdgeRequest = IncomingMessage | Http2ServerRequest;
export type EdgeResponse = ServerResponse | Http2ServerResponse;

/** Above DynamoDB's 16 MiB request cap and Kinesis' 5 MiB (base64-inflated) PutRecords cap. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

export function readBody(request: EdgeRequest, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        request.removeAllListeners("data");
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.once("end", () => resolve(Buffer.concat(chunks, length)));
    request.once("error", reject);
  });
}

/** Lower-cased headers without HTTP/2 pseudo-headers; repeated headers joined as HTTP/1 would. */
export function plainHeaders(request: EdgeRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  // HTTP/2 carries the host in :authority; services that build URLs want it under `host`.
  const authority = request.headers[":authority"];
  if (headers.host === undefined && typeof authority === "string") headers.host = authority;
  return headers;
}

/**
 * Headers that describe one HTTP/1.1 connection. HTTP/2 forbids them (Node throws on `connection`)
 * and the edge owns framing anyway, so they are dropped from every service response.
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "content-length",
]);

export function writeResponse(
  response: EdgeResponse,
  result: ServiceResponse,
  extraHeaders: Record<string, string>,
): void {
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : typeof result.body === "string"
        ? Buffer.from(result.body, "utf8")
        : result.body;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower)) headers[lower] = value;
  }
  Object.assign(headers, extraHeaders);
  headers["content-length"] = String(body.length);
  // The compat APIs differ only in typing here; both accept (status, headers).
  (response as ServerResponse).writeHead(result.status, headers);
  response.end(body);
}
