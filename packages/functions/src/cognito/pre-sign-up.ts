import {
  createDynamoDbDocumentClient,
  DynamoEmailClaimStore,
  DynamoFederatedLinkStore,
  DynamoOutboxStore,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import {
  lazyCognitoDirectory,
  lazySnsKinesisEventPublisher,
} from "@boarding-pass/core/adapters/on-first-use";
import { type EventPublisher, eventSource } from "@boarding-pass/core/events";
import { preSignUpConfig } from "../config";
import { traced } from "../observability";
import { createPreSignUpHandler } from "./handlers/pre-sign-up";

/** Without events configuration the link event waits in the outbox for the relay. */
const relayOnly: EventPublisher = {
  publish: async (events) => ({
    published: [],
    failed: events.map((event) => ({ id: event.id, reason: "NoInlinePublisher" })),
  }),
};

const config = preSignUpConfig();
const dynamodb = traced(createDynamoDbDocumentClient());

export const handler = createPreSignUpHandler({
  policy: config.policy,
  claims: new DynamoEmailClaimStore(dynamodb, config.tableName),
  links: new DynamoFederatedLinkStore(dynamodb, config.tableName),
  profiles: new DynamoProfileStore(dynamodb, config.tableName),
  outbox: new DynamoOutboxStore(dynamodb, config.tableName),
  publisher:
    config.events === undefined
      ? relayOnly
      : lazySnsKinesisEventPublisher({ ...config.events, capture: traced }),
  // Only a federated sign-up from a trusted provider reaches Cognito's admin API: its client is
  // made then, so the native sign-up path loads DynamoDB alone.
  directory: lazyCognitoDirectory(undefined, traced),
  defaults: config.defaults,
  source: eventSource(config.stage, "pre-sign-up"),
});
