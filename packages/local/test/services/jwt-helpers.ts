/** Test-only RS256 token minting with Node's crypto (keys generated per test run). */
import { generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from "node:crypto";

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JsonWebKey;
}

export function generateSigningKey(kid: string): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwk };
}

export function signJwt(
  key: SigningKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const alg = (header.alg as string | undefined) ?? "RS256";
  const head = encode({ alg, typ: "JWT", kid: key.kid, ...header });
  const body = encode(claims);
  const digest = `RSA-SHA${alg.slice(2)}`;
  const signature = sign(digest, Buffer.from(`${head}.${body}`), key.privateKey).toString(
    "base64url",
  );
  return `${head}.${body}.${signature}`;
}
