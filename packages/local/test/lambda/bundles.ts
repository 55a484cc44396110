/**
 * Tiny handler bundles laid out as SST lays out its artifacts (`<bundleDir>/packages/x/<file>`),
 * and a runtime over them with fixed credentials. The directory is removed by `cleanup()`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { build } from "esbuild";
import { createLambdaRuntime } from "../../src/lambda/runtime";
import type {
  LambdaLogRecord,
  LambdaRuntime,
  LambdaRuntimeOptions,
  LocalFunction,
} from "../../src/lambda/types";

/** The repository root: built bundles resolve their imports (the SDK, packages/*) from it. */
export const ROOT = resolve(import.meta.dirname, "../../../..");
export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";

export class Bundles {
  readonly dir = mkdtempSync(join(tmpdir(), "lambda-bundles-"));

  /** Writes `<dir>/packages/x/<name>.mjs` and returns the function that runs it. */
  fn(
    name: string,
    source: string,
    overrides: Partial<LocalFunction> = {},
    write = true,
  ): LocalFunction {
    const file = join(this.dir, "packages", "x", `${name}.mjs`);
    if (write) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, source);
    }
    return {
      name,
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-role`,
      handler: `packages/x/${name}.handler`,
      bundleDir: this.dir,
      runtime: "nodejs22.x",
      timeoutSeconds: 3,
      memoryMb: 128,
      environment: {},
      ...overrides,
    };
  }

  /**
   * Bundles TypeScript `source` (imports resolved from the repository root) as SST does (ESM, one
   * file, the SDK inside) into `<dir>/packages/x/<name>.mjs`, and returns the function.
   */
  async built(
    name: string,
    source: string,
    overrides: Partial<LocalFunction> = {},
  ): Promise<LocalFunction> {
    await build({
      stdin: { contents: source, resolveDir: ROOT, loader: "ts", sourcefile: `${name}.ts` },
      absWorkingDir: ROOT,
      outfile: join(this.dir, "packages", "x", `${name}.mjs`),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      // CommonJS dependencies of the SDK call require(): give the ESM bundle one, as SST does.
      banner: {
        js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
      },
    });
    return this.fn(name, "", overrides, false);
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function testRuntime(
  overrides: Partial<LambdaRuntimeOptions> = {},
): LambdaRuntime & { logs: LambdaLogRecord[] } {
  const logs: LambdaLogRecord[] = [];
  const runtime = createLambdaRuntime({
    region: REGION,
    accountId: ACCOUNT,
    endpoint: "http://127.0.0.1:9",
    credentialsFor: (fn) => ({
      accessKeyId: `AKIA${fn.name
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, "")
        .slice(0, 12)}`,
      secretAccessKey: "secret",
      sessionToken: "token",
    }),
    log: (record) => logs.push(record),
    ...overrides,
  });
  return Object.assign(runtime, { logs });
}

/** Polls a condition, bounded, for effects that happen after an invoke returned. */
export async function eventually<T>(
  read: () => T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
