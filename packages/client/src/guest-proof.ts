import { CognitoIdentityClient, GetOpenIdTokenCommand } from "@aws-sdk/client-cognito-identity";

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
