import type { LocalTableDefinition } from "@boarding-pass/local";

/**
 * The identity table as stacks/Data.ts declares it (keys, both GSIs, TTL). Hand-written because
 * synthesizing the app takes ~15 s; `table.test.ts` compares it with the synthesized template
 * whenever `npm run synth` has written `.sst/local/templates/Data.json`.
 */
export function identityTableDefinition(tableName: string): LocalTableDefinition {
  const index = (name: string, hash: string, range: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hash, KeyType: "HASH" as const },
      { AttributeName: range, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk", "outboxShard", "outboxAt"].map(
      (name) => ({ AttributeName: name, AttributeType: "S" as const }),
    ),
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      index("gsi1", "gsi1pk", "gsi1sk"),
      index("outbox", "outboxShard", "outboxAt"),
    ],
    TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
  };
}
