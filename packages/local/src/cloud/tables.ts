import type { LocalTableDefinition } from "../services/dynamodb/index";

interface CfnTableProperties {
  TableName?: unknown;
  AttributeDefinitions?: { AttributeName: string; AttributeType: "S" | "N" | "B" }[];
  KeySchema?: { AttributeName: string; KeyType: "HASH" | "RANGE" }[];
  GlobalSecondaryIndexes?: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: "HASH" | "RANGE" }[];
    Projection: { ProjectionType?: "ALL" | "KEYS_ONLY" | "INCLUDE"; NonKeyAttributes?: string[] };
  }[];
  LocalSecondaryIndexes?: CfnTableProperties["GlobalSecondaryIndexes"];
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  StreamSpecification?: { StreamViewType: string };
}

interface TemplateLike {
  Resources: Record<string, { Type: string; Properties?: unknown }>;
}

/**
 * The `AWS::DynamoDB::Table` resources of a synthesized template as CreateTable inputs for the
 * local DynamoDB: keys, indexes and TTL exactly as the stack declares them, so the local tables
 * are never a hand-written second copy. Billing is on-demand locally whatever the stack says
 * (dynalite ignores capacity). A table whose name is not a literal gets its logical id as name,
 * unless `nameOf` says otherwise (the local cloud maps generated names).
 */
export function tableDefinitionsFromTemplate(
  template: TemplateLike,
  nameOf: (logicalId: string, declared: unknown) => string = (logicalId, declared) =>
    typeof declared === "string" ? declared : logicalId,
): LocalTableDefinition[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::DynamoDB::Table")
    .map(([logicalId, resource]) => {
      const p = (resource.Properties ?? {}) as CfnTableProperties;
      if (!p.KeySchema || !p.AttributeDefinitions) {
        throw new Error(`Table ${logicalId} has no KeySchema or AttributeDefinitions`);
      }
      const definition: LocalTableDefinition = {
        TableName: nameOf(logicalId, p.TableName),
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        BillingMode: "PAY_PER_REQUEST",
      };
      if (p.GlobalSecondaryIndexes?.length) {
        definition.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes.map((index) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        }));
      }
      if (p.LocalSecondaryIndexes?.length) {
        definition.LocalSecondaryIndexes = p.LocalSecondaryIndexes.map((index) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        }));
      }
      if (p.TimeToLiveSpecification) {
        definition.TimeToLiveSpecification = p.TimeToLiveSpecification;
      }
      return definition;
    });
}
