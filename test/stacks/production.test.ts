import { beforeAll, expect, test } from "vitest";
import { type SynthesizedForTest, synthesize } from "./synth";
import { resourcesOfType } from "./template-helpers";

// A separate file, hence a separate process: SST synthesizes one stage per process.
let synthesized: SynthesizedForTest;

beforeAll(async () => {
  synthesized = await synthesize("prod");
}, 480_000);

test("production keeps its data: the table is retained and deletion-protected", () => {
  const [table] = resourcesOfType(synthesized.templates, "AWS::DynamoDB::Table");
  expect(table?.DeletionPolicy).toBe("Retain");
  expect(table?.UpdateReplacePolicy).toBe("Retain");
  expect(table?.Properties?.DeletionProtectionEnabled).toBe(true);
});

test("production keeps its users: the user pool is retained and deletion-protected", () => {
  const [pool] = resourcesOfType(synthesized.templates, "AWS::Cognito::UserPool");
  expect(pool?.DeletionPolicy).toBe("Retain");
  expect(pool?.Properties?.DeletionProtection).toBe("ACTIVE");
});

test("production passes cdk-nag too", () => {
  expect(synthesized.nagErrors).toEqual([]);
});

test("production logs at INFO, never DEBUG", () => {
  const functions = resourcesOfType(synthesized.templates, "AWS::Lambda::Function").filter((fn) =>
    String(fn.Properties?.Handler).startsWith("packages/functions/"),
  );
  expect(functions.length).toBeGreaterThan(0);
  for (const fn of functions) {
    expect(fn.Properties?.Environment?.Variables?.POWERTOOLS_LOG_LEVEL, fn.logicalId).toBe("INFO");
  }
});
