import { createDynamoDbDocumentClient } from "@boarding-pass/core/adapters/dynamodb";
import { DynamoIdentityGraph } from "@boarding-pass/core/adapters/identities/dynamodb-identity-graph";
import {
  createKmsClient,
  KmsJwtSigner,
} from "@boarding-pass/core/adapters/identities/kms-jwt-signer";
import { type GuestProofIssuerDeps, issueGuestProof } from "@boarding-pass/core/identities/index";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { logger, traced } from "../observability";
import { issueGuestProofConfig } from "./config";
import { callerOf, errorResponse, json } from "./http";

/**
 * `POST /identity/guest-proof` (IAM, guest role): a 10-minute proof that the caller holds its
 * guest identity, for the link route after sign-in. Needed because `GetOpenIdToken` is refused on
 * pools with classic flow off (ADR 0006). Not yet routed in stacks/Api.ts.
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
    route = createIssueGuestProofHandler({
      signer: new KmsJwtSigner(traced(createKmsClient()), config.keyId),
      graph: new DynamoIdentityGraph(traced(createDynamoDbDocumentClient()), config.tableName),
      identityPoolId: config.identityPoolId,
      issuer: config.issuer,
      now: () => new Date(),
    });
  }
  return route(event);
};
