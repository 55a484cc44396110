import {
  CognitoIdentityPoolDirectory,
  createCognitoIdentityClient,
} from "@boarding-pass/core/adapters/cognito-identity-pool";
import {
  createDynamoDbDocumentClient,
  DynamoIdentityDataStore,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { JwtOpenIdTokenVerifier } from "@boarding-pass/core/adapters/jwt-verifier";
import { createKmsClient, kmsPublicJwks } from "@boarding-pass/core/adapters/kms";
import { primeSdkClient } from "@boarding-pass/core/adapters/sdk";
import { eventSource } from "@boarding-pass/core/events";
import { primeAtInit } from "../kit/route";
import { traced } from "../observability";
import { linkIdentityConfig } from "./config";
import { createEventClients, outboxEventSink } from "./event-sink";
import { createLinkIdentityHandler } from "./handlers/link-identity";

/**
 * `POST /identity/link` (IAM): see handlers/link-identity.ts. Built at init and reused: one
 * verifier (and its JWKS cache), one set of clients.
 */
const config = linkIdentityConfig();
const self = config.guestProof.self;
const dynamo = traced(createDynamoDbDocumentClient());
const identityPool = traced(createCognitoIdentityClient());
const iot = traced(createIotClient());
const kms = traced(createKmsClient());
const events = createEventClients();

export const handler = createLinkIdentityHandler({
  graph: new DynamoIdentityGraph(dynamo, config.tableName),
  data: new DynamoIdentityDataStore(dynamo, config.tableName),
  ...outboxEventSink(dynamo, events, config),
  profiles: new DynamoProfileStore(dynamo, config.tableName),
  identityPool: new CognitoIdentityPoolDirectory(identityPool),
  deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
  verifier: new JwtOpenIdTokenVerifier({
    identityPoolId: config.identityPoolId,
    issuers: [
      config.guestProof.cognito,
      ...(self !== undefined
        ? [{ issuer: self.issuer, jwks: () => kmsPublicJwks(kms, self.keyId) }]
        : []),
    ],
  }),
  iot: new IotClientPolicyAttachments(iot),
  identityPoolId: config.identityPoolId,
  iotPolicyName: config.iotPolicyName,
  source: eventSource(config.stage, "link-identity"),
  now: () => new Date(),
});

await primeAtInit(
  () => primeDocumentClient(dynamo),
  ...[identityPool, iot, kms, events.sns, events.kinesis].map(
    (client) => () => primeSdkClient(client),
  ),
);
