/**
 * The HTTP API routes' functions are warmed after ready, in the background: ready does not wait
 * for it, and a stop() in the middle of it ends it quietly (no error printed, nothing left
 * running). That the warm-up happens is asserted in local-cloud.test.ts.
 */

import { BOOT_TIMEOUT_MS, bootCloud } from "@boarding-pass/testing/cloud";
import { afterEach, describe, expect, it, vi } from "vitest";

describe("the routes' background warm-up", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it(
    "does not hold ready, and a stop() during it ends it without a word",
    async () => {
      const errors = vi.spyOn(console, "error");
      const warnings = vi.spyOn(console, "warn");
      const lines: string[] = [];
      const cloud = await bootCloud({ log: (line) => lines.push(line) });
      const routeArns = [
        ...new Set(
          cloud.provisioned.httpApis.flatMap((api) => api.routes.map((r) => r.functionArn)),
        ),
      ];
      expect(routeArns.length).toBeGreaterThan(0);
      // Ready came first: no route function's environment had finished its init then (a worker's
      // init answers in a later turn of the event loop than this one).
      expect(routeArns.map((arn) => cloud.runtime.warmEnvironments(arn))).toEqual(
        routeArns.map(() => 0),
      );
      const bootLines = lines.length;
      await cloud.stop();
      await cloud.routesWarmed;
      expect(lines.slice(bootLines)).toEqual([]);
      expect(errors).not.toHaveBeenCalled();
      expect(warnings).not.toHaveBeenCalled();
    },
    BOOT_TIMEOUT_MS,
  );
});
