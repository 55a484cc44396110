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
} from "@boarding-pass/core/adapters/dynamodb";
import { createIotClient, IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { JwtOpenIdTokenVerifier } from "@boarding-pass/core/adapters/jwt-verifier";
import { createKmsClient, kmsPublicJwks } from "@boarding-pass/core/adapters/kms";
import { eventSource } from "@boarding-pass/core/events";
import { IdentityId, type LinkDeps, linkIdentity } from "@boarding-pass/core/identity";
import * as z from "@boarding-pass/core/zod";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger, traced } from "../observability";
import { linkIdentityConfig } from "./config";
import { outboxEventSink } from "./event-sink";
import { callerOf, errorResponse, json, parseJsonBody } from "./http";

/**
 * `POST /identity/link` (IAM): after sign-in, the app sends the guest proof it kept
 * (`GetOpenIdToken` of its guest identity). The caller is the signed-in identity from the
 * request context; the body never names it. Answers what happened: `linked` (same identity) or
 * `merged` (the guest was folded into the caller's identity).
 */

export const LinkIdentityBody = z.strictObject({
  /** The guest identity's OpenID token (a JWT, at most a few KB). */
  guestProof: z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(8192),
      z.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a JWT"),
    ),
  /** Optional: the guest identity id the app held; must be the proof's `sub`. */
  guestIdentityId: z.optional(IdentityId),
});

export function createLinkIdentityHandler(deps: LinkDeps) {
  return async function linkIdentityRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const caller = callerOf(event);
      const body = parseJsonBody(event, LinkIdentityBody);
      const result = await linkIdentity(
        {
          caller,
          guestProof: body.guestProof,
          ...(body.guestIdentityId !== undefined ? { guestIdentityId: body.guestIdentityId } : {}),
        },
        deps,
      );
      logger.info("identity link", {
        outcome: result.outcome,
        alreadyDone: result.alreadyDone,
        eventsPending: result.events.filter((e) => !e.published).length,
      });
      return json(200, result);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/** Adapters over module-scope clients; the verifier (and its JWKS cache) lives as long as the Lambda. */
export function linkDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): LinkDeps {
  const config = linkIdentityConfig(env);
  const dynamo = traced(createDynamoDbDocumentClient());
  const graph = new DynamoIdentityGraph(dynamo, config.tableName);
  const self = config.guestProof.self;
  return {
    graph,
    data: new DynamoIdentityDataStore(dynamo, config.tableName),
    ...outboxEventSink(dynamo, config),
    profiles: new DynamoProfileStore(dynamo, config.tableName),
    identityPool: new CognitoIdentityPoolDirectory(traced(createCognitoIdentityClient())),
    deletions: new DynamoUserDeletionStore(dynamo, config.tableName),
    verifier: new JwtOpenIdTokenVerifier({
      identityPoolId: config.identityPoolId,
      issuers: [
        config.guestProof.cognito,
        ...(self !== undefined
          ? [
              {
                issuer: self.issuer,
                jwks: () => kmsPublicJwks(traced(createKmsClient()), self.keyId),
              },
            ]
          : []),
      ],
    }),
    iot: new IotClientPolicyAttachments(traced(createIotClient())),
    identityPoolId: config.identityPoolId,
    iotPolicyName: config.iotPolicyName,
    source: eventSource(config.stage, "link-identity"),
    now: () => new Date(),
  };
}

let route: ReturnType<typeof createLinkIdentityHandler> | undefined;

/** Built on the first invocation (the cold start) and reused: one verifier, one set of clients. */
export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  route ??= createLinkIdentityHandler(linkDepsFromEnvironment());
  return route(event);
};
