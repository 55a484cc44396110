import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalAws,
  type LocalService,
  ServiceAlreadyRegisteredError,
  startLocalAws,
} from "../src/index";

describe("reset of an in-memory plane", () => {
  let aws: LocalAws;
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };

  beforeAll(async () => {
    aws = await startLocalAws({ port: 0 });
  });
  afterAll(async () => {
    await aws?.stop();
  });

  it("wipes DynamoDB, Kinesis and every registered service, and keeps serving", async () => {
    // Prepare
    const table = `profiles-${crypto.randomUUID()}`;
    const stream = `events-${crypto.randomUUID()}`;
    let snsResets = 0;
    const sns: LocalService = {
      name: "sns",
      handle: async () => ({ status: 200, body: "" }),
      reset: async () => {
        snsResets++;
      },
      close: async () => {},
    };
    aws.register(sns);
    await aws.createTables([
      {
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      },
    ]);
    const kinesis = new KinesisClient({ endpoint: aws.endpoint, region: "us-east-1", credentials });
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));

    // Act
    await aws.reset();

    // Assess
    const dynamo = new DynamoDBClient({ endpoint: aws.endpoint, region: "us-east-1", credentials });
    const { TableNames } = await dynamo.send(new ListTablesCommand({}));
    expect(TableNames).not.toContain(table);
    const { StreamNames } = await kinesis.send(new ListStreamsCommand({}));
    expect(StreamNames).not.toContain(stream);
    expect(snsResets).toBe(1);
    expect(() => aws.register(sns)).toThrow(ServiceAlreadyRegisteredError);
    dynamo.destroy();
    kinesis.destroy();
  });
});
