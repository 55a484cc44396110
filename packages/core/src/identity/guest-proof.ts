import { GuestProofRejectedError } from "../errors";
import { IdentityId } from "./model";
import type { OpenIdTokenVerifier } from "./ports";

/**
 * Issuer of every identity-pool OpenID token ("GetOpenIdToken",
 * https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdToken.html).
 */
export const COGNITO_IDENTITY_ISSUER = "https://cognito-identity.amazonaws.com";
/** The JWKS of that issuer, as its `/.well-known/openid-configuration` names it. */
export const COGNITO_IDENTITY_JWKS_URI =
  "https://cognito-identity.amazonaws.com/.well-known/jwks_uri";

interface GuestProof {
  guestIdentityId: string;
}

/**
 * Verifies a guest proof: a `GetOpenIdToken` JWT of a guest identity of our pool. The verifier
 * checked signature, issuer, audience and expiry; this adds what makes it a *guest* proof:
 * `amr` says unauthenticated (and not authenticated), `sub` is an identity id and, when the caller
 * names the guest, the same one.
 */
export async function verifyGuestProof(
  token: string,
  deps: { verifier: OpenIdTokenVerifier },
  expectedGuestId?: string,
): Promise<GuestProof> {
  const claims = await deps.verifier.verify(token);
  if (!claims.amr.includes("unauthenticated") || claims.amr.includes("authenticated")) {
    throw new GuestProofRejectedError("not-a-guest");
  }
  if (!IdentityId.safeParse(claims.sub).success) throw new GuestProofRejectedError("malformed");
  if (expectedGuestId !== undefined && expectedGuestId !== claims.sub) {
    throw new GuestProofRejectedError("subject-mismatch");
  }
  return { guestIdentityId: claims.sub };
}

/** Human-readable reasons for the 403 body. */
export const GUEST_PROOF_MESSAGES: Record<GuestProofRejectedError["reason"], string> = {
  malformed: "The guest proof is not a well-formed identity-pool token.",
  "invalid-signature": "The guest proof's signature does not verify.",
  "unknown-key": "The guest proof was signed with a key the identity pool does not publish.",
  "wrong-issuer": "The guest proof was not issued by Cognito identity pools.",
  "foreign-audience": "The guest proof was issued for another identity pool.",
  expired: "The guest proof has expired; get a new one with GetOpenIdToken before signing in.",
  "not-yet-valid": "The guest proof is not valid yet.",
  "not-a-guest": "The guest proof is not for an unauthenticated (guest) identity.",
  "subject-mismatch": "The guest proof is for another identity than the guest named.",
  "jwks-unavailable": "The identity pool's signing keys could not be fetched; try again.",
};
