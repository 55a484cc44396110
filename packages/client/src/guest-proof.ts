import { CognitoIdentityClient, GetOpenIdTokenCommand } from "@aws-sdk/client-cognito-identity";
import type { GuestProofIssued } from "@boarding-pass/contracts/routes";
import { type AwsCredentials, signedFetch } from "./signing";

/** A guest identity's OpenID token (10 minutes): the proof that this app held the guest. */
export interface GuestProof {
  identityId: string;
  token: string;
  /** Epoch milliseconds, from the token's `exp`. */
  expiresAt: number;
}

/** Where a proof comes from: `GetOpenIdToken` for the guest identity (a public API, unsigned). */
export interface GuestProofSource {
  getGuestProof(guestIdentityId: string): Promise<GuestProof>;
}

/** Where the app keeps the proof between "before sign-in" and "after sign-in". */
export interface GuestProofStore {
  load(): Promise<GuestProof | null>;
  save(proof: GuestProof): Promise<void>;
  clear(): Promise<void>;
}

/** In memory: enough when sign-in happens in the same app session (the common case). */
export function memoryProofStore(): GuestProofStore {
  let proof: GuestProof | null = null;
  return {
    load: async () => proof,
    save: async (value) => {
      proof = value;
    },
    clear: async () => {
      proof = null;
    },
  };
}

/** Reads `exp` without verifying: the server verifies; the client only plans around expiry. */
export function tokenExpiry(token: string): number {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error("The guest proof is not a JWT");
  // atob (browsers, React Native, Node) rather than Buffer, which apps do not have.
  const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const { exp } = JSON.parse(atob(base64)) as { exp?: unknown };
  if (typeof exp !== "number") throw new Error("The guest proof has no exp");
  return exp * 1000;
}

/** `GetOpenIdToken` through the AWS SDK; pass `endpoint` for the local cloud. */
export function cognitoGuestProofSource(options: {
  region: string;
  endpoint?: string;
  client?: Pick<CognitoIdentityClient, "send">;
}): GuestProofSource {
  const client =
    options.client ??
    new CognitoIdentityClient({
      region: options.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    });
  return {
    async getGuestProof(guestIdentityId) {
      const response = await client.send(
        new GetOpenIdTokenCommand({ IdentityId: guestIdentityId }),
      );
      if (response.Token === undefined) throw new Error("GetOpenIdToken returned no token");
      return {
        identityId: response.IdentityId ?? guestIdentityId,
        token: response.Token,
        expiresAt: tokenExpiry(response.Token),
      };
    },
  };
}

/**
 * The backend's own guest proof (`POST /identity/guest-proof`, signed with the guest's
 * credentials). Use this one with Boarding Pass's pools: classic flow is off there, and AWS
 * refuses `GetOpenIdToken` on such pools.
 */
export function backendGuestProofSource(options: {
  apiUrl: string;
  region: string;
  /** The guest's current credentials (Amplify: `(await fetchAuthSession()).credentials`). */
  credentials: () => Promise<AwsCredentials>;
  fetch?: typeof fetch;
}): GuestProofSource {
  return {
    async getGuestProof(guestIdentityId) {
      const base = options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`;
      const response = await signedFetch(
        {
          url: new URL("identity/guest-proof", base).toString(),
          method: "POST",
          region: options.region,
          credentials: await options.credentials(),
        },
        options.fetch,
      );
      const body = (await response.json().catch(() => ({}))) as Partial<GuestProofIssued> & {
        message?: string;
      };
      if (!response.ok || body.guestProof === undefined) {
        throw new Error(body.message ?? `The guest proof request failed with ${response.status}`);
      }
      if (body.guestIdentityId !== guestIdentityId) {
        throw new Error("The credentials belong to another identity than the guest named");
      }
      return {
        identityId: guestIdentityId,
        token: body.guestProof,
        expiresAt: tokenExpiry(body.guestProof),
      };
    },
  };
}
