import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ResourceNotFoundException,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../src/index";

describe("DynamoDB through the edge", () => {
  let aws: LocalAws;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    aws = await startLocalAws({ port: 0 });
    client = new DynamoDBClient({
      endpoint: aws.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    documents = DynamoDBDocumentClient.from(client);
  });
  afterAll(async () => {
    client?.destroy();
    await aws?.stop();
  });

  async function createProfileTable(): Promise<string> {
    const name = `profiles-${crypto.randomUUID()}`;
    await aws.createTables([
      {
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      },
    ]);
    return name;
  }

  it("stores and reads items with the document client", async () => {
    // Prepare
    const table = await createProfileTable();
    const pk = `user#${crypto.randomUUID()}`;

    // Act
    await documents.send(
      new PutCommand({ TableName: table, Item: { pk, email: "a@example.com" } }),
    );
    const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { pk } }));

    // Assess
    expect(Item).toEqual({ pk, email: "a@example.com" });
  });

  it("raises ConditionalCheckFailedException for a failed conditional write", async () => {
    const table = await createProfileTable();
    const pk = `user#${crypto.randomUUID()}`;
    await documents.send(new PutCommand({ TableName: table, Item: { pk, version: 1 } }));

    const write = documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk, version: 2 },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );

    await expect(write).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it("applies optimistic-locking updates in order", async () => {
    const table = await createProfileTable();
    const pk = `user#${crypto.randomUUID()}`;
    await documents.send(new PutCommand({ TableName: table, Item: { pk, version: 1 } }));

    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk },
        UpdateExpression: "SET version = :next",
        ConditionExpression: "version = :expected",
        ExpressionAttributeValues: { ":next": 2, ":expected": 1 },
      }),
    );
    const stale = documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk },
        UpdateExpression: "SET version = :next",
        ConditionExpression: "version = :expected",
        ExpressionAttributeValues: { ":next": 2, ":expected": 1 },
      }),
    );

    await expect(stale).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it("raises ResourceNotFoundException for a missing table", async () => {
    const read = client.send(
      new GetItemCommand({
        TableName: `missing-${crypto.randomUUID()}`,
        Key: { pk: { S: "x" } },
      }),
    );

    await expect(read).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("creates tables idempotently and keeps their TTL setting", async () => {
    // Prepare
    const table = `sessions-${crypto.randomUUID()}`;
    const definition = {
      TableName: table,
      BillingMode: "PAY_PER_REQUEST" as const,
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" as const }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" as const }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    };

    // Act
    await aws.createTables([definition]);
    await documents.send(new PutCommand({ TableName: table, Item: { pk: "kept" } }));
    await aws.createTables([definition]);

    // Assess
    const { Item } = await documents.send(
      new GetCommand({ TableName: table, Key: { pk: "kept" } }),
    );
    expect(Item).toEqual({ pk: "kept" });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: "ENABLED",
      AttributeName: "expiresAt",
    });
  });

  it("answers UpdateTimeToLive from the SDK, rejecting a repeat like AWS", async () => {
    const table = await createProfileTable();
    const enable = new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
    });

    const first = await client.send(enable);
    const second = client.send(enable);

    expect(first.TimeToLiveSpecification).toEqual({ AttributeName: "ttl", Enabled: true });
    await expect(second).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("raises ResourceNotFoundException for TTL of a missing table", async () => {
    const describeTtl = client.send(
      new DescribeTimeToLiveCommand({ TableName: `missing-${crypto.randomUUID()}` }),
    );

    await expect(describeTtl).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("serves CORS on DynamoDB responses for browser clients", async () => {
    const table = await createProfileTable();

    const response = await fetch(aws.endpoint, {
      method: "POST",
      headers: {
        origin: "http://localhost:5173",
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.DescribeTable",
        "x-amz-date": "20250101T000000Z",
        authorization:
          "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify({ TableName: table }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a foreign web page on dynalite's own port, which would answer it with `*`", async () => {
    const table = await createProfileTable();
    const describeTable = (origin: string) =>
      fetch(aws.dynamodb.directEndpoint, {
        method: "POST",
        headers: {
          origin,
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.DescribeTable",
          "x-amz-date": "20250101T000000Z",
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: JSON.stringify({ TableName: table }),
      });

    const foreign = await describeTable("https://evil.example");
    const loopback = await describeTable("http://localhost:5173");

    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ __type: "AccessDeniedException" });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(loopback.status).toBe(200);
  });

  it("fails a plain CreateTable of an existing table with ResourceInUseException", async () => {
    const table = await createProfileTable();

    const again = client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );

    await expect(again).rejects.toMatchObject({ name: "ResourceInUseException" });
  });

  it("rejects transactions visibly, since they are not emulated (see docs/local-cloud.md)", async () => {
    const table = await createProfileTable();

    const transaction = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: table, Item: { pk: { S: crypto.randomUUID() } } } }],
      }),
    );

    await expect(transaction).rejects.toMatchObject({ name: "UnknownOperationException" });
  });
});

describe("DynamoDB through the edge over the loopback transport", () => {
  it("answers like the in-process transport", async () => {
    // Prepare
    const aws = await startLocalAws({ port: 0, dynamoDbTransport: "loopback" });
    const client = new DynamoDBClient({
      endpoint: aws.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      const table = `profiles-${crypto.randomUUID()}`;
      await aws.createTables([
        {
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        },
      ]);
      const documents = DynamoDBDocumentClient.from(client);

      // Act
      await documents.send(new PutCommand({ TableName: table, Item: { pk: "a", n: 1 } }));
      const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { pk: "a" } }));

      // Assess
      expect(Item).toEqual({ pk: "a", n: 1 });
    } finally {
      client.destroy();
      await aws.stop();
    }
  });
});
