/**
 * `@boarding-pass/core/sign-up`: who may sign up (the policy), one account per mailbox (email
 * canonicalisation, mailbox aliases, email claims) and federated sign-ups linked to native users.
 */
export { canonicalizeEmail } from "./email";
export { syncEmailClaim } from "./email-claim-sync";
export { claimAddressCandidates } from "./mailbox";
export { parseSignUpPolicy, SIGN_UP_DENIED_MESSAGE, SignUpPolicy } from "./policy";
export type { EmailClaimStore, UserDirectory } from "./ports";
export {
  type PreSignUpDeps,
  preSignUp,
  SIGN_UP_CODE_LIFETIME_MS,
  SIGN_UP_MESSAGES,
} from "./pre-sign-up";
