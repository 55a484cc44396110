import { createRequire } from "node:module";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Bundles, testRuntime } from "./bundles";

describe("Lambda runtime: an unmodified SDK v3 client inside a function reaches the local plane", () => {
  const bundles = new Bundles();
  const endpoint = inject("localAwsEndpoint");
  const runtime = testRuntime({
    endpoint,
    credentialsFor: () => ({
      accessKeyId: "ASIALOCALROLE",
      secretAccessKey: "s",
      sessionToken: "t",
    }),
  });
  afterAll(async () => {
    await runtime.close();
    bundles.cleanup();
  });

  it("writes through AWS_ENDPOINT_URL with the role's credentials from the environment", async () => {
    // Arrange: the bundle resolves the SDK from the repository, as an SST bundle carries its own.
    const sdk = createRequire(import.meta.url).resolve("@aws-sdk/client-dynamodb");
    const table = `lambda-sdk-${crypto.randomUUID()}`;
    runtime.register(
      bundles.fn(
        "writer",
        `import { createRequire } from "node:module";
const { DynamoDBClient, CreateTableCommand, PutItemCommand } = createRequire(import.meta.url)(${JSON.stringify(sdk)});
const client = new DynamoDBClient({}); // region, endpoint and credentials from the environment only
export const handler = async (event) => {
  await client.send(new CreateTableCommand({
    TableName: event.table,
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  await client.send(new PutItemCommand({ TableName: event.table, Item: { pk: { S: "from-lambda" } } }));
  const credentials = await client.config.credentials();
  return { accessKeyId: credentials.accessKeyId, sessionToken: credentials.sessionToken };
};`,
        { timeoutSeconds: 10 },
      ),
    );

    // Act
    const result = await runtime.invoke("writer", { table });

    // Assess
    expect(result).toMatchObject({
      ok: true,
      payload: { accessKeyId: "ASIALOCALROLE", sessionToken: "t" },
    });
    const dynamo = new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const item = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: "from-lambda" } } }),
    );
    dynamo.destroy();
    expect(item.Item).toEqual({ pk: { S: "from-lambda" } });
  });
});
