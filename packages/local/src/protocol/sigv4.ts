/**
 * The one SigV4 verifier of the local cloud ("Signature Version 4 signing process",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 * the canonical request, the string to sign, the signing key, and `verifySigV4` for both
 * placements of a signature, the `Authorization` header and the presigned query
 * (`X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, `-Signature`,
 * `-Security-Token`). Services choose the rules that differ between them (placements, whether a
 * presigned URL must say when it expires, unsigned payloads, AWS IoT's token appended after
 * signing) and turn a refusal's `reason` into their own wire error; nothing here knows a message.
 *
 * Where "Create a canonical request" leaves room, the rule is the AWS SDK's own signer
 * (@smithy/signature-v4), which the tests sign with:
 * - path: segments normalized (empty, `.`, `..` removed) and each encoded once more, as for every
 *   service but S3;
 * - query: decoded pairs, encoded, sorted by name then value; `X-Amz-Signature` (any case) left
 *   out; empty `&&` parts carry no parameter and are skipped;
 * - headers: in the order SignedHeaders lists them, CR/LF to space, runs of spaces and tabs to
 *   one, one leading and trailing space dropped;
 * - payload: `x-amz-content-sha256` when sent (it must be the body's hash, or `UNSIGNED-PAYLOAD`
 *   where the service allows it), else the body's hash (that of the empty string without one).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** AWS accepts a signing time this far either side of its clock. */
export const CLOCK_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may be valid: seven days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 wants. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sha256Hex(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("hex");
}

const EMPTY_SHA256 = sha256Hex("");

/** Constant-time comparison (signatures, session tokens). */
function equalStrings(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `20261126T160000Z` → epoch ms. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Epoch ms → `20261126T160000Z`. */
export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
}

/**
 * Raw query → decoded pairs, in order, `+` kept as `+` (SigV4 clients encode spaces as %20, and a
 * token appended unencoded keeps its base64 `+`). A part that is not valid percent-encoding is kept
 * as sent and flagged: no compliant signer produces one.
 */
export function decodeQuery(rawQuery: string): {
  pairs: Array<[string, string]>;
  malformed: boolean;
} {
  let malformed = false;
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      malformed = true;
      return value;
    }
  };
  if (rawQuery === "") return { pairs: [], malformed };
  const pairs = rawQuery.split("&").map((pair): [string, string] => {
    const eq = pair.indexOf("=");
    return eq < 0 ? [decode(pair), ""] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
  });
  return { pairs, malformed };
}

/** Decoded pairs, encoded and sorted by name then value, joined as the canonical query. */
function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** The raw (percent-encoded) path, normalized and encoded once more, as non-S3 services sign it. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return `/${segments.map(uriEncode).join("/")}${trailing}`;
}

function canonicalHeaderValue(value: string): string {
  return value
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
}

interface CanonicalRequestParts {
  method: string;
  rawPath: string;
  /** Decoded pairs, `X-Amz-Signature` already left out. */
  query: Array<[string, string]>;
  /** Lower-case names, in SignedHeaders order, with their values as received. */
  headers: Array<[string, string]>;
  payloadHash: string;
}

function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    canonicalPath(parts.rawPath),
    canonicalQuery(parts.query),
    ...parts.headers.map(([name, value]) => `${name}:${canonicalHeaderValue(value)}`),
    "",
    parts.headers.map(([name]) => name).join(";"),
    parts.payloadHash,
  ].join("\n");
}

function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join("\n");
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  let key = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, "aws4_request"]) {
    key = createHmac("sha256", key).update(part).digest();
  }
  return key;
}

/** The hex signature of `stringToSign` under the derived key. */
function sign(key: Buffer, toSign: string): string {
  return createHmac("sha256", key).update(toSign).digest("hex");
}

export interface SigV4Request {
  method: string;
  /** The path exactly as it came on the wire (percent-encoded), without the query. */
  rawPath: string;
  /** The query string as it came on the wire, without `?`. */
  rawQuery: string;
  /** Lower-case names; repeated headers as an array or already joined with `,`. */
  headers: Record<string, string | string[] | undefined>;
  /** The body as received; none is the empty payload. */
  body?: Buffer;
}

/** What the verifier needs of credentials the local STS issued. */
export interface SigningCredentials {
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601. */
  expiration: string;
}

type Placement = "header" | "query";

export interface SigV4Rules<C extends SigningCredentials> {
  service: string;
  region: string;
  nowMs: number;
  lookupCredentials(accessKeyId: string): C | undefined;
  /** Where a signature may be: the `Authorization` header (which wins) and/or the query. */
  placements: readonly Placement[];
  /** Presigned URLs without `X-Amz-Expires`: refused, or valid for the clock skew either side. */
  presignedExpires: "required" | "optional";
  /** `UNSIGNED-PAYLOAD` accepted (declared, or presigned without a declared hash). */
  unsignedPayload: boolean;
  /** Presigned only: the token may be appended after signing (AWS IoT's documented quirk). */
  tokenAppendedAfterSigning: boolean;
}

/** Why a request was refused, with what a service's message needs; checked in this order. */
export type SigV4Failure =
  | { reason: "unsigned" }
  | { reason: "algorithm"; placement: Placement }
  /**
   * Header: `Credential`, `Signature`, `SignedHeaders`, `X-Amz-Date`; query: the `X-Amz-*` names
   * absent, empty or repeated.
   */
  | { reason: "incomplete"; placement: Placement; missing: string[] }
  | { reason: "credential"; placement: Placement }
  | { reason: "signed-headers"; placement: Placement }
  | { reason: "service"; service: string }
  | { reason: "region"; region: string }
  | { reason: "date"; amzDate: string }
  | { reason: "scope-date"; amzDate: string }
  | { reason: "expires" }
  /** `window`: the presigned URL's `X-Amz-Expires`, or the clock skew. */
  | { reason: "expired"; amzDate: string; window: "expires" | "skew"; seconds: number }
  | { reason: "not-yet-valid"; amzDate: string; placement: Placement }
  | { reason: "unknown-key"; accessKeyId: string }
  | { reason: "token" }
  | { reason: "credentials-expired" }
  | { reason: "payload-hash" }
  | { reason: "host-unsigned" }
  | { reason: "header-absent"; name: string }
  | { reason: "malformed-query" }
  | { reason: "signature-format" }
  | { reason: "mismatch" };

type SigV4Verification<C> = { ok: true; credentials: C } | { ok: false; failure: SigV4Failure };

interface ParsedSignature {
  placement: Placement;
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  sessionToken: string | undefined;
  /** Presigned: `X-Amz-Expires` as sent. */
  expires: string | undefined;
}

const refuse = (failure: SigV4Failure) => ({ ok: false, failure }) as const;

/** Never throws: every malformed input is a refusal with its reason. */
export function verifySigV4<C extends SigningCredentials>(
  request: SigV4Request,
  rules: SigV4Rules<C>,
): SigV4Verification<C> {
  const header = (name: string): string | undefined => {
    const raw = request.headers[name];
    return Array.isArray(raw) ? raw.join(",") : raw;
  };
  const query = decodeQuery(request.rawQuery.split("&").filter(Boolean).join("&"));
  const parsed = parseSignature(header, query.pairs, rules.placements);
  if ("reason" in parsed) return refuse(parsed);

  if (parsed.service !== rules.service)
    return refuse({ reason: "service", service: parsed.service });
  if (parsed.region !== rules.region) return refuse({ reason: "region", region: parsed.region });
  const signedAt = parseAmzDate(parsed.amzDate);
  if (signedAt === undefined) return refuse({ reason: "date", amzDate: parsed.amzDate });
  if (parsed.amzDate.slice(0, 8) !== parsed.date) {
    return refuse({ reason: "scope-date", amzDate: parsed.amzDate });
  }
  const timing = checkTime(parsed, signedAt, rules);
  if (timing) return refuse(timing);

  const credentials = rules.lookupCredentials(parsed.accessKeyId);
  // Only credentials the local STS issued can sign: a dummy key (`test`) has no secret here.
  if (!credentials) return refuse({ reason: "unknown-key", accessKeyId: parsed.accessKeyId });
  // STS session credentials are only valid with their token.
  if (
    parsed.sessionToken === undefined ||
    !equalStrings(parsed.sessionToken, credentials.sessionToken)
  ) {
    return refuse({ reason: "token" });
  }
  if (Date.parse(credentials.expiration) <= rules.nowMs) {
    return refuse({ reason: "credentials-expired" });
  }

  const payloadHashes = payloadHashesOf(
    request.body,
    header("x-amz-content-sha256"),
    parsed,
    rules,
  );
  if (payloadHashes === undefined) return refuse({ reason: "payload-hash" });
  if (!parsed.signedHeaders.includes("host")) return refuse({ reason: "host-unsigned" });
  const headers: Array<[string, string]> = [];
  for (const name of parsed.signedHeaders) {
    const value = header(name);
    if (value === undefined) return refuse({ reason: "header-absent", name });
    headers.push([name, value]);
  }
  if (query.malformed) return refuse({ reason: "malformed-query" });
  if (!/^[0-9a-f]{64}$/.test(parsed.signature)) return refuse({ reason: "signature-format" });

  const unsigned = query.pairs.filter(([name]) => name.toLowerCase() !== "x-amz-signature");
  const queries = [unsigned];
  if (parsed.placement === "query" && rules.tokenAppendedAfterSigning) {
    queries.push(unsigned.filter(([name]) => name !== "X-Amz-Security-Token"));
  }
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const key = signingKey(credentials.secretAccessKey, parsed.date, parsed.region, parsed.service);
  for (const pairs of queries) {
    for (const payloadHash of payloadHashes) {
      const canonical = canonicalRequest({
        method: request.method,
        rawPath: request.rawPath,
        query: pairs,
        headers,
        payloadHash,
      });
      if (
        equalStrings(sign(key, stringToSign(parsed.amzDate, scope, canonical)), parsed.signature)
      ) {
        return { ok: true, credentials };
      }
    }
  }
  return refuse({ reason: "mismatch" });
}

function parseSignature(
  header: (name: string) => string | undefined,
  query: Array<[string, string]>,
  placements: ReadonlyArray<Placement>,
): ParsedSignature | SigV4Failure {
  const authorization = placements.includes("header") ? header("authorization") : undefined;
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${SIGV4_ALGORITHM} `)) {
      return { reason: "algorithm", placement: "header" };
    }
    const fields = new Map<string, string>();
    for (const part of authorization.slice(SIGV4_ALGORITHM.length + 1).split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const missing = ["Credential", "Signature", "SignedHeaders"].filter((f) => !fields.get(f));
    const amzDate = header("x-amz-date");
    if (amzDate === undefined) missing.push("X-Amz-Date");
    if (missing.length > 0 || amzDate === undefined) {
      return { reason: "incomplete", placement: "header", missing };
    }
    return withCredential(fields.get("Credential")!, {
      placement: "header",
      signedHeaders: fields.get("SignedHeaders")!.split(";"),
      signature: fields.get("Signature")!,
      amzDate,
      sessionToken: header("x-amz-security-token"),
      expires: undefined,
    });
  }
  if (!placements.includes("query")) return { reason: "unsigned" };
  const values = (name: string) => query.filter(([key]) => key === name).map(([, value]) => value);
  const single = (name: string) => {
    const found = values(name);
    return found.length === 1 ? found[0] : undefined;
  };
  const algorithm = values("X-Amz-Algorithm");
  if (algorithm.length === 0) return { reason: "unsigned" };
  if (algorithm.length > 1 || algorithm[0] !== SIGV4_ALGORITHM) {
    return { reason: "algorithm", placement: "query" };
  }
  // Repeated parameters are refused rather than guessed at.
  const required = ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"];
  const missing = required.filter((name) => !single(name));
  if (values("X-Amz-Expires").length > 1) missing.push("X-Amz-Expires");
  if (values("X-Amz-Security-Token").length > 1) missing.push("X-Amz-Security-Token");
  if (missing.length > 0) return { reason: "incomplete", placement: "query", missing };
  return withCredential(single("X-Amz-Credential")!, {
    placement: "query",
    signedHeaders: single("X-Amz-SignedHeaders")!.split(";"),
    signature: single("X-Amz-Signature")!,
    amzDate: single("X-Amz-Date")!,
    sessionToken: single("X-Amz-Security-Token"),
    expires: single("X-Amz-Expires"),
  });
}

function withCredential(
  credential: string,
  rest: Omit<ParsedSignature, "accessKeyId" | "date" | "region" | "service">,
): ParsedSignature | SigV4Failure {
  const match = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!match) return { reason: "credential", placement: rest.placement };
  if (rest.signedHeaders.some((h) => h === "" || h !== h.toLowerCase())) {
    return { reason: "signed-headers", placement: rest.placement };
  }
  const [, accessKeyId, date, region, service] = match as unknown as string[];
  return { accessKeyId: accessKeyId!, date: date!, region: region!, service: service!, ...rest };
}

/** Header signatures: within the skew either side. Presigned: within `X-Amz-Expires`, not ahead. */
function checkTime(
  parsed: ParsedSignature,
  signedAt: number,
  rules: SigV4Rules<SigningCredentials>,
): SigV4Failure | undefined {
  const { amzDate, placement } = parsed;
  if (
    placement === "query" &&
    (parsed.expires !== undefined || rules.presignedExpires === "required")
  ) {
    const expires = Number(parsed.expires ?? Number.NaN);
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
      return { reason: "expires" };
    }
    if (rules.nowMs > signedAt + expires * 1000) {
      return { reason: "expired", amzDate, window: "expires", seconds: expires };
    }
  } else if (signedAt < rules.nowMs - CLOCK_SKEW_MS) {
    return { reason: "expired", amzDate, window: "skew", seconds: CLOCK_SKEW_MS / 1000 };
  }
  if (signedAt > rules.nowMs + CLOCK_SKEW_MS)
    return { reason: "not-yet-valid", amzDate, placement };
  return undefined;
}

/** The hashes the signer may have used, or undefined when the declared one is not the body's. */
function payloadHashesOf(
  body: Buffer | undefined,
  declared: string | undefined,
  parsed: ParsedSignature,
  rules: SigV4Rules<SigningCredentials>,
): string[] | undefined {
  const actual = body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
  if (declared !== undefined) {
    if (declared === UNSIGNED_PAYLOAD && rules.unsignedPayload) return [declared];
    return declared.toLowerCase() === actual ? [declared] : undefined;
  }
  // A presigned URL does not say which it used (AWS IoT's examples sign the empty hash).
  return parsed.placement === "query" && rules.unsignedPayload
    ? [actual, UNSIGNED_PAYLOAD]
    : [actual];
}
