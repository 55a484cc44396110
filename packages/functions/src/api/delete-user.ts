import {
  CognitoUserAccounts,
  createCognitoClient,
} from "@boarding-pass/core/adapters/cognito-user-pool";
import {
  createDynamoDbDocumentClient,
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { primeSdkClient } from "@boarding-pass/core/adapters/sdk";
import { eventSource } from "@boarding-pass/core/events";
import type { DeleteUserDeps } from "@boarding-pass/core/identity";
import { traced } from "../observability";
import type { DeleteUserConfig } from "./config";
import { createEventClients, outboxEventSink } from "./event-sink";

/** The clients of the two deletion routes (delete-me.ts, admin-delete-user.ts), made at init. */
export function createDeletionClients() {
  return {
    dynamo: traced(createDynamoDbDocumentClient()),
    cognito: traced(createCognitoClient()),
    iot: traced(createIotClient()),
    events: createEventClients(),
  };
}

type DeletionClients = ReturnType<typeof createDeletionClients>;

/** The deletion's adapters over those clients (ADR 0007). */
export function deletionDeps(
  config: DeleteUserConfig,
  clients: DeletionClients,
  component: string,
): DeleteUserDeps {
  const { dynamo } = clients;
  return {
    graph: new DynamoIdentityGraph(dynamo, config.tableName),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    accounts: new CognitoUserAccounts(clients.cognito, config.userPoolId),
    ...outboxEventSink(dynamo, clients.events, config),
    iot: new IotClientPolicyAttachments(clients.iot),
    iotPolicyName: config.iotPolicyName,
    defaultTenant: config.defaultTenant,
    source: eventSource(config.stage, component),
    now: () => new Date(),
  };
}

/** Init-phase priming of every deletion client (kit/route.ts's `primeAtInit`). */
export const deletionPrimers = (clients: DeletionClients) => [
  () => primeDocumentClient(clients.dynamo),
  () => primeSdkClient(clients.cognito),
  () => primeSdkClient(clients.iot),
  () => primeSdkClient(clients.events.sns),
  () => primeSdkClient(clients.events.kinesis),
];
