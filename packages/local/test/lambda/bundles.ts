/**
 * Tiny handler bundles laid out as SST lays out its artifacts (`<bundleDir>/packages/x/<file>`),
 * and a runtime over them with fixed credentials. The directory is removed by `cleanup()`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createLambdaRuntime } from "../../src/lambda/runtime";
import type {
  LambdaLogRecord,
  LambdaRuntime,
  LambdaRuntimeOptions,
  LocalFunction,
} from "../../src/lambda/types";

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";

export class Bundles {
  readonly dir = mkdtempSync(join(tmpdir(), "lambda-bundles-"));

  /** Writes `<dir>/packages/x/<name>.mjs` and returns the function that runs it. */
  fn(name: string, source: string, overrides: Partial<LocalFunction> = {}): LocalFunction {
    const file = join(this.dir, "packages", "x", `${name}.mjs`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, source);
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
