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
import { SignUpRejectedError } from "@boarding-pass/core/errors";
import { type EventPublisher, eventSource } from "@boarding-pass/core/events";
import { type PreSignUpDeps, preSignUp, type UserDirectory } from "@boarding-pass/core/sign-up";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { preSignUpConfig } from "../config";
import { trigger } from "../kit/trigger";
import { logger, MetricUnit, metrics, remainingTimeOf, traced } from "../observability";
import { attributesOf, isRecord } from "./trigger-input";

/**
 * Pre sign-up: the stage's sign-up policy, one account per mailbox (canonical, provider aliases
 * folded, mixed-script local parts refused, stale unconfirmed claims taken over; see
 * docs/sign-up-policy.md), and safe linking of federated users (only `decideFederatedLink` says
 * link). Unknown trigger sources pass through
 * unchanged; refusals throw a short message Cognito shows as
 * `PreSignUp failed with error <message>.`
 */

export const UNAVAILABLE_MESSAGE = "Sign-up is temporarily unavailable. Please try again.";

export type PreSignUpHandlerDeps = Omit<PreSignUpDeps, "directory" | "remainingMs"> & {
  directory: (userPoolId: string) => UserDirectory;
  now?: () => Date;
};

export function createPreSignUpHandler(deps: PreSignUpHandlerDeps) {
  return trigger({
    keys: (event) => ({ triggerSource: isRecord(event) ? event.triggerSource : undefined }),
    refusal: (error) =>
      error instanceof SignUpRejectedError
        ? { message: error.userMessage, log: "sign-up rejected", metric: "SignUpRejected" }
        : undefined,
    failure: { log: "pre sign-up failed", metric: "PreSignUpFailed", message: UNAVAILABLE_MESSAGE },
    async handle(event: PreSignUpTriggerEvent, context): Promise<PreSignUpTriggerEvent> {
      const attributes = attributesOf(event);
      const outcome = await preSignUp(
        {
          triggerSource: String(isRecord(event) ? event.triggerSource : undefined),
          userName: typeof event.userName === "string" ? event.userName : "",
          email: attributes.email,
          emailVerified: attributes.email_verified,
          now: deps.now?.() ?? new Date(),
        },
        {
          ...deps,
          directory: deps.directory(String(event.userPoolId)),
          remainingMs: remainingTimeOf(context),
        },
      );
      if (outcome.action === "pass-through") {
        logger.info("pre sign-up passed through", { reason: outcome.reason });
        return event;
      }
      logger.info("sign-up allowed", {
        autoConfirmUser: outcome.autoConfirmUser,
        autoVerifyEmail: outcome.autoVerifyEmail,
        emailClaim: outcome.emailClaim,
        ...(outcome.link !== undefined ? { link: outcome.link } : {}),
      });
      if (outcome.link?.action === "link")
        metrics.addMetric("FederatedLinked", MetricUnit.Count, 1);
      const response: Record<string, unknown> = isRecord(event.response) ? event.response : {};
      event.response = {
        ...response,
        autoConfirmUser: outcome.autoConfirmUser,
        autoVerifyEmail: outcome.autoVerifyEmail,
        autoVerifyPhone: response.autoVerifyPhone === true,
      };
      return event;
    },
  });
}

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
