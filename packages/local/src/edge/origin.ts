/**
 * Who may talk to the local cloud: one policy for every listener (the edge with its control API
 * and console, the HTTP API, the MQTT WebSocket upgrade).
 *
 * Nothing on the data plane verifies SigV4 and the control API serves every emailed code, so the
 * only thing between a web page the developer happens to visit and the local cloud's data is the
 * browser's `Origin`. A request is admitted when:
 *
 * - its `Host` names a loopback address (`localhost`, `127.x.x.x`, `[::1]`, any port): a page on
 *   a rebound DNS name reaches a loopback port with its own host name, never one of these;
 * - and, when a browser sent it, its origin is a loopback origin (`http://` or `https://`, any
 *   port: a page served from this machine, like a Vite dev server) or one named with
 *   `--allow-origin`. `Origin: null` (sandboxed frames, `file:` pages, cross-origin redirects)
 *   names nobody and is refused.
 *
 * Browsers send no `Origin` on a GET a page makes without CORS (`<img src>`, a link), but they do
 * send `Sec-Fetch-Site`, which scripts cannot set: such a request from another site is admitted
 * only when its `Referer` names an allowed origin, since the local query APIs act on GET too.
 * Requests with neither header (SDKs, curl, the functions) are not browsers and are admitted.
 *
 * CORS answers echo the admitted origin with `Vary: Origin`, never `*`.
 * See the Fetch standard, "CORS protocol" and "Origin header", https://fetch.spec.whatwg.org/,
 * and Fetch Metadata Request Headers, https://www.w3.org/TR/fetch-metadata/.
 */

/** Loopback host names as `Host` carries them (port optional, IPv6 in brackets). */
const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;
/** The same names as `URL.hostname` gives them (IPv6 keeps its brackets there). */
const LOOPBACK_HOSTNAME = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** A request the policy refused: the listener renders it in its own protocol, with a 403. */
export interface OriginRefusal {
  status: 403;
  /** For the listener's log: which header failed and why. */
  reason: string;
  /** What the client is told. */
  message: string;
}

/** An admitted request: `origin` is the browser origin to echo in CORS headers, if any. */
export interface OriginAdmission {
  origin: string | undefined;
}

type OriginVerdict = OriginAdmission | OriginRefusal;

export interface OriginPolicy {
  /** The origins admitted beyond loopback, normalised. */
  readonly extraOrigins: readonly string[];
  /** Decides on a request's headers (lower-cased names), before anything else reads it. */
  check(headers: Readonly<Record<string, string | string[] | undefined>>): OriginVerdict;
}

export class InvalidAllowedOriginError extends Error {
  constructor(value: string, why: string, options?: { cause?: unknown }) {
    super(
      `--allow-origin ${JSON.stringify(value)} is not an origin (${why}); ` +
        "give scheme, host and optional port, e.g. https://dev.example.test:5173",
      options,
    );
    this.name = "InvalidAllowedOriginError";
  }
}

/**
 * Normalises an origin given on the command line (`https://Dev.Example.test:443/` becomes
 * `https://dev.example.test`): exactly one http(s) origin, no path, no wildcard.
 */
export function parseAllowedOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new InvalidAllowedOriginError(value, "it does not parse as a URL", { cause: error });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidAllowedOriginError(value, "only http and https origins exist for pages");
  }
  if (value.includes("*")) throw new InvalidAllowedOriginError(value, "wildcards are not allowed");
  if (url.username || url.password || url.search || url.hash || url.pathname !== "/") {
    throw new InvalidAllowedOriginError(value, "an origin has no path, query or credentials");
  }
  return url.origin;
}

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // Browsers send the serialized origin; anything longer (a path, a trailing slash) is not one.
  if (url.origin !== origin) return false;
  return (
    (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK_HOSTNAME.test(url.hostname)
  );
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

export function createOriginPolicy(allowOrigins: readonly string[] = []): OriginPolicy {
  const extraOrigins = [...new Set(allowOrigins.map(parseAllowedOrigin))];
  const allowed = (origin: string) => isLoopbackOrigin(origin) || extraOrigins.includes(origin);
  const refuse = (reason: string, message: string): OriginRefusal => ({
    status: 403,
    reason,
    message,
  });
  const foreign = (origin: string) =>
    refuse(
      `Origin ${JSON.stringify(origin)} is not allowed`,
      `The local cloud does not answer pages from ${origin}: only loopback origins and those ` +
        "given with --allow-origin",
    );

  return {
    extraOrigins,
    check(headers) {
      const host = single(headers.host);
      if (!isLoopbackHost(host)) {
        return refuse(
          `Host ${JSON.stringify(host ?? "")} is not a loopback name`,
          "The local cloud answers loopback host names only (localhost, 127.0.0.1, [::1])",
        );
      }
      const origin = single(headers.origin);
      if (origin !== undefined) return allowed(origin) ? { origin } : foreign(origin);
      const site = single(headers["sec-fetch-site"]);
      if (site === "cross-site" || site === "same-site") {
        const referer = originOfReferer(single(headers.referer));
        if (referer === undefined || !allowed(referer)) {
          return foreign(referer ?? "another site (no Origin, no Referer)");
        }
      }
      return { origin: undefined };
    },
  };
}

function originOfReferer(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * `Access-Control-Allow-Origin` for an admitted browser origin, and `Vary: Origin` on every answer
 * (a cache must not hand one origin's answer to another).
 */
export function corsOriginHeaders(admission: OriginAdmission): Record<string, string> {
  return admission.origin === undefined
    ? { vary: "Origin" }
    : { "access-control-allow-origin": admission.origin, vary: "Origin" };
}

export function isRefusal(verdict: OriginVerdict): verdict is OriginRefusal {
  return "status" in verdict;
}
