import { IdentityMergedError, InvalidCallerError } from "../errors";
import { type CallerIdentity, identifyCaller } from "./caller";
import { type GuestProofLimit, takeGuestProof } from "./guest-proof-quota";
import { assertStillAGuest } from "./guest-status";
import type { GuestProofQuotaStore, IdentityGraph, IdentityPoolDirectory } from "./ports";

/**
 * Guest proofs issued by the backend itself, for pools with classic flow off.
 *
 * AWS answers `GetOpenIdToken` on a pool with `AllowClassicFlow: false` with
 * `InvalidParameterException: Basic (classic) flow is not enabled, please use enhanced flow.`
 * (aws/aws-cli#7652), and ADR 0005 keeps classic flow off. So a guest cannot get the Cognito
 * OpenID token the issue describes. Instead, while still a guest, the app calls
 * `POST /identity/guest-proof` signed with its guest credentials: API Gateway's IAM authorizer
 * vouches for the guest identity id, and we sign a token of the same shape as Cognito's (`sub` =
 * identity id, `aud` = pool id, `amr` = ["unauthenticated"], 10 minutes) under our own issuer.
 * The link route accepts both issuers; everything after verification is identical.
 *
 * The credentials' `amr` is not enough: it was fixed when they were issued, and a guest's
 * credentials outlive the guest when someone signs in on the device (ADR 0006). So each proof is
 * counted against the identity's limit first, then the identity pool must confirm the identity
 * still has no login.
 */

const GUEST_PROOF_TTL_SECONDS = 600;

/** RS256 signing with a key whose public half the verifier knows (KMS in production). */
export interface JwtSigner {
  readonly keyId: string;
  /** RSASSA-PKCS1-v1_5 with SHA-256 over the JWS signing input. */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

export interface GuestProofIssuerDeps {
  signer: JwtSigner;
  graph: Pick<IdentityGraph, "get">;
  identityPool: IdentityPoolDirectory;
  quota: GuestProofQuotaStore;
  limit: GuestProofLimit;
  identityPoolId: string;
  /** This backend's issuer string, e.g. `urn:boardingpass:<stage>:guest-proof`. */
  issuer: string;
  now: () => Date;
}

const b64url = (value: Uint8Array | string): string =>
  Buffer.from(value as Uint8Array).toString("base64url");

export async function issueGuestProof(
  input: { caller: CallerIdentity },
  deps: GuestProofIssuerDeps,
): Promise<{ guestProof: string; guestIdentityId: string; expiresAt: string }> {
  const { identityId, authenticated } = identifyCaller(input.caller, deps.identityPoolId);
  if (authenticated) {
    throw new InvalidCallerError("Only a guest (unauthenticated) identity can get a guest proof");
  }
  // Counted before any other work: refused requests cost the caller too.
  await takeGuestProof(identityId, deps);
  const record = await deps.graph.get(identityId);
  if (record?.mergedInto !== undefined)
    throw new IdentityMergedError(identityId, record.mergedInto);
  await assertStillAGuest(identityId, record, deps);
  const iat = Math.floor(deps.now().getTime() / 1000);
  const exp = iat + GUEST_PROOF_TTL_SECONDS;
  const header = { alg: "RS256", typ: "JWT", kid: deps.signer.keyId };
  const payload = {
    iss: deps.issuer,
    aud: deps.identityPoolId,
    sub: identityId,
    amr: ["unauthenticated"],
    iat,
    exp,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = await deps.signer.sign(new TextEncoder().encode(signingInput));
  return {
    guestProof: `${signingInput}.${b64url(signature)}`,
    guestIdentityId: identityId,
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}
