import { CognitoAdmin, createCognitoClient } from "@boarding-pass/core/adapters/cognito-user-pool";
import {
  type DynamoDBDocumentClient,
  DynamoEmailClaimStore,
  DynamoFederatedLinkStore,
  DynamoOutboxStore,
  DynamoProfileStore,
} from "@boarding-pass/core/adapters/dynamodb";
import {
  createKinesisClient,
  createSnsClient,
  SnsKinesisEventPublisher,
  type SnsKinesisPublisherOptions,
} from "@boarding-pass/core/adapters/sns-kinesis";
import { eventSource } from "@boarding-pass/core/events";
import { parseSignUpPolicy } from "@boarding-pass/core/sign-up";
import { parseRoleCatalog } from "@boarding-pass/core/token-claims";
import type { Plane } from "@boarding-pass/testing/trigger-plane";
import { ROLE_CATALOG, SIGNUP_POLICY } from "@boarding-pass/testing/trigger-plane";

/**
 * The real adapters against the plane, for the handler factories. Tests replace one piece with a
 * faulty wrapper to inject a fault; everything else stays real.
 */
export function realDeps(plane: Plane, overrides: { dynamodb?: DynamoDBDocumentClient } = {}) {
  const dynamodb = overrides.dynamodb ?? plane.dynamodb;
  const sns = createSnsClient(plane.sdk);
  const kinesis = createKinesisClient(plane.sdk);
  const cognito = createCognitoClient(plane.sdk);
  const publisher = (options: Partial<SnsKinesisPublisherOptions> = {}) =>
    new SnsKinesisEventPublisher({
      sns,
      kinesis,
      topicArn: plane.topicArn,
      streamName: plane.streamName,
      baseDelayMs: 1,
      ...options,
    });
  const claims = new DynamoEmailClaimStore(dynamodb, plane.tableName);
  return {
    sns,
    kinesis,
    cognito,
    publisher,
    profiles: new DynamoProfileStore(dynamodb, plane.tableName),
    outbox: new DynamoOutboxStore(dynamodb, plane.tableName),
    claims,
    emailClaims: { store: claims, foldAliases: true },
    links: new DynamoFederatedLinkStore(dynamodb, plane.tableName),
    admin: (userPoolId: string) => new CognitoAdmin(cognito, userPoolId),
    catalog: parseRoleCatalog(JSON.stringify(ROLE_CATALOG)),
    policy: parseSignUpPolicy(JSON.stringify(SIGNUP_POLICY)),
    source: (component: string) => eventSource("local", component),
  };
}
