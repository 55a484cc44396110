/**
 * An independent RFC 6238 generator for the tests (node:crypto HMAC-SHA1), playing the
 * authenticator app: it shares nothing with the service's own implementation.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function fromBase32(secret: string): Buffer {
  const bits = [...secret.replace(/=+$/, "").toUpperCase()]
    .map((char) => {
      const index = BASE32.indexOf(char);
      if (index < 0) throw new Error(`not base32: ${char}`);
      return index.toString(2).padStart(5, "0");
    })
    .join("");
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8)
    bytes.push(Number.parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 TOTP with HMAC-SHA1 for `key` at `timeSeconds`. */
export function totpAt(key: Buffer, timeSeconds: number, digits = 6, stepSeconds = 30): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeSeconds / stepSeconds)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const value =
    ((mac[offset]! & 0x7f) << 24) |
    (mac[offset + 1]! << 16) |
    (mac[offset + 2]! << 8) |
    mac[offset + 3]!;
  return String(value % 10 ** digits).padStart(digits, "0");
}

/** The 6-digit code an authenticator app shows for a Cognito `SecretCode` at `nowMs`. */
export function totpCode(secretCode: string, nowMs: number): string {
  return totpAt(fromBase32(secretCode), nowMs / 1000);
}
