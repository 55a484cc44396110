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
  sign,
  verify,
} from "node:crypto";

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
  const header = Buffer.from(JSON.stringify({ kid: keys.kid, alg: "RS256" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const input = `${header}.${payload}`;
  const signature = sign("sha256", Buffer.from(input), keys.privateKey).toString("base64url");
  return `${input}.${signature}`;
}

/** Verifies an RS256 JWT made by `signJwt` with these keys; returns its claims or undefined. */
export function readJwt(keys: PoolKeys, token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const ok = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      keys.publicKey,
      Buffer.from(signature, "base64url"),
    );
    if (!ok) return undefined;
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Unverified payload of a JWT (to find its pool before verifying). */
export function peekJwt(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
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
