/**
 * `@boarding-pass/core/adapters/dynamodb`: the ports of core over the single identity table
 * (stacks/Data.ts), every item key in `./keys`.
 */
export {
  createDynamoDbDocumentClient,
  type DynamoDBDocumentClient,
  primeDocumentClient,
} from "./client";
export { DynamoEmailClaimStore } from "./email-claim-store";
export { DynamoFederatedLinkStore } from "./federated-link-store";
export { DynamoGuestProofQuotaStore } from "./guest-proof-quota";
export { DynamoIdentityDataStore } from "./identity-data";
export { DynamoIdentityGraph } from "./identity-graph";
export { emailUniquenessKey, guestProofQuotaKey } from "./keys";
export { DynamoOutboxStore } from "./outbox-store";
export { DynamoProfileStore } from "./profile-store";
export { DynamoUserDeletionStore } from "./user-deletion";
