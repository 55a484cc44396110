/**
 * Password storage and policy. Passwords are never kept: only a salted scrypt hash (for
 * USER_PASSWORD_AUTH and ChangePassword) and the SRP verifier (for USER_SRP_AUTH).
 *
 * The scrypt cost is deliberately cheap (N=2^8, r=8, p=1, well under 1 ms on an idle core): this is a local emulator
 * holding throwaway test passwords, and sign-in throughput matters more here than resistance to
 * offline cracking. Production Cognito's hashing is not observable and not emulated.
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";

const SCRYPT = { N: 256, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scryptAsync(
  password: string,
  salt: Buffer,
  cost: { N: number; r: number; p: number } = SCRYPT,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, cost, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, hashB64] = stored.split("$");
  if (scheme !== "scrypt" || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, "base64");
  // Each hash carries its own cost, so a journal written with another cost still verifies.
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const actual = await scryptAsync(password, Buffer.from(saltB64, "base64"), cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** CloudFormation `Policies.PasswordPolicy`. */
export interface PasswordPolicy {
  MinimumLength?: number;
  RequireUppercase?: boolean;
  RequireLowercase?: boolean;
  RequireNumbers?: boolean;
  RequireSymbols?: boolean;
  TemporaryPasswordValidityDays?: number;
}

/** Cognito's default when a pool names no policy: 8 characters, all four classes. */
export const DEFAULT_PASSWORD_POLICY: Required<PasswordPolicy> = {
  MinimumLength: 8,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 7,
};

/** The special characters Cognito counts as symbols (space included). */
const SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/** Throws InvalidPasswordException with Cognito's first failing rule, as Cognito reports it. */
export function enforcePasswordPolicy(password: string, policy: Required<PasswordPolicy>): void {
  const fail = (rule: string) =>
    new AwsServiceError(
      "InvalidPasswordException",
      `Password did not conform with policy: ${rule}`,
    );
  if (password.length < policy.MinimumLength) throw fail("Password not long enough");
  if (policy.RequireLowercase && !/[a-z]/.test(password)) {
    throw fail("Password must have lowercase characters");
  }
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) {
    throw fail("Password must have uppercase characters");
  }
  if (policy.RequireNumbers && !/[0-9]/.test(password)) {
    throw fail("Password must have numeric characters");
  }
  if (policy.RequireSymbols && ![...password].some((char) => SYMBOLS.includes(char))) {
    throw fail("Password must have symbol characters");
  }
}

/** A temporary password that satisfies any policy (AdminCreateUser without TemporaryPassword). */
export function generateTemporaryPassword(policy: Required<PasswordPolicy>): string {
  const body = randomBytes(Math.max(policy.MinimumLength, 12)).toString("base64url");
  return `${body}aA1!`;
}
