import { Agent, request as httpRequest } from "node:http";
import type { ServiceRequest, ServiceResponse } from "../types";
import { LocalAwsError } from "./errors";

/** Request headers that belong to the client's connection to the edge, not to the upstream one. */
const NOT_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "expect",
  "te",
  "http2-settings",
  // The edge's origin policy has admitted the request: the emulators' own CORS answers (`*`)
  // must not apply, and they are not shown who the browser was.
  "origin",
  "referer",
  "sec-fetch-site",
  "sec-fetch-mode",
  "sec-fetch-dest",
  "sec-fetch-user",
]);

/** Where an emulator listens: a loopback port, or a Unix socket no web page can reach. */
type UpstreamAddress = { host: string; port: number } | { socketPath: string };

class StaleSocketError extends LocalAwsError {
  constructor(message: string, options: { cause: unknown }) {
    super("UpstreamUnavailable", message, options);
  }
}

/**
 * Forwards buffered requests to an emulator listening on a loopback port (dynalite), over a
 * keep-alive HTTP/1.1 pool so the edge adds one local round trip and no handshakes.
 */
export class LoopbackUpstream {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly address: UpstreamAddress) {}

  get #where(): string {
    return "socketPath" in this.address
      ? `socket ${this.address.socketPath}`
      : `port ${this.address.port}`;
  }

  async forward(request: ServiceRequest): Promise<ServiceResponse> {
    try {
      return await this.#send(request);
    } catch (error) {
      // A pooled socket the emulator closed for idleness just as we reused it. The request did not
      // get processed (the server was closing an idle connection), so one resend on a fresh socket
      // is what HTTP clients do; AWS itself is at-least-once for Kinesis puts in any case.
      if (error instanceof StaleSocketError) return this.#send(request);
      throw error;
    }
  }

  #send(request: ServiceRequest): Promise<ServiceResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!NOT_FORWARDED.has(name)) headers[name] = value;
    }
    headers["content-length"] = String(request.body.length);
    const search = request.query.toString();

    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          ...this.address,
          method: request.method,
          path: search ? `${request.path}?${search}` : request.path,
          headers,
          agent: this.#agent,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.once("error", reject);
          incoming.once("end", () => {
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined) {
                responseHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
              }
            }
            resolve({
              status: incoming.statusCode ?? 502,
              headers: responseHeaders,
              body: Buffer.concat(chunks),
            });
          });
        },
      );
      outgoing.once("error", (cause: NodeJS.ErrnoException) => {
        const message = `Local emulator on ${this.#where} failed: ${cause.code ?? cause.message}`;
        const stale = outgoing.reusedSocket && cause.code === "ECONNRESET";
        reject(
          stale
            ? new StaleSocketError(message, { cause })
            : new LocalAwsError("UpstreamUnavailable", message, { cause }),
        );
      });
      outgoing.end(request.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
