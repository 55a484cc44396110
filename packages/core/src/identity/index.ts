/**
 * `@boarding-pass/core/identity`: the identity graph of the identity pool. Guest proofs, link and
 * merge (ADR 0006), the IoT policy lifecycle, guest data, and the deletion of a user (ADR 0007).
 * Ports in `./ports`; their adapters in `@boarding-pass/core/adapters/*`.
 */
export { describeUser, type EnsureIotDeps, ensureCallerIot, releaseUserIdentities } from "./attach";
export { authenticatedCaller, identifyCaller } from "./caller";
export {
  type DataCaller,
  getPreferences,
  MAX_DOCUMENT_BYTES,
  type PreferencesDeps,
  putPreferences,
} from "./data";
export { type DeleteUserDeps, deleteUser } from "./delete-user";
export {
  COGNITO_IDENTITY_ISSUER,
  COGNITO_IDENTITY_JWKS_URI,
  GUEST_PROOF_MESSAGES,
} from "./guest-proof";
export { type GuestProofIssuerDeps, issueGuestProof } from "./guest-proof-issuer";
export { DEFAULT_GUEST_PROOF_LIMIT, type GuestProofLimit } from "./guest-proof-quota";
export { type LinkDeps, linkIdentity } from "./link";
export type { IdentityGraph, IdentityPoolDirectory, ProfileReader, UserAccounts } from "./ports";
export { type RecentSessionPolicy, requireRecentSession } from "./session";
