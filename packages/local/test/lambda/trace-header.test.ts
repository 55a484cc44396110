/**
 * Lambda sets `_X_AMZN_TRACE_ID` in the environment for each invocation; tracing libraries
 * (Powertools Tracer, aws-xray-sdk) read it on every call and log "Missing AWS Lambda trace data"
 * without it. The local runtime gives each invocation its own, not sampled.
 */
import { afterAll, expect, inject, it } from "vitest";
import { Bundles, testRuntime } from "./bundles";

const bundles = new Bundles();
const runtime = testRuntime({ endpoint: inject("localAwsEndpoint") });

afterAll(async () => {
  await runtime.close();
  bundles.cleanup();
});

it("gives every invocation its own trace header, in Lambda's format", async () => {
  const fn = bundles.fn(
    "traced",
    "export const handler = async () => process.env._X_AMZN_TRACE_ID;",
  );
  runtime.register(fn);

  const before = Math.floor(Date.now() / 1000);
  const first = await runtime.invoke(fn.arn, {});
  const second = await runtime.invoke(fn.arn, {});
  const after = Math.ceil(Date.now() / 1000);

  const headers = [first, second].map((result) => (result as { payload: string }).payload);
  for (const header of headers) {
    expect(header).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    // The Root's first part is the epoch second, in hex, as X-Ray trace ids are.
    const epoch = Number.parseInt(/Root=1-([0-9a-f]{8})-/.exec(header)![1]!, 16);
    expect(epoch).toBeGreaterThanOrEqual(before);
    expect(epoch).toBeLessThanOrEqual(after);
  }
  expect(headers[0]).not.toBe(headers[1]);
});
