/**
 * SRP-6a as Cognito speaks it (USER_SRP_AUTH), the server half. The arithmetic must match what
 * amazon-cognito-identity-js and Amplify compute on the client byte for byte, so every hash runs
 * over the bytes of *padded hex* strings exactly as those clients build them ("Authentication
 * flows", https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow-methods.html).
 *
 * Modular exponentiation of 3072-bit numbers is delegated to OpenSSL through node:crypto's
 * Diffie-Hellman object (`computeSecret(base)` is `base^privateKey mod N`), which is two orders of
 * magnitude faster than BigInt square-and-multiply.
 */
import { createDiffieHellman, createHash, createHmac, randomBytes } from "node:crypto";

/** RFC 3526 group 15 (3072-bit MODP), as used by Cognito. */
const N_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";

export const N = BigInt(`0x${N_HEX}`);
const g = 2n;
const N_BYTES = N_HEX.length / 2;

/** Hex of the magnitude, even length, with `00` prepended when the top bit is set (a positive sign). */
export function padHex(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  else if ("89abcdef".includes(hex[0] ?? "0")) hex = `00${hex}`;
  return hex;
}

function hashHex(hex: string): string {
  return createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex");
}

function fromHex(hex: string): bigint {
  return hex === "" ? 0n : BigInt(`0x${hex}`);
}

export const k = fromHex(hashHex(padHex(N) + padHex(g)));

function toFixedBuffer(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(N_BYTES * 2, "0"), "hex");
}

// One DH object reused for every exponentiation: creating it validates the prime (slow).
const dh = createDiffieHellman(Buffer.from(N_HEX, "hex"), Buffer.from([2]));

/** base^exponent mod N through OpenSSL. */
export function modPowN(base: bigint, exponent: bigint): bigint {
  const b = ((base % N) + N) % N;
  if (exponent === 0n) return 1n;
  if (b === 0n) return 0n;
  if (b === 1n) return 1n;
  // OpenSSL refuses "public keys" of p-1; (p-1)^e is ±1 by parity.
  if (b === N - 1n) return exponent % 2n === 0n ? 1n : N - 1n;
  dh.setPrivateKey(Buffer.from(padHex(exponent), "hex"));
  return fromHex(dh.computeSecret(toFixedBuffer(b)).toString("hex"));
}

/** x = H(padHex(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password)), hashes as the clients build them. */
function computeX(poolName: string, userId: string, password: string, saltHex: string): bigint {
  const inner = createHash("sha256")
    .update(`${poolName}${userId}:${password}`, "utf8")
    .digest("hex");
  return fromHex(hashHex(padHex(fromHex(saltHex)) + inner));
}

export interface SrpVerifier {
  /** Hex as sent to the client in SALT. */
  salt: string;
  /** Hex of v = g^x mod N. */
  verifier: string;
}

export function createVerifier(poolName: string, userId: string, password: string): SrpVerifier {
  const salt = randomBytes(16).toString("hex");
  const x = computeX(poolName, userId, password, salt);
  return { salt, verifier: modPowN(g, x).toString(16) };
}

interface ServerChallenge {
  /** Hex of B. */
  B: string;
  /** Hex of the private b: kept server-side only (in the sealed session). */
  b: string;
}

/** Picks b and computes B = k·v + g^b mod N. */
export function createServerChallenge(verifierHex: string): ServerChallenge {
  const v = fromHex(verifierHex);
  for (;;) {
    const b = fromHex(randomBytes(128).toString("hex"));
    const B = (k * v + modPowN(g, b)) % N;
    if (B !== 0n) return { B: B.toString(16), b: b.toString(16) };
  }
}

export function isValidA(aHex: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(aHex)) return false;
  return fromHex(aHex) % N !== 0n;
}

/** K = HKDF-SHA256(salt = padHex(u), ikm = padHex(S), info = "Caldera Derived Key" ‖ 0x01)[0..16). */
export function passwordAuthenticationKey(
  aHex: string,
  challenge: ServerChallenge,
  verifierHex: string,
): Buffer {
  const A = fromHex(aHex);
  const B = fromHex(challenge.B);
  const u = fromHex(hashHex(padHex(A) + padHex(B)));
  const v = fromHex(verifierHex);
  const S = modPowN((A * modPowN(v, u)) % N, fromHex(challenge.b));
  const prk = createHmac("sha256", Buffer.from(padHex(u), "hex"))
    .update(Buffer.from(padHex(S), "hex"))
    .digest();
  return createHmac("sha256", prk)
    .update(Buffer.concat([Buffer.from("Caldera Derived Key", "utf8"), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
}

/** base64(HMAC-SHA256(K, poolName ‖ userId ‖ secretBlock ‖ timestamp)). */
export function passwordClaimSignature(
  key: Buffer,
  poolName: string,
  userId: string,
  secretBlock: Buffer,
  timestamp: string,
): Buffer {
  return createHmac("sha256", key)
    .update(Buffer.from(poolName, "utf8"))
    .update(Buffer.from(userId, "utf8"))
    .update(secretBlock)
    .update(Buffer.from(timestamp, "utf8"))
    .digest();
}
