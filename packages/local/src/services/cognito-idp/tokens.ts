/**
 * Per-pool signing keys, RS256 JWTs, the pool's JWKS, and sealed blobs (AES-256-GCM) for the
 * values Cognito keeps opaque: the SRP SECRET_BLOCK, challenge sessions and refresh tokens.
 *
 * Refresh tokens are JWE-shaped (five base64url parts, `{"cty":"JWT","enc":"A256GCM","alg":"dir"}`)
 * like Cognito's own: self-contained and encrypted under the pool's sealing key, so a sign-in never
 * writes to disk. What must be remembered is revocation (RevokeToken, GlobalSignOut), which is
 * journaled.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { JwtError, signJwt as signToken, verifyJwt } from "../../protocol/jwt";

export interface PoolKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
  sealKey: Buffer;
}

export function generatePoolKeyMaterial(): { kid: string; privateKeyPem: string; sealKey: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    // Cognito's kids are base64 of a 32-byte digest; any unique string works for verifiers.
    kid: randomBytes(32).toString("base64"),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    sealKey: randomBytes(32).toString("base64"),
  };
}

export function loadPoolKeys(material: {
  kid: string;
  privateKeyPem: string;
  sealKey: string;
}): PoolKeys {
  const privateKey = createPrivateKey(material.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: "jwk" });
  return {
    kid: material.kid,
    privateKey,
    publicKey,
    publicJwk: { alg: "RS256", e: jwk.e, kid: material.kid, kty: "RSA", n: jwk.n, use: "sig" },
    sealKey: Buffer.from(material.sealKey, "base64"),
  };
}

export function signJwt(keys: PoolKeys, claims: Record<string, unknown>): string {
  return signToken(keys.privateKey, { kid: keys.kid, alg: "RS256" }, claims);
}

/**
 * Verifies an RS256 JWT made by `signJwt` with these keys; returns its claims or undefined.
 * Expiry is the caller's to check: Cognito reports it with its own message.
 */
export function readJwt(keys: PoolKeys, token: string): Record<string, unknown> | undefined {
  try {
    return verifyJwt(token, { algorithms: ["RS256"], keys: () => ({ keys: [keys.publicJwk] }) })
      .claims;
  } catch (error) {
    if (error instanceof JwtError) return undefined;
    throw error;
  }
}

const SEAL_HEADER = Buffer.from(
  JSON.stringify({ cty: "JWT", enc: "A256GCM", alg: "dir" }),
).toString("base64url");

/** JWE-compact-shaped AES-256-GCM envelope: header..iv.ciphertext.tag (empty key part). */
export function seal(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(SEAL_HEADER));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return [
    SEAL_HEADER,
    "",
    iv.toString("base64url"),
    data.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
  ].join(".");
}

export function unseal<T>(key: Buffer, sealed: string): T | undefined {
  const parts = sealed.split(".");
  if (parts.length !== 5 || parts[0] !== SEAL_HEADER) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(parts[2]!, "base64url"));
    decipher.setAAD(Buffer.from(SEAL_HEADER));
    decipher.setAuthTag(Buffer.from(parts[4]!, "base64url"));
    const text = Buffer.concat([
      decipher.update(Buffer.from(parts[3]!, "base64url")),
      decipher.final(),
    ]).toString("utf8");
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
