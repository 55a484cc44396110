import { RemovalPolicy } from "aws-cdk-lib";
import { TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { type StackContext, Table } from "sst/constructs";
import { stageConfig } from "./config";

/**
 * One table for the identity domain (single-table design):
 *
 * | item                 | pk                    | sk           | gsi1pk / gsi1sk               |
 * |----------------------|-----------------------|--------------|-------------------------------|
 * | profile              | USER#<sub>            | PROFILE      |                               |
 * | federated link       | USER#<sub>            | LINK#<prov.> |                               |
 * | email claim          | EMAIL#<canonical>     | EMAIL        |                               |
 * | identity link        | IDENTITY#<identityId> | IDENTITY     | USER#<sub> / IDENTITY#<id>    |
 * | guest data           | IDENTITY#<identityId> | DATA#<name>  |                               |
 * | user deletion        | DELETION#<sub>        | DELETION     |                               |
 * | pending outbox event | (on the item it belongs to: `outboxShard` / `outboxAt` set)       |
 *
 * Partition-key prefixes are owners: stacks/table-access.ts confines each function to its own
 * (ADR 0010). `gsi1` answers "which identities belong to this user"; `outbox` is sparse: only
 * items with unpublished events carry its keys, so the relay reads exactly the work it has to do.
 * No transactions and no streams are needed (ADR 0004), which keeps the design identical on
 * AWS and on dynalite.
 */
export function Data({ stack, app }: StackContext) {
  const { isProduction } = stageConfig(app.stage);

  const table = new Table(stack, "Identity", {
    fields: {
      pk: "string",
      sk: "string",
      gsi1pk: "string",
      gsi1sk: "string",
      outboxShard: "string",
      outboxAt: "string",
    },
    primaryIndex: { partitionKey: "pk", sortKey: "sk" },
    globalIndexes: {
      gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
      outbox: { partitionKey: "outboxShard", sortKey: "outboxAt" },
    },
    timeToLiveAttribute: "expiresAt",
    cdk: {
      table: {
        // SST enables point-in-time recovery on every table it creates; the stack test pins it.
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection: isProduction,
        removalPolicy: isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      },
    },
  });

  stack.addOutputs({ TableName: table.tableName });
  return { table };
}
