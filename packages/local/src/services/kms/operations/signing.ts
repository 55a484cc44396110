/** Asymmetric keys' public half and signatures: GetPublicKey, Sign, Verify. */
import { AwsServiceError } from "../../../protocol/errors";
import {
  DIGEST_LENGTH,
  encryptionAlgorithmsFor,
  publicKeyDer,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  sign,
  signingAlgorithmsFor,
  verify,
} from "../crypto";
import { type Body, MAX_MESSAGE_BYTES, requireEnabled, requireUsage, validation } from "../model";
import type { KmsOperation, KmsState } from "../state";
import { blob } from "./input";

function getPublicKey(state: KmsState, body: Body) {
  const key = state.resolveKey(body.KeyId);
  requireEnabled(key);
  if (!key.privateKeyPem) {
    throw new AwsServiceError(
      "UnsupportedOperationException",
      `${key.arn} key usage is ${key.keyUsage}, key spec SYMMETRIC_DEFAULT: it has no public key.`,
    );
  }
  return {
    KeyId: key.arn,
    PublicKey: publicKeyDer(key.privateKeyPem).toString("base64"),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...(key.keyUsage === "SIGN_VERIFY"
      ? { SigningAlgorithms: signingAlgorithmsFor(key.keySpec) }
      : { EncryptionAlgorithms: encryptionAlgorithmsFor(key.keySpec) }),
  };
}

/** Shared checks of Sign and Verify: key, usage, algorithm, message type and length. */
function signingInput(state: KmsState, body: Body, operation: "Sign" | "Verify") {
  const key = state.resolveKey(body.KeyId);
  requireEnabled(key);
  requireUsage(key, "SIGN_VERIFY", operation);
  const algorithm = body.SigningAlgorithm;
  if (typeof algorithm !== "string" || !Object.hasOwn(SIGNING_ALGORITHMS, algorithm)) {
    throw validation(
      `Value '${String(algorithm)}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(SIGNING_ALGORITHMS).join(", ")}]`,
    );
  }
  if (!signingAlgorithmsFor(key.keySpec).includes(algorithm as SigningAlgorithm)) {
    throw new AwsServiceError(
      "InvalidKeyUsageException",
      `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
    );
  }
  const messageType = body.MessageType ?? "RAW";
  if (messageType !== "RAW" && messageType !== "DIGEST") {
    throw validation(
      `Value '${String(messageType)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST]`,
    );
  }
  const message = blob(body.Message, "message");
  if (message.length === 0 || message.length > MAX_MESSAGE_BYTES) {
    throw validation(
      `Value at 'message' failed to satisfy constraint: Member must have length between 1 and ${MAX_MESSAGE_BYTES}`,
    );
  }
  const { hash } = SIGNING_ALGORITHMS[algorithm as SigningAlgorithm];
  if (messageType === "DIGEST" && message.length !== DIGEST_LENGTH[hash]) {
    throw validation(`Digest is invalid length for algorithm ${algorithm}.`);
  }
  return {
    key,
    pem: key.privateKeyPem!,
    algorithm: algorithm as SigningAlgorithm,
    message,
    isDigest: messageType === "DIGEST",
  };
}

function signOperation(state: KmsState, body: Body) {
  const input = signingInput(state, body, "Sign");
  const signature = sign(input.pem, input.algorithm, input);
  return {
    KeyId: input.key.arn,
    Signature: signature.toString("base64"),
    SigningAlgorithm: input.algorithm,
  };
}

function verifyOperation(state: KmsState, body: Body) {
  const input = signingInput(state, body, "Verify");
  const signature = blob(body.Signature, "signature");
  if (signature.length === 0 || signature.length > 6144) {
    throw validation(
      "Value at 'signature' failed to satisfy constraint: Member must have length between 1 and 6144",
    );
  }
  if (!verify(input.pem, input.algorithm, { ...input, signature })) {
    throw new AwsServiceError("KMSInvalidSignatureException", "");
  }
  return { KeyId: input.key.arn, SignatureValid: true, SigningAlgorithm: input.algorithm };
}

export const signingOperations: Record<string, KmsOperation> = {
  GetPublicKey: getPublicKey,
  Sign: signOperation,
  Verify: verifyOperation,
};
