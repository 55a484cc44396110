/**
 * Route selection as HTTP APIs do it: the most specific route wins. Paths compare segment by
 * segment from the left (a literal beats a `{param}`, which beats a greedy `{proxy+}`), then a
 * route for the request's method beats `ANY`, and `$default` catches whatever is left.
 * Matching is case-sensitive, on percent-decoded segments.
 */
import type { HttpRoute } from "./types";

type Segment =
  | { kind: "literal"; value: string }
  | { kind: "param"; name: string }
  | { kind: "greedy"; name: string };

interface CompiledRoute {
  route: HttpRoute;
  /** Upper case, or `ANY`; undefined for `$default`. */
  method?: string;
  segments: Segment[];
}

interface RouteMatch {
  route: HttpRoute;
  pathParameters: Record<string, string> | undefined;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]);

export class RouteKeyError extends Error {}

/** Parses `METHOD /path`; rejects what API Gateway would refuse to create. */
function compileRoute(route: HttpRoute): CompiledRoute {
  if (route.routeKey === "$default") return { route, segments: [] };
  const match = /^([A-Z]+) (\/\S*)$/.exec(route.routeKey);
  if (!match || !METHODS.has(match[1]!)) {
    throw new RouteKeyError(`Invalid route key: ${JSON.stringify(route.routeKey)}`);
  }
  const [, method, path] = match as unknown as [string, string, string];
  const parts = path === "/" ? [] : path.slice(1).split("/");
  const segments: Segment[] = parts.map((part, index) => {
    const variable = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (!variable) {
      if (part === "" || /[{}]/.test(part)) {
        throw new RouteKeyError(`Invalid route key: ${JSON.stringify(route.routeKey)}`);
      }
      return { kind: "literal", value: part };
    }
    if (variable[2] === "+") {
      if (index !== parts.length - 1) {
        throw new RouteKeyError(`A greedy path variable must be last: ${route.routeKey}`);
      }
      return { kind: "greedy", name: variable[1]! };
    }
    return { kind: "param", name: variable[1]! };
  });
  return { route, method, segments };
}

/** A router over the routes; throws on an invalid or duplicate route key. */
export function createRouter(
  routes: HttpRoute[],
): (method: string, path: string) => RouteMatch | undefined {
  const seen = new Set<string>();
  const compiled = routes.map((route) => {
    if (seen.has(route.routeKey)) throw new RouteKeyError(`Duplicate route key: ${route.routeKey}`);
    seen.add(route.routeKey);
    return compileRoute(route);
  });
  const fallback = compiled.find((c) => c.method === undefined);
  const candidates = compiled.filter((c) => c.method !== undefined).sort(bySpecificity);

  return (method, path) => {
    const segments = splitPath(path);
    if (segments) {
      for (const candidate of candidates) {
        if (candidate.method !== "ANY" && candidate.method !== method) continue;
        const parameters = matchSegments(candidate.segments, segments);
        if (parameters) {
          return {
            route: candidate.route,
            pathParameters: Object.keys(parameters).length > 0 ? parameters : undefined,
          };
        }
      }
    }
    return fallback ? { route: fallback.route, pathParameters: undefined } : undefined;
  };
}

/** `/a/b%20c` → `["a", "b c"]`; undefined when a segment is not valid percent-encoding. */
function splitPath(path: string): string[] | undefined {
  const trimmed = path.startsWith("/") ? path.slice(1) : path;
  if (trimmed === "") return [];
  try {
    return trimmed.split("/").map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function matchSegments(pattern: Segment[], path: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i]!;
    if (segment.kind === "greedy") {
      // One segment at least: `/pets/{proxy+}` does not match `/pets`.
      const rest = path.slice(i);
      if (rest.length === 0 || rest.every((s) => s === "")) return undefined;
      parameters[segment.name] = rest.join("/");
      return parameters;
    }
    const value = path[i];
    if (value === undefined) return undefined;
    if (segment.kind === "literal") {
      if (segment.value !== value) return undefined;
    } else {
      if (value === "") return undefined;
      parameters[segment.name] = value;
    }
  }
  return pattern.length === path.length ? parameters : undefined;
}

const RANK = { literal: 0, param: 1, greedy: 2 } as const;

function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const left = a.segments[i];
    const right = b.segments[i];
    // A route that ends earlier is not less specific by itself; only kinds at the same depth
    // decide, and routes of different lengths never match the same path unless one is greedy.
    if (!left || !right) break;
    const difference = RANK[left.kind] - RANK[right.kind];
    if (difference !== 0) return difference;
  }
  if (a.segments.length !== b.segments.length) {
    // `/a/{proxy+}` vs `/a/b/{id}`: the longer, more literal route first.
    return b.segments.length - a.segments.length;
  }
  return (a.method === "ANY" ? 1 : 0) - (b.method === "ANY" ? 1 : 0);
}

/** The route key's path with variables as API Gateway writes them in `resourcePath` (v1). */
export function routePath(routeKey: string): string {
  return routeKey === "$default" ? "$default" : routeKey.slice(routeKey.indexOf(" ") + 1);
}
