import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type SdkClientOptions, sdkClientConfig } from "../sdk";

export type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The document client every DynamoDB adapter uses; make one per Lambda, at module scope. */
export function createDynamoDbDocumentClient(
  options: SdkClientOptions = {},
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(sdkClientConfig(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
