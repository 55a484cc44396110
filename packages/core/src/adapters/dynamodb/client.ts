import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { primeSdkClient, type SdkClientOptions, sdkClientConfig } from "../sdk";

export type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The document client every DynamoDB adapter uses; make one per Lambda, at module scope. */
export function createDynamoDbDocumentClient(
  options: SdkClientOptions = {},
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * Primes the document client (see `primeSdkClient`) with a GetItem that is signed but never sent:
 * the marshalling, endpoint and signing paths every DynamoDB adapter's first call takes.
 */
export function primeDocumentClient(client: DynamoDBDocumentClient): Promise<void> {
  return primeSdkClient(
    client,
    new GetCommand({ TableName: "priming", Key: { pk: "PRIMING", sk: "PRIMING" } }),
  );
}
