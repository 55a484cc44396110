/**
 * Stage and route throttling of an HTTP API, as API Gateway describes it ("Throttling requests to
 * your HTTP API"): a token bucket per route, `burstLimit` deep, refilled at `rateLimit` tokens per
 * second; a route with its own `RouteSettings` limits uses those, the others the stage's
 * `DefaultRouteSettings`. A request that finds the bucket empty is answered 429
 * `{"message":"Too Many Requests"}` before authorization or integration.
 *
 * Not emulated: the account-level limit per Region (10,000 rps, 5,000 burst by default), which is
 * shared by every API of the account and far above what one machine sends. AWS applies throttles
 * "on a best-effort basis"; locally they are exact, so a test sees the configured limits.
 */
import type { HttpApiThrottling, ThrottleLimits } from "./types";

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createThrottle(throttling: HttpApiThrottling | undefined) {
  const buckets = new Map<string, Bucket>();

  function limitsOf(routeKey: string): ThrottleLimits | undefined {
    if (throttling?.routes && Object.hasOwn(throttling.routes, routeKey)) {
      return throttling.routes[routeKey];
    }
    return throttling?.default;
  }

  /** Takes a token for `routeKey`; false when its bucket is empty (the caller answers 429). */
  return function admit(routeKey: string, nowMs: number): boolean {
    const limits = limitsOf(routeKey);
    if (limits === undefined) return true;
    const burst = Math.max(0, limits.burstLimit);
    const rate = Math.max(0, limits.rateLimit);
    const bucket = buckets.get(routeKey) ?? { tokens: burst, updatedMs: nowMs };
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsedSeconds * rate);
    bucket.updatedMs = nowMs;
    buckets.set(routeKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
}
