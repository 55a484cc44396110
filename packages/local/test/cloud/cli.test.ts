/**
 * `npm start` options that need no synthesis: `--help` documents `--allow-origin`, and a value that
 * is not an origin fails at once with a message naming it (before the minute-long synthesis).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../../src/cloud/cli.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../../../node_modules/.bin/tsx", import.meta.url));

const start = (...args: string[]) =>
  spawnSync(TSX, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });

describe("npm start", () => {
  it("documents --allow-origin in --help", () => {
    const help = start("--help");

    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--allow-origin <o>");
    expect(help.stdout).toContain("repeatable");
  });

  it.each(["*", "https://dev.example.test/app", "null"])(
    "refuses --allow-origin %j before anything starts",
    (value) => {
      const run = start("--allow-origin", "http://localhost:5173", "--allow-origin", value);

      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`--allow-origin ${JSON.stringify(value)} is not an origin`);
    },
  );
});
