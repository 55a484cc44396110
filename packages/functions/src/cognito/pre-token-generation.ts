import {
  createDynamoDbDocumentClient,
  DynamoEmailClaimStore,
  DynamoOutboxStore,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { type EventPublisher, eventSource } from "@boarding-pass/core/events";
import { preTokenGenerationConfig } from "../config";
import { traced } from "../observability";
import { createPreTokenGenerationHandler } from "./handlers/pre-token-generation";

/**
 * The hot path publishes nothing itself: a repair's `profile.repaired` waits in the outbox for the
 * relay (within a minute). That keeps SNS and Kinesis clients out of the bundle and off every
 * sign-in, and a repair happens once per user.
 */
const relayOnly: EventPublisher = {
  publish: async (events) => ({
    published: [],
    failed: events.map((event) => ({ id: event.id, reason: "PublishedByRelay" })),
  }),
};

const config = preTokenGenerationConfig();
const dynamodb = traced(createDynamoDbDocumentClient());

export const handler = createPreTokenGenerationHandler({
  profiles: new DynamoProfileStore(dynamodb, config.tableName),
  outbox: new DynamoOutboxStore(dynamodb, config.tableName),
  publisher: relayOnly,
  catalog: config.catalog,
  defaults: config.defaults,
  source: eventSource(config.stage, "pre-token-generation"),
  emailClaims: {
    store: new DynamoEmailClaimStore(dynamodb, config.tableName),
    foldAliases: config.foldMailboxAliases,
  },
});
