import {
  CognitoIdentityPoolDirectory,
  createCognitoIdentityClient,
} from "@boarding-pass/core/adapters/cognito-identity-pool";
import {
  createDynamoDbDocumentClient,
  DynamoGuestProofQuotaStore,
  DynamoIdentityGraph,
} from "@boarding-pass/core/adapters/dynamodb";
import { createKmsClient, KmsJwtSigner } from "@boarding-pass/core/adapters/kms";
import { type GuestProofIssuerDeps, issueGuestProof } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger, traced } from "../observability";
import { issueGuestProofConfig } from "./config";
import { callerOf, errorResponse, json } from "./http";

/**
 * `POST /identity/guest-proof` (IAM, guest role): a 10-minute proof that the caller holds its
 * guest identity, for the link route after sign-in. Needed because `GetOpenIdToken` is refused on
 * pools with classic flow off (ADR 0006). Refused (403 `NotAGuest`) when the identity pool says
 * the identity has a login, whatever the credentials' `amr` says; limited per identity (429
 * `GuestProofLimit` with `Retry-After`).
 */
export function createIssueGuestProofHandler(deps: GuestProofIssuerDeps) {
  return async function issueGuestProofRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
    try {
      const result = await issueGuestProof({ caller: callerOf(event) }, deps);
      logger.info("guest proof issued");
      return json(200, result, { "cache-control": "no-store" });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

let route: ReturnType<typeof createIssueGuestProofHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => {
  if (route === undefined) {
    const config = issueGuestProofConfig();
    const dynamo = traced(createDynamoDbDocumentClient());
    route = createIssueGuestProofHandler({
      signer: new KmsJwtSigner(traced(createKmsClient()), config.keyId),
      graph: new DynamoIdentityGraph(dynamo, config.tableName),
      identityPool: new CognitoIdentityPoolDirectory(traced(createCognitoIdentityClient())),
      quota: new DynamoGuestProofQuotaStore(dynamo, config.tableName),
      limit: config.limit,
      identityPoolId: config.identityPoolId,
      issuer: config.issuer,
      now: () => new Date(),
    });
  }
  return route(event);
};
