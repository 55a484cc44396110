/**
 * Reads the credential scope of a SigV4-signed request. Only parsing: the signature itself is
 * verified (later) by whoever owns the key material, not by the router; the primitives those
 * verifiers share are at the end of this file.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface SigV4Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

// AKID/20250101/us-east-1/sns/aws4_request
const CREDENTIAL = /^([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/;

function parseCredential(credential: string | null | undefined): SigV4Scope | undefined {
  if (!credential) return undefined;
  const match = CREDENTIAL.exec(credential.trim());
  if (!match) return undefined;
  const [, accessKeyId, date, region, service] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { accessKeyId, date, region, service };
}

/** `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` */
export function scopeFromAuthorization(header: string | undefined): SigV4Scope | undefined {
  if (!header?.startsWith("AWS4-HMAC-SHA256")) return undefined;
  const credential = /Credential=([^,\s]+)/.exec(header)?.[1];
  return parseCredential(credential);
}

/** Presigned URLs carry the scope in `X-Amz-Credential` instead of a header. */
export function scopeFromQuery(query: URLSearchParams): SigV4Scope | undefined {
  return parseCredential(query.get("X-Amz-Credential"));
}

export function sigV4Scope(
  headers: Record<string, string>,
  query: URLSearchParams,
): SigV4Scope | undefined {
  return scopeFromAuthorization(headers.authorization) ?? scopeFromQuery(query);
}

/*
 * The SigV4 arithmetic shared by the local verifiers (API Gateway's `AWS_IAM` routes, AWS IoT's
 * presigned WebSocket upgrade). Each verifier keeps its own parsing and refusals; these pieces are
 * the same everywhere SigV4 is spoken.
 */

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 wants. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decoded pairs, encoded and sorted by name then value, joined as the canonical query. */
export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** `20261126T160000Z` → epoch ms. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : ms;
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  let key = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, "aws4_request"]) {
    key = createHmac("sha256", key).update(part).digest();
  }
  return key;
}

/** The hex signature of `stringToSign` under the derived key. */
export function sign(key: Buffer, stringToSign: string): string {
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

export function sha256Hex(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time comparison (signatures, session tokens). */
export function equalStrings(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
