import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { expect, inject, test } from "vitest";

test("the embedded DynamoDB answers real SDK calls on loopback", async () => {
  const client = new DynamoDBClient({
    endpoint: inject("localAwsEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const name = `smoke-${crypto.randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
  const tables = await client.send(new ListTablesCommand({}));
  expect(tables.TableNames).toContain(name);
});
