import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { identityTableDefinition } from "@boarding-pass/testing/identity-table";
import { describe, expect, it } from "vitest";

const TEMPLATE = join(import.meta.dirname, "../../../.sst/local/templates/Data.json");

interface CfnTable {
  Type: string;
  Properties: Record<string, unknown>;
}

const byName = <T extends { AttributeName?: string; IndexName?: string }>(items: T[] = []) =>
  [...items].sort((a, b) =>
    String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)),
  );

describe("the test table matches stacks/Data.ts", () => {
  it("keys, indexes and TTL equal the synthesized template's (when `npm run synth` has run)", () => {
    const local = identityTableDefinition("t");
    if (!existsSync(TEMPLATE)) {
      // Without a synthesized template, pin the shape ADR 0004 relies on.
      expect(local.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([
        "gsi1",
        "outbox",
      ]);
      return;
    }
    const template = JSON.parse(readFileSync(TEMPLATE, "utf8")) as {
      Resources: Record<string, CfnTable>;
    };
    const tables = Object.values(template.Resources).filter(
      (resource) => resource.Type === "AWS::DynamoDB::Table",
    );
    expect(tables).toHaveLength(1);
    const deployed = tables[0]!.Properties as {
      AttributeDefinitions: Array<{ AttributeName: string }>;
      KeySchema: unknown;
      GlobalSecondaryIndexes: Array<{ IndexName: string }>;
      TimeToLiveSpecification: unknown;
    };
    expect(byName(local.AttributeDefinitions)).toEqual(byName(deployed.AttributeDefinitions));
    expect(local.KeySchema).toEqual(deployed.KeySchema);
    expect(byName(local.GlobalSecondaryIndexes)).toEqual(byName(deployed.GlobalSecondaryIndexes));
    expect(local.TimeToLiveSpecification).toEqual(deployed.TimeToLiveSpecification);
  });
});
