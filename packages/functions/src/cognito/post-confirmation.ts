import { CognitoAdmin, createCognitoClient } from "@boarding-pass/core/adapters/cognito-user-pool";
import {
  createDynamoDbDocumentClient,
  DynamoEmailClaimStore,
  DynamoOutboxStore,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { lazySnsKinesisEventPublisher } from "@boarding-pass/core/adapters/on-first-use";
import { eventSource } from "@boarding-pass/core/events";
import { postConfirmationConfig } from "../config";
import { traced } from "../observability";
import { createPostConfirmationHandler } from "./handlers/post-confirmation";

const config = postConfirmationConfig();
const dynamodb = traced(createDynamoDbDocumentClient());
const cognito = traced(createCognitoClient());

export const handler = createPostConfirmationHandler({
  profiles: new DynamoProfileStore(dynamodb, config.tableName),
  outbox: new DynamoOutboxStore(dynamodb, config.tableName),
  claims: new DynamoEmailClaimStore(dynamodb, config.tableName),
  // SNS and Kinesis only for a new user's event (once per user; the relay covers a miss): their
  // clients are made on the first publish, not at every cold start.
  publisher: lazySnsKinesisEventPublisher({ ...config.events, capture: traced }),
  groups: (userPoolId) => new CognitoAdmin(cognito, userPoolId),
  defaults: config.defaults,
  defaultGroup: config.defaultGroup,
  source: eventSource(config.stage, "post-confirmation"),
});
