import type { LocalService, ServiceName, ServiceRequest, ServiceResponse } from "../types";
import { CONTROL_PREFIX, type ControlHandler } from "./index";
import { isLoopbackHost } from "./origin";

/**
 * An extra control route under `/_local/<prefix>/` (the local cloud's console): `path` is relative
 * to the prefix, without a leading slash. The loopback and no-cross-origin-write checks run first.
 */
export type ControlRoute = (path: string, request: ServiceRequest) => Promise<ServiceResponse>;

interface ControlContext {
  services: ReadonlyMap<ServiceName, LocalService>;
  region: string;
  dataDir: string | undefined;
  reset(): Promise<void>;
  /** Extra health details (durability of persisted services). */
  health(): Record<string, unknown>;
  /** Routes registered with `registerControl`, by prefix (checked before the services). */
  routes?: ReadonlyMap<string, ControlRoute>;
}

/**
 * The local control API under `/_local/`: health, reset, and `/_local/<service>/<path>` routed to
 * that service's `control()`. It is for tools and tests on this machine, so it refuses requests
 * addressed to any other host name (DNS rebinding) and state changes started by any web page,
 * even one the origin policy admits (a dev server may read codes, never reset your data).
 */
export function createControlHandler(context: ControlContext): ControlHandler {
  return async (request: ServiceRequest): Promise<ServiceResponse> => {
    // The edge's origin policy checked both already; the control API holds every emailed code and
    // the reset, so it keeps its own checks should it ever be mounted elsewhere.
    if (!isLoopbackHost(request.headers.host)) {
      return json(403, { __type: "Forbidden", message: "The control API answers loopback hosts" });
    }
    if (request.method !== "GET" && request.headers.origin !== undefined) {
      return json(403, { __type: "Forbidden", message: "Browsers may only read the control API" });
    }
    const path = request.path.slice(CONTROL_PREFIX.length);

    if (path === "health" && request.method === "GET") {
      return json(200, {
        status: "ok",
        region: context.region,
        persistent: context.dataDir !== undefined,
        services: [...context.services.keys()],
        ...context.health(),
      });
    }
    if (path === "reset" && request.method === "POST") {
      await context.reset();
      return json(200, { reset: [...context.services.keys()] });
    }

    const slash = path.indexOf("/");
    const prefix = slash === -1 ? path : path.slice(0, slash);
    const rest = slash === -1 ? "" : path.slice(slash + 1);
    const route = context.routes?.get(prefix);
    if (route) return route(rest, request);
    const service = context.services.get(prefix as ServiceName);
    if (service?.control) return service.control(rest, request.query, request);
    return json(404, { __type: "NotFound", message: `No control route ${request.path}` });
  };
}

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
