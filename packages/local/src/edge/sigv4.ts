/**
 * Reads the credential scope of a SigV4-signed request, to route it by service and region. Only
 * parsing: the signature itself is verified (later) by the service that owns the key material,
 * with protocol/sigv4; this parser is stricter about what it routes (lower-case region and
 * service, no spaces or commas in the key id) than the verifier is about what it refuses.
 */

interface SigV4Scope {
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
