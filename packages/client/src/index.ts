/** App-side helpers for Boarding Pass: keep a guest proof, sign in, make the backend follow. */
export {
  AccountDeletionError,
  type DeleteAccountOptions,
  type DeletedAccount,
  deleteAccount,
  type ReauthenticationReason,
  ReauthenticationRequiredError,
} from "./account";
export {
  backendGuestProofSource,
  cognitoGuestProofSource,
  type GuestProof,
  type GuestProofSource,
  type GuestProofStore,
  memoryProofStore,
  tokenExpiry,
} from "./guest-proof";
export {
  detectIdentityChange,
  GuestLinkClient,
  type GuestLinkClientOptions,
  type IdentityChange,
  type IdentitySession,
  type LinkReport,
  LinkRequestError,
} from "./link-flow";
export { type AwsCredentials, type SignedRequestInput, signedFetch, signRequest } from "./signing";
