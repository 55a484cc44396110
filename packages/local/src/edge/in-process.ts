import { EventEmitter } from "node:events";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ServiceRequest, ServiceResponse } from "../types";

/**
 * The part of `http.ServerResponse` an in-process emulator's listener writes to. Collects the
 * response instead of sending it, so the edge can call the listener without a socket hop.
 */
class CollectedResponse {
  statusCode = 200;
  readonly #headers: Record<string, string> = {};
  readonly #done: (response: ServiceResponse) => void;

  constructor(done: (response: ServiceResponse) => void) {
    this.#done = done;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.#headers[name.toLowerCase()];
  }

  end(body?: string | Buffer): this {
    this.#done({ status: this.statusCode, headers: this.#headers, body: body ?? "" });
    return this;
  }
}

/**
 * Calls a Node request listener (dynalite's) with a buffered request. The listener attaches its
 * `data`/`end` handlers synchronously, so the body can be emitted right after the call; a listener
 * that throws synchronously becomes a rejected promise instead of an uncaught exception.
 *
 * Only the surface dynalite uses is provided (headers, method, url, on/removeAllListeners;
 * statusCode, setHeader, end).
 */
export function invokeRequestListener(
  listener: RequestListener,
  request: ServiceRequest,
): Promise<ServiceResponse> {
  return new Promise((resolve, reject) => {
    const search = request.query.toString();
    const incoming = Object.assign(new EventEmitter(), {
      method: request.method,
      url: search ? `${request.path}?${search}` : request.path,
      headers: request.headers,
    });
    const outgoing = new CollectedResponse(resolve);
    try {
      listener(incoming as unknown as IncomingMessage, outgoing as unknown as ServerResponse);
      if (request.body.length > 0) incoming.emit("data", request.body);
      incoming.emit("end");
    } catch (error) {
      reject(error);
    }
  });
}
