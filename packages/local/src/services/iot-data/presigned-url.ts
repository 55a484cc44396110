/**
 * Verifies the SigV4 presigned query of an MQTT-over-WebSocket upgrade, as AWS IoT's device
 * gateway does for temporary (Cognito) credentials:
 *
 *   GET /mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256
 *            &X-Amz-Credential=<AKID>/<yyyymmdd>/<region>/iotdevicegateway/aws4_request
 *            &X-Amz-Date=<yyyymmddThhmmssZ>&X-Amz-SignedHeaders=host[&X-Amz-Expires=<s>]
 *            &X-Amz-Signature=<hex>&X-Amz-Security-Token=<token>
 *
 * AWS IoT's documented quirk: the security token is appended *after* signing, so it is not part
 * of the canonical query. Generic presigners (@smithy/signature-v4's `presign`, most SDKs) sign
 * it like any other parameter; both are accepted, as AWS IoT does. The payload hash is that of
 * the empty body (AWS IoT's documented example); `UNSIGNED-PAYLOAD` is accepted too.
 *
 * The signature is checked against the secret STS recorded for the access key, the token must
 * be the session's own, the credentials unexpired, and the signing time within AWS's 15-minute
 * skew (or within `X-Amz-Expires`, when given).
 */
import {
  SIGV4_ALGORITHM as ALGORITHM,
  canonicalQuery,
  equalStrings,
  parseAmzDate,
  sha256Hex,
  sign,
  signingKey,
  uriEncode,
} from "../../edge/sigv4";
import type { IssuedCredentials } from "../sts/index";

export const IOT_SIGNING_SERVICE = "iotdevicegateway";
/** AWS's clock skew tolerance for SigV4. */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** SigV4's ceiling for presigned URLs (seven days). */
const MAX_EXPIRES_SECONDS = 604_800;
const EMPTY_PAYLOAD_SHA256 = sha256Hex("");
const PAYLOAD_HASHES = [EMPTY_PAYLOAD_SHA256, "UNSIGNED-PAYLOAD"];

export interface PresignedRequest {
  method: string;
  /** The request target as received: path and raw (still percent-encoded) query. */
  url: string;
  /** Lower-cased names, as Node's `IncomingMessage.headers`. */
  headers: Record<string, string | string[] | undefined>;
}

export type PresignedVerification =
  | { ok: true; credentials: IssuedCredentials }
  | { ok: false; reason: string };

export interface VerifyOptions {
  region: string;
  lookupCredentials(accessKeyId: string): IssuedCredentials | undefined;
  now: number;
}

/** Never throws: every malformed input is a refusal with a reason for the log. */
export function verifyPresignedUrl(
  request: PresignedRequest,
  options: VerifyOptions,
): PresignedVerification {
  const refuse = (reason: string): PresignedVerification => ({ ok: false, reason });
  const queryStart = request.url.indexOf("?");
  const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const pairs = parseQuery(queryStart < 0 ? "" : request.url.slice(queryStart + 1));
  if (!pairs) return refuse("malformed query string");
  const single = (name: string): string | undefined => {
    const values = pairs.filter(([key]) => key === name);
    return values.length === 1 ? values[0]![1] : undefined;
  };

  if (single("X-Amz-Algorithm") !== ALGORITHM)
    return refuse("X-Amz-Algorithm missing or not AWS4-HMAC-SHA256");
  const credential = parseCredentialScope(single("X-Amz-Credential"));
  if (!credential) return refuse("X-Amz-Credential missing or malformed");
  if (credential.service !== IOT_SIGNING_SERVICE) {
    return refuse(
      `credential scope names service ${credential.service}, not ${IOT_SIGNING_SERVICE}`,
    );
  }
  if (credential.region !== options.region) {
    return refuse(`credential scope names region ${credential.region}, not ${options.region}`);
  }
  const amzDate = single("X-Amz-Date");
  const signedAt = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || signedAt === undefined) return refuse("X-Amz-Date missing or malformed");
  if (!amzDate.startsWith(credential.date))
    return refuse("credential scope date is not X-Amz-Date's");
  const signedHeaders = single("X-Amz-SignedHeaders")?.split(";");
  if (!signedHeaders?.includes("host")) return refuse("X-Amz-SignedHeaders must include host");
  const signature = single("X-Amz-Signature");
  if (!signature || !/^[0-9a-f]{64}$/.test(signature))
    return refuse("X-Amz-Signature missing or malformed");

  const expiresParam = single("X-Amz-Expires");
  if (signedAt > options.now + MAX_SKEW_MS)
    return refuse("signed more than 15 minutes in the future");
  if (expiresParam !== undefined) {
    const expires = Number(expiresParam);
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS) {
      return refuse("X-Amz-Expires out of range");
    }
    if (options.now > signedAt + expires * 1000) return refuse("presigned URL expired");
  } else if (options.now > signedAt + MAX_SKEW_MS) {
    return refuse("signed more than 15 minutes ago");
  }

  const issued = options.lookupCredentials(credential.accessKeyId);
  if (!issued) return refuse("unknown access key (not issued by the local STS)");
  // STS session credentials are only valid with their token.
  const token = single("X-Amz-Security-Token");
  if (token === undefined || !equalStrings(token, issued.sessionToken)) {
    return refuse("security token missing or not the session's");
  }
  if (Date.parse(issued.expiration) <= options.now) return refuse("credentials expired");

  const canonicalHeaders = canonicalHeaderBlock(signedHeaders, request.headers);
  if (canonicalHeaders === undefined) return refuse("a signed header is missing from the request");
  const scope = `${credential.date}/${credential.region}/${credential.service}/aws4_request`;
  const key = signingKey(
    issued.secretAccessKey,
    credential.date,
    credential.region,
    credential.service,
  );
  const unsigned = pairs.filter(([name]) => name !== "X-Amz-Signature");
  const queries = [
    canonicalQuery(unsigned.filter(([name]) => name !== "X-Amz-Security-Token")),
    canonicalQuery(unsigned),
  ];
  for (const query of queries) {
    for (const payloadHash of PAYLOAD_HASHES) {
      const canonicalRequest = [
        request.method.toUpperCase(),
        canonicalUri(path),
        query,
        canonicalHeaders,
        signedHeaders.join(";"),
        payloadHash,
      ].join("\n");
      const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
      if (equalStrings(sign(key, stringToSign), signature))
        return { ok: true, credentials: issued };
    }
  }
  return refuse("signature does not match");
}

interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredentialScope(value: string | undefined): CredentialScope | undefined {
  const match = /^([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/.exec(
    value ?? "",
  );
  if (!match) return undefined;
  return { accessKeyId: match[1]!, date: match[2]!, region: match[3]!, service: match[4]! };
}

/**
 * Splits the raw query into decoded pairs. `+` stays `+` (SigV4 encodes spaces as `%20`, and a
 * token appended unencoded keeps its base64 `+`), which `URLSearchParams` would turn into spaces.
 */
function parseQuery(raw: string): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    try {
      pairs.push(
        eq < 0
          ? [decodeURIComponent(part), ""]
          : [decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))],
      );
    } catch {
      return undefined;
    }
  }
  return pairs;
}

/** Non-S3 services encode each path segment of the (already encoded) path once more. */
function canonicalUri(path: string): string {
  return path
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
}

function canonicalHeaderBlock(
  names: string[],
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  let block = "";
  for (const name of [...names].sort()) {
    const raw = headers[name];
    if (raw === undefined) return undefined;
    const value = (Array.isArray(raw) ? raw.join(",") : raw).trim().replace(/\s+/g, " ");
    block += `${name}:${value}\n`;
  }
  return block;
}
