/**
 * The local cloud's console, served by the edge's control API:
 *
 * - `GET /_local/console`: the page (self-contained, polls the state every second);
 * - `GET /_local/console/state`: the snapshot as JSON (`ConsoleState`).
 *
 * Only its own page may read it: the edge's origin policy (edge/origin.ts) already refuses other
 * hosts and foreign pages; on top of that the console refuses any origin but its own, a loopback
 * dev server included, and whatever the browser marks as cross-site or same-site.
 */
import type { ControlRoute } from "../edge/control";
import type { ServiceResponse } from "../types";
import { CONSOLE_CSP, CONSOLE_HTML } from "./page";
import {
  type ConsoleData,
  type ConsoleOptions,
  type ConsoleSources,
  createConsoleData,
} from "./snapshot";

export type { ConsoleData, ConsoleSources, ConsoleState } from "./snapshot";
export { createConsoleData } from "./snapshot";
export type { ConsolePlugin } from "./views";

const CONSOLE_PREFIX = "console";

const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function createConsoleRoute(data: ConsoleData): ControlRoute {
  return async (path, request) => {
    const route = path.replace(/\/+$/, "");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "The console is read-only");
    }
    const origin = request.headers.origin;
    const fetchSite = request.headers["sec-fetch-site"];
    if (
      (origin !== undefined && origin !== `http://${request.headers.host}`) ||
      fetchSite === "cross-site" ||
      fetchSite === "same-site"
    ) {
      return text(403, "The console answers its own page only");
    }
    if (route === "") {
      return {
        status: 200,
        headers: {
          ...COMMON_HEADERS,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": CONSOLE_CSP,
          "x-frame-options": "DENY",
        },
        body: CONSOLE_HTML,
      };
    }
    if (route === "state") {
      return {
        status: 200,
        headers: { ...COMMON_HEADERS, "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify(await data.snapshot()),
      };
    }
    return text(404, `No console route ${path}`);
  };
}

/**
 * Serves the console of `sources` (a running `LocalCloud`, or a test's own plane, runtime and
 * broker) on `registrar`'s edge under `/_local/console`.
 */
export function registerConsole(
  registrar: { registerControl(prefix: string, route: ControlRoute): void },
  sources: ConsoleSources,
  options: ConsoleOptions = {},
): ConsoleData {
  const data = createConsoleData(sources, options);
  registrar.registerControl(CONSOLE_PREFIX, createConsoleRoute(data));
  return data;
}

function text(status: number, message: string): ServiceResponse {
  return {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "text/plain; charset=utf-8" },
    body: message,
  };
}
