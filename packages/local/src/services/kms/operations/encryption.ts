/**
 * Encryption: Encrypt, Decrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom.
 * Symmetric keys seal an AES-256-GCM blob that names its key (so Decrypt needs no KeyId); RSA
 * ENCRYPT_DECRYPT keys use RSAES-OAEP.
 */

import { randomBytes } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  blobKeyId,
  encryptionAlgorithmsFor,
  openBlob,
  rsaDecrypt,
  rsaEncrypt,
  sealBlob,
} from "../crypto";
import {
  type Body,
  MAX_PLAINTEXT_BYTES,
  requireEnabled,
  requireUsage,
  type StoredKey,
  validation,
} from "../model";
import type { KmsOperation, KmsState } from "../state";
import { blob, encryptionContext } from "./input";

function encryptionAlgorithm(key: StoredKey, value: unknown): string {
  const algorithm = value ?? (key.secret ? "SYMMETRIC_DEFAULT" : undefined);
  if (typeof algorithm !== "string") {
    throw validation("EncryptionAlgorithm is required for asymmetric keys");
  }
  if (!encryptionAlgorithmsFor(key.keySpec).includes(algorithm)) {
    throw new AwsServiceError(
      "InvalidKeyUsageException",
      `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
    );
  }
  return algorithm;
}

function encrypt(state: KmsState, body: Body) {
  const key = state.resolveKey(body.KeyId);
  requireEnabled(key);
  requireUsage(key, "ENCRYPT_DECRYPT", "Encrypt");
  const plaintext = blob(body.Plaintext, "plaintext");
  if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw validation(
      `Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and ${MAX_PLAINTEXT_BYTES}`,
    );
  }
  const algorithm = encryptionAlgorithm(key, body.EncryptionAlgorithm);
  const ciphertext = key.secret
    ? sealBlob(key.keyId, key.secret, plaintext, encryptionContext(body))
    : rsaEncrypt(key.privateKeyPem!, algorithm, plaintext);
  return {
    KeyId: key.arn,
    CiphertextBlob: ciphertext.toString("base64"),
    EncryptionAlgorithm: algorithm,
  };
}

function decrypt(state: KmsState, body: Body) {
  const ciphertext = blob(body.CiphertextBlob, "ciphertextBlob");
  const named = body.KeyId !== undefined ? state.resolveKey(body.KeyId) : undefined;
  let key: StoredKey;
  if (named?.privateKeyPem) {
    key = named;
  } else {
    const blobKey = blobKeyId(ciphertext);
    const owner = blobKey !== undefined ? state.keys.get(blobKey) : undefined;
    if (!owner) throw new AwsServiceError("InvalidCiphertextException", "");
    if (named && named.keyId !== owner.keyId) {
      throw new AwsServiceError(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
      );
    }
    key = owner;
  }
  requireEnabled(key);
  requireUsage(key, "ENCRYPT_DECRYPT", "Decrypt");
  const algorithm = encryptionAlgorithm(key, body.EncryptionAlgorithm);
  const plaintext = key.secret
    ? openBlob(key.secret, ciphertext, encryptionContext(body))
    : rsaDecrypt(key.privateKeyPem!, algorithm, ciphertext);
  if (!plaintext) throw new AwsServiceError("InvalidCiphertextException", "");
  return {
    KeyId: key.arn,
    Plaintext: plaintext.toString("base64"),
    EncryptionAlgorithm: algorithm,
  };
}

/** GenerateDataKey (`withPlaintext`) or GenerateDataKeyWithoutPlaintext. */
function generateDataKey(state: KmsState, body: Body, withPlaintext: boolean) {
  const key = state.resolveKey(body.KeyId);
  requireEnabled(key);
  requireUsage(key, "ENCRYPT_DECRYPT", "GenerateDataKey");
  if (!key.secret) {
    throw new AwsServiceError(
      "InvalidKeyUsageException",
      `${key.arn} key spec is ${key.keySpec}: data keys need a symmetric key.`,
    );
  }
  let length: number;
  if (body.NumberOfBytes !== undefined) {
    if (body.KeySpec !== undefined)
      throw validation("Specify either KeySpec or NumberOfBytes, not both");
    length = Number(body.NumberOfBytes);
    if (!Number.isInteger(length) || length < 1 || length > 1024) {
      throw validation(
        "Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024",
      );
    }
  } else if (body.KeySpec === "AES_256" || body.KeySpec === "AES_128") {
    length = body.KeySpec === "AES_256" ? 32 : 16;
  } else {
    throw validation("Please specify either number of bytes or key spec.");
  }
  const plaintext = randomBytes(length);
  const ciphertext = sealBlob(key.keyId, key.secret, plaintext, encryptionContext(body));
  return {
    KeyId: key.arn,
    CiphertextBlob: ciphertext.toString("base64"),
    ...(withPlaintext ? { Plaintext: plaintext.toString("base64") } : {}),
  };
}

function generateRandom(_state: KmsState, body: Body) {
  const length = Number(body.NumberOfBytes ?? 0);
  if (!Number.isInteger(length) || length < 1 || length > 1024) {
    throw validation(
      "Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024",
    );
  }
  return { Plaintext: randomBytes(length).toString("base64") };
}

export const encryptionOperations: Record<string, KmsOperation> = {
  Encrypt: encrypt,
  Decrypt: decrypt,
  GenerateDataKey: (state, body) => generateDataKey(state, body, true),
  GenerateDataKeyWithoutPlaintext: (state, body) => generateDataKey(state, body, false),
  GenerateRandom: generateRandom,
};
