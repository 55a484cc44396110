import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import type { JwtSigner } from "../identity/guest-proof-issuer";
import { type SdkClientOptions, sdkClientConfig } from "./sdk";

export function createKmsClient(options: SdkClientOptions = {}): KMSClient {
  return new KMSClient(sdkClientConfig(options));
}

/** Signs guest proofs with an asymmetric KMS key (RSA_2048, SIGN_VERIFY); the private half never leaves KMS. */
export class KmsJwtSigner implements JwtSigner {
  constructor(
    private readonly client: Pick<KMSClient, "send">,
    readonly keyId: string,
  ) {}

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    const { Signature } = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: signingInput,
        MessageType: "RAW",
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    );
    if (Signature === undefined) throw new Error("KMS returned no signature");
    return Signature;
  }
}

/** The key's public half as a JWKS (`kid` = the key id the signer puts in its tokens). */
export async function kmsPublicJwks(
  client: Pick<KMSClient, "send">,
  keyId: string,
): Promise<{ keys: Array<Record<string, unknown>> }> {
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (PublicKey === undefined) throw new Error("KMS returned no public key");
  const jwk = createPublicKey({ key: Buffer.from(PublicKey), format: "der", type: "spki" }).export({
    format: "jwk",
  });
  return { keys: [{ ...jwk, kid: keyId, alg: "RS256", use: "sig" }] };
}
