import dgram from "node:dgram";
import net from "node:net";

/**
 * The unit tier's promise, enforced: a unit test opens no socket at all, not even on loopback. Any
 * TCP or IPC connect or listen, and any UDP bind, connect or send, throws a `NetworkAccessError`
 * naming what was attempted, so a test that needs a service fails at once and says to move to the
 * integration tier instead of hanging or reaching a real endpoint. Installed by the unit project's
 * setup file (test/setup/unit.ts); idempotent.
 */
export class NetworkAccessError extends Error {
  constructor(attempt: string) {
    super(
      `Unit tests may not use the network: ${attempt} was refused. A test that needs a socket (an ` +
        "embedded service, loopback included) belongs to the integration tier (vitest.config.ts).",
    );
    this.name = "NetworkAccessError";
  }
}

const INSTALLED = Symbol.for("boarding-pass.network-guard");

function describeTarget(args: unknown[]): string {
  // `net.connect()` hands `Socket#connect` its arguments already normalized, as one array.
  const [first, second] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (typeof first === "object" && first !== null) {
    const options = first as { host?: string; port?: number; path?: string };
    if (options.path) return options.path;
    return `${options.host ?? "localhost"}:${options.port ?? "?"}`;
  }
  if (typeof first === "string" && Number.isNaN(Number(first))) return first;
  if (first === undefined || typeof first === "function") return "an ephemeral port";
  return `${typeof second === "string" ? second : "localhost"}:${String(first)}`;
}

export function installNetworkGuard(): void {
  const registry = globalThis as { [INSTALLED]?: boolean };
  if (registry[INSTALLED]) return;
  registry[INSTALLED] = true;
  net.Socket.prototype.connect = function refuseConnect(...args: unknown[]): never {
    throw new NetworkAccessError(`a connection to ${describeTarget(args)}`);
  } as typeof net.Socket.prototype.connect;
  net.Server.prototype.listen = function refuseListen(...args: unknown[]): never {
    throw new NetworkAccessError(`listening on ${describeTarget(args)}`);
  } as typeof net.Server.prototype.listen;
  dgram.Socket.prototype.bind = function refuseBind(...args: unknown[]): never {
    throw new NetworkAccessError(`binding a UDP socket to ${describeTarget(args)}`);
  } as typeof dgram.Socket.prototype.bind;
  dgram.Socket.prototype.connect = function refuseUdpConnect(...args: unknown[]): never {
    throw new NetworkAccessError(`connecting a UDP socket to ${describeTarget(args)}`);
  } as typeof dgram.Socket.prototype.connect;
  dgram.Socket.prototype.send = function refuseSend(): never {
    throw new NetworkAccessError("sending a UDP datagram");
  } as typeof dgram.Socket.prototype.send;
}
