import {
  CognitoIdentityPoolDirectory,
  createCognitoIdentityClient,
} from "@boarding-pass/core/adapters/cognito-identity-pool";
import {
  createDynamoDbDocumentClient,
  DynamoGuestProofQuotaStore,
  DynamoIdentityGraph,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { createKmsClient, KmsJwtSigner } from "@boarding-pass/core/adapters/kms";
import { primeSdkClient } from "@boarding-pass/core/adapters/sdk";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { issueGuestProofConfig } from "./config";
import { createIssueGuestProofHandler } from "./handlers/issue-guest-proof";

/** `POST /identity/guest-proof` (IAM, guest role): see handlers/issue-guest-proof.ts. */
const config = issueGuestProofConfig();
const dynamo = traced(createDynamoDbDocumentClient());
const kms = traced(createKmsClient());
const identityPool = traced(createCognitoIdentityClient());

export const handler = createIssueGuestProofHandler({
  signer: new KmsJwtSigner(kms, config.keyId),
  graph: new DynamoIdentityGraph(dynamo, config.tableName),
  identityPool: new CognitoIdentityPoolDirectory(identityPool),
  quota: new DynamoGuestProofQuotaStore(dynamo, config.tableName),
  limit: config.limit,
  identityPoolId: config.identityPoolId,
  issuer: config.issuer,
  now: () => new Date(),
});

await primeAtInit(
  () => primeDocumentClient(dynamo),
  () => primeSdkClient(kms),
  () => primeSdkClient(identityPool),
);
