/**
 * The cryptography of the local KMS: key generation per KeySpec, Sign/Verify for the signing
 * algorithms KMS offers (RAW messages and precomputed DIGESTs), and the symmetric ciphertext blob.
 *
 * RAW messages are hashed and signed by node:crypto. DIGESTs cannot go through node:crypto (it
 * always hashes), so: RSASSA-PKCS1-v1_5 = DigestInfo || digest under the private key with PKCS#1
 * type 1 padding (RFC 8017 §9.2); RSASSA-PSS = EMSA-PSS (RFC 8017 §9.1, MGF1 with the same hash,
 * salt as long as the digest, which is what KMS uses) under raw RSA; ECDSA = ecdsa.ts.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { ecdsaSignDigest, ecdsaVerifyDigest } from "./ecdsa";

export const KEY_SPECS = [
  "SYMMETRIC_DEFAULT",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];
export type KeyUsage = "SIGN_VERIFY" | "ENCRYPT_DECRYPT";

type Hash = "sha256" | "sha384" | "sha512";
type Scheme = "pkcs1" | "pss" | "ecdsa";

export const SIGNING_ALGORITHMS = {
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: "pkcs1", hash: "sha256" },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: "pkcs1", hash: "sha384" },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: "pkcs1", hash: "sha512" },
  RSASSA_PSS_SHA_256: { scheme: "pss", hash: "sha256" },
  RSASSA_PSS_SHA_384: { scheme: "pss", hash: "sha384" },
  RSASSA_PSS_SHA_512: { scheme: "pss", hash: "sha512" },
  ECDSA_SHA_256: { scheme: "ecdsa", hash: "sha256" },
  ECDSA_SHA_384: { scheme: "ecdsa", hash: "sha384" },
  ECDSA_SHA_512: { scheme: "ecdsa", hash: "sha512" },
} as const satisfies Record<string, { scheme: Scheme; hash: Hash }>;
export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS;

const RSA_SIGNING: SigningAlgorithm[] = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
];

/** What KMS lists per key spec (DescribeKey, GetPublicKey). */
export function signingAlgorithmsFor(spec: KeySpec): SigningAlgorithm[] {
  switch (spec) {
    case "RSA_2048":
    case "RSA_3072":
    case "RSA_4096":
      return RSA_SIGNING;
    case "ECC_NIST_P256":
      return ["ECDSA_SHA_256"];
    case "ECC_NIST_P384":
      return ["ECDSA_SHA_384"];
    case "ECC_NIST_P521":
      return ["ECDSA_SHA_512"];
    default:
      return [];
  }
}

export function encryptionAlgorithmsFor(spec: KeySpec): string[] {
  if (spec === "SYMMETRIC_DEFAULT") return ["SYMMETRIC_DEFAULT"];
  if (spec.startsWith("RSA_")) return ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"];
  return [];
}

/** Which usages KMS allows per spec (ECC keys cannot encrypt, symmetric keys cannot sign). */
export function usagesFor(spec: KeySpec): KeyUsage[] {
  if (spec === "SYMMETRIC_DEFAULT") return ["ENCRYPT_DECRYPT"];
  if (spec.startsWith("RSA_")) return ["ENCRYPT_DECRYPT", "SIGN_VERIFY"];
  return ["SIGN_VERIFY"];
}

export const DIGEST_LENGTH: Readonly<Record<Hash, number>> = {
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** Key material: a PKCS#8 PEM private key, or a base64 AES-256 key for symmetric keys. */
export function generateKeyMaterial(spec: KeySpec): { privateKeyPem?: string; secret?: string } {
  if (spec === "SYMMETRIC_DEFAULT") return { secret: randomBytes(32).toString("base64") };
  const encoding = { privateKeyEncoding: { type: "pkcs8", format: "pem" } } as const;
  if (spec.startsWith("RSA_")) {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: Number(spec.slice(4)),
      publicExponent: 65537,
      ...encoding,
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    return { privateKeyPem: privateKey };
  }
  const curve = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521" }[
    spec as "ECC_NIST_P256"
  ];
  const { privateKey } = generateKeyPairSync("ec", {
    namedCurve: curve,
    ...encoding,
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey };
}

/** DER SubjectPublicKeyInfo, as GetPublicKey returns it. */
export function publicKeyDer(privateKeyPem: string): Buffer {
  return createPublicKey(privateKeyPem).export({ format: "der", type: "spki" });
}

const DIGEST_INFO_PREFIX: Readonly<Record<Hash, string>> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

export function sign(
  privateKeyPem: string,
  algorithm: SigningAlgorithm,
  input: { message: Uint8Array; isDigest: boolean },
): Buffer {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm];
  const key = createPrivateKey(privateKeyPem);
  if (!input.isDigest) {
    if (scheme === "ecdsa") return nodeSign(hash, input.message, { key, dsaEncoding: "der" });
    if (scheme === "pkcs1") return nodeSign(hash, input.message, key);
    return nodeSign(hash, input.message, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: DIGEST_LENGTH[hash],
    });
  }
  const digest = Buffer.from(input.message);
  if (scheme === "ecdsa") return ecdsaSignDigest(key, digest);
  if (scheme === "pkcs1") {
    const digestInfo = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], "hex"), digest]);
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
  }
  const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  const encoded = emsaPssEncode(digest, modulusBits - 1, hash);
  const k = Math.ceil(modulusBits / 8);
  const block = Buffer.concat([Buffer.alloc(k - encoded.length), encoded]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}

export function verify(
  privateKeyPem: string,
  algorithm: SigningAlgorithm,
  input: { message: Uint8Array; isDigest: boolean; signature: Uint8Array },
): boolean {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm];
  const key = createPublicKey(privateKeyPem);
  try {
    if (!input.isDigest) {
      if (scheme === "ecdsa") {
        return nodeVerify(hash, input.message, { key, dsaEncoding: "der" }, input.signature);
      }
      if (scheme === "pkcs1") return nodeVerify(hash, input.message, key, input.signature);
      return nodeVerify(
        hash,
        input.message,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_LENGTH[hash] },
        input.signature,
      );
    }
    const digest = Buffer.from(input.message);
    if (scheme === "ecdsa") return ecdsaVerifyDigest(key, digest, input.signature);
    if (scheme === "pkcs1") {
      const recovered = publicDecrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        input.signature,
      );
      const expected = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], "hex"), digest]);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
    const block = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, input.signature);
    return emsaPssVerify(digest, block, modulusBits - 1, hash);
  } catch {
    // A signature of the wrong length or out of range is simply not valid.
    return false;
  }
}

function mgf1(seed: Buffer, length: number, hash: Hash): Buffer {
  const chunks: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const chunk = createHash(hash).update(seed).update(c).digest();
    chunks.push(chunk);
    produced += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, length);
}

function emsaPssEncode(mHash: Buffer, emBits: number, hash: Hash): Buffer {
  const hLen = DIGEST_LENGTH[hash];
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

function emsaPssVerify(mHash: Buffer, block: Buffer, emBits: number, hash: Hash): boolean {
  const hLen = DIGEST_LENGTH[hash];
  const emLen = Math.ceil(emBits / 8);
  if (block.length < emLen) return false;
  if (block.subarray(0, block.length - emLen).some((byte) => byte !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const masked = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff >> (8 * emLen - emBits);
  if (((masked[0] ?? 0) & ~topBits) !== 0) return false;
  const mask = mgf1(h, masked.length, hash);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] ?? 0) ^ (mask[i] ?? 0);
  masked[0] = (masked[0] ?? 0) & topBits;
  const separator = masked.length - hLen - 1;
  if (masked.subarray(0, separator).some((byte) => byte !== 0) || masked[separator] !== 1) {
    return false;
  }
  const salt = masked.subarray(separator + 1);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(expected, h);
}

// ---- RSA encryption (RSAES-OAEP) -----------------------------------------------------------

export function rsaEncrypt(privateKeyPem: string, algorithm: string, plaintext: Buffer): Buffer {
  return publicEncrypt(
    {
      key: createPublicKey(privateKeyPem),
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: algorithm === "RSAES_OAEP_SHA_1" ? "sha1" : "sha256",
    },
    plaintext,
  );
}

export function rsaDecrypt(
  privateKeyPem: string,
  algorithm: string,
  ciphertext: Buffer,
): Buffer | undefined {
  try {
    return privateDecrypt(
      {
        key: privateKeyPem,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: algorithm === "RSAES_OAEP_SHA_1" ? "sha1" : "sha256",
      },
      ciphertext,
    );
  } catch {
    return undefined;
  }
}

// ---- symmetric ciphertext blob -------------------------------------------------------------

/**
 * `0x01 | key id (16 bytes, the UUID) | IV (12) | GCM tag (16) | ciphertext`. The encryption
 * context is the GCM additional data (its entries sorted by key), so Decrypt with another context
 * fails like KMS's does. AWS's blob is opaque too; only "it names its key" is relied on.
 */
const BLOB_VERSION = 1;
const UUID_BYTES = 16;

function contextAad(context: Record<string, string> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), "utf8");
}

export function sealBlob(
  keyId: string,
  secret: string,
  plaintext: Buffer,
  context: Record<string, string> | undefined,
): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(secret, "base64"), iv);
  cipher.setAAD(contextAad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([
    Buffer.from([BLOB_VERSION]),
    Buffer.from(keyId.replace(/-/g, ""), "hex"),
    iv,
    cipher.getAuthTag(),
    ciphertext,
  ]);
}

/** The key id a blob names, or undefined when it is not one of ours. */
export function blobKeyId(blob: Buffer): string | undefined {
  if (blob.length < 1 + UUID_BYTES + 12 + 16 || blob[0] !== BLOB_VERSION) return undefined;
  const hex = blob.subarray(1, 1 + UUID_BYTES).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function openBlob(
  secret: string,
  blob: Buffer,
  context: Record<string, string> | undefined,
): Buffer | undefined {
  const start = 1 + UUID_BYTES;
  const iv = blob.subarray(start, start + 12);
  const tag = blob.subarray(start + 12, start + 28);
  try {
    const decipher = createDecipheriv("aes-256-gcm", Buffer.from(secret, "base64"), iv);
    decipher.setAAD(contextAad(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(blob.subarray(start + 28)), decipher.final()]);
  } catch {
    return undefined;
  }
}
