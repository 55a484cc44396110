import { InvalidCallerError } from "../errors";
import { IdentityId } from "./model";

/**
 * The caller as API Gateway's IAM authorizer saw it (`requestContext.authorizer.iam
 * .cognitoIdentity`): the identity whose credentials signed the request. Never from the body.
 */
export interface CallerIdentity {
  identityId: string;
  identityPoolId: string;
  amr: readonly string[];
}

export interface AuthenticatedCaller {
  identityId: string;
  /** User-pool `sub`, from the `<provider>:CognitoSignIn:<sub>` amr entry. */
  userSub: string;
  /** Provider names of the identity's logins (no tokens, no subs). */
  logins: string[];
}

const COGNITO_SIGN_IN =
  /^cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9-]+_[0-9A-Za-z]+:CognitoSignIn:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Checks the caller belongs to our pool; `requireSignedIn` also demands a user-pool login. */
export function identifyCaller(
  caller: CallerIdentity,
  expectedPoolId: string,
): { identityId: string; authenticated: boolean } {
  if (caller.identityPoolId !== expectedPoolId) {
    throw new InvalidCallerError("The caller's identity is not from this identity pool");
  }
  if (!IdentityId.safeParse(caller.identityId).success) {
    throw new InvalidCallerError("The caller's identity id is malformed");
  }
  return { identityId: caller.identityId, authenticated: caller.amr.includes("authenticated") };
}

export function authenticatedCaller(
  caller: CallerIdentity,
  expectedPoolId: string,
): AuthenticatedCaller {
  const { identityId, authenticated } = identifyCaller(caller, expectedPoolId);
  if (!authenticated) throw new InvalidCallerError("The caller is not signed in");
  let userSub: string | undefined;
  const logins = new Set<string>();
  for (const entry of caller.amr) {
    const match = COGNITO_SIGN_IN.exec(entry);
    if (match) {
      userSub = match[1];
      continue;
    }
    if (entry !== "authenticated" && entry !== "unauthenticated") logins.add(entry);
  }
  if (userSub === undefined) {
    throw new InvalidCallerError("The caller did not sign in through the user pool");
  }
  return { identityId, userSub, logins: [...logins].sort() };
}
