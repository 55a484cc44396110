/**
 * SigV4 verification for `AWS_IAM` routes, as API Gateway does it: the signature is recomputed
 * over the request as it arrived (method, path, query, the headers named in SignedHeaders, the
 * payload hash), with the secret of the credentials STS issued. Both placements are accepted:
 * the `Authorization` header and a presigned query string. The failure messages are API
 * Gateway's own (they reach the client as `{"message": ...}` with status 403).
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
import type { Rejection } from "./types";

const SERVICE = "execute-api";
/** API Gateway accepts a signing time this far either side of its clock. */
const CLOCK_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const EMPTY_SHA256 = sha256Hex("");

export const Messages = {
  forbidden: "Forbidden",
  mismatch:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  invalidToken: "The security token included in the request is invalid",
  expiredToken: "The security token included in the request is expired",
} as const;

export interface SignedRequest {
  method: string;
  /** The path exactly as it came on the wire (percent-encoded), without the query. */
  rawPath: string;
  /** The query string as it came on the wire, without `?`. */
  rawQuery: string;
  /** Lower-case names; repeated headers joined with `,`. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface VerifiedCaller {
  credentials: IssuedCredentials;
}

interface ParsedSignature {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  sessionToken: string | undefined;
  /** Presigned: seconds the URL is valid from `amzDate`. */
  expires?: number;
  presigned: boolean;
}

function reject(message: string, reason: string): Rejection {
  return { status: 403, message, reason };
}

/** Verifies the request's signature; the caller's issued credentials, or API Gateway's refusal. */
export function verifySigV4(
  request: SignedRequest,
  options: {
    region: string;
    nowMs: number;
    lookupCredentials: (accessKeyId: string) => IssuedCredentials | undefined;
  },
): VerifiedCaller | Rejection {
  const query = parseQuery(request.rawQuery);
  const parsed = parseSignature(request.headers, query);
  if ("status" in parsed) return parsed;

  if (parsed.service !== SERVICE) {
    return reject(
      `Credential should be scoped to correct service: '${SERVICE}'. `,
      `scope service ${parsed.service}`,
    );
  }
  if (parsed.region !== options.region) {
    return reject(
      `Credential should be scoped to a valid region, not '${parsed.region}'. `,
      `scope region ${parsed.region}`,
    );
  }
  const signedAt = parseAmzDate(parsed.amzDate);
  if (signedAt === undefined) {
    return reject(
      `Date must be in ISO-8601 'basic format'. Got '${parsed.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      "bad x-amz-date",
    );
  }
  if (parsed.amzDate.slice(0, 8) !== parsed.date) {
    return reject(
      `Credential should be scoped to a valid date: '${parsed.amzDate.slice(0, 8)}'. `,
      "scope date differs from x-amz-date",
    );
  }
  if (parsed.presigned) {
    const expires = parsed.expires ?? Number.NaN;
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
      return reject(Messages.forbidden, "bad X-Amz-Expires");
    }
    if (options.nowMs > signedAt + expires * 1000) {
      return reject(
        `Signature expired: ${parsed.amzDate} is now earlier than ${amzDate(options.nowMs - expires * 1000)} (${amzDate(options.nowMs)} - ${expires} sec.)`,
        "presigned URL expired",
      );
    }
    if (signedAt > options.nowMs + CLOCK_SKEW_MS) {
      return reject(
        `Signature not yet current: ${parsed.amzDate} is still later than ${amzDate(options.nowMs + CLOCK_SKEW_MS)} (${amzDate(options.nowMs)} + 15 min.)`,
        "presigned URL from the future",
      );
    }
  } else if (signedAt < options.nowMs - CLOCK_SKEW_MS) {
    return reject(
      `Signature expired: ${parsed.amzDate} is now earlier than ${amzDate(options.nowMs - CLOCK_SKEW_MS)} (${amzDate(options.nowMs)} - 15 min.)`,
      "signature older than 15 minutes",
    );
  } else if (signedAt > options.nowMs + CLOCK_SKEW_MS) {
    return reject(
      `Signature not yet current: ${parsed.amzDate} is still later than ${amzDate(options.nowMs + CLOCK_SKEW_MS)} (${amzDate(options.nowMs)} + 15 min.)`,
      "signature more than 15 minutes ahead",
    );
  }

  const credentials = options.lookupCredentials(parsed.accessKeyId);
  // Only credentials the local STS issued can sign: a dummy key (`test`) has no secret here.
  if (!credentials) return reject(Messages.invalidToken, "unknown access key");
  if (
    parsed.sessionToken === undefined ||
    !equalStrings(parsed.sessionToken, credentials.sessionToken)
  ) {
    return reject(Messages.invalidToken, "session token missing or not the one issued");
  }
  if (Date.parse(credentials.expiration) <= options.nowMs) {
    return reject(Messages.expiredToken, "credentials expired");
  }

  const payloadHash = payloadHashOf(request);
  if (payloadHash === undefined)
    return reject(Messages.mismatch, "x-amz-content-sha256 differs from the body");
  if (!parsed.signedHeaders.includes("host")) return reject(Messages.mismatch, "host not signed");
  for (const name of parsed.signedHeaders) {
    if (request.headers[name] === undefined)
      return reject(Messages.mismatch, `signed header ${name} absent`);
  }
  const canonicalRequest = [
    request.method,
    canonicalPath(request.rawPath),
    canonicalQuery(query.filter(([key]) => key !== "X-Amz-Signature")),
    ...parsed.signedHeaders.map(
      (name) => `${name}:${canonicalHeaderValue(request.headers[name]!)}`,
    ),
    "",
    parsed.signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const stringToSign = [ALGORITHM, parsed.amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = signingKey(credentials.secretAccessKey, parsed.date, parsed.region, parsed.service);
  const expected = sign(key, stringToSign);
  if (!equalStrings(expected, parsed.signature))
    return reject(Messages.mismatch, "signature mismatch");
  return { credentials };
}

function parseSignature(
  headers: Record<string, string>,
  query: Array<[string, string]>,
): ParsedSignature | Rejection {
  const authorization = headers.authorization;
  const fromQuery = (name: string) => query.find(([k]) => k === name)?.[1];
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${ALGORITHM} `)) {
      return reject(Messages.forbidden, "Authorization is not AWS4-HMAC-SHA256");
    }
    const fields = new Map<string, string>();
    for (const part of authorization.slice(ALGORITHM.length + 1).split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const missing = ["Credential", "Signature", "SignedHeaders"].filter((f) => !fields.get(f));
    const amzDate = headers["x-amz-date"];
    if (missing.length > 0 || amzDate === undefined) {
      const parts = missing.map((f) => `Authorization header requires '${f}' parameter.`);
      if (amzDate === undefined) {
        parts.push(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
      }
      return reject(
        `${parts.join(" ")} Authorization=${authorization.split(" ")[0]}`,
        "incomplete Authorization",
      );
    }
    return withCredential(fields.get("Credential")!, {
      signedHeaders: fields.get("SignedHeaders")!.split(";"),
      signature: fields.get("Signature")!,
      amzDate,
      sessionToken: headers["x-amz-security-token"],
      presigned: false,
    });
  }
  if (fromQuery("X-Amz-Algorithm") !== undefined) {
    if (fromQuery("X-Amz-Algorithm") !== ALGORITHM)
      return reject(Messages.forbidden, "bad X-Amz-Algorithm");
    const credential = fromQuery("X-Amz-Credential");
    const signedHeaders = fromQuery("X-Amz-SignedHeaders");
    const signature = fromQuery("X-Amz-Signature");
    const amzDate = fromQuery("X-Amz-Date");
    if (!credential || !signedHeaders || !signature || !amzDate) {
      return reject(Messages.forbidden, "incomplete presigned query");
    }
    return withCredential(credential, {
      signedHeaders: signedHeaders.split(";"),
      signature,
      amzDate,
      sessionToken: fromQuery("X-Amz-Security-Token"),
      expires: Number(fromQuery("X-Amz-Expires")),
      presigned: true,
    });
  }
  return reject(Messages.forbidden, "request not signed");
}

function withCredential(
  credential: string,
  rest: Omit<ParsedSignature, "accessKeyId" | "date" | "region" | "service">,
): ParsedSignature | Rejection {
  const match = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!match) {
    return reject(
      `Credential should be scoped to a valid region. Authorization=${ALGORITHM}`,
      "malformed Credential",
    );
  }
  if (rest.signedHeaders.some((h) => h === "" || h !== h.toLowerCase())) {
    return reject(Messages.mismatch, "malformed SignedHeaders");
  }
  const [, accessKeyId, date, region, service] = match as unknown as string[];
  return { accessKeyId: accessKeyId!, date: date!, region: region!, service: service!, ...rest };
}

/** The hash the signer used: `x-amz-content-sha256` when sent (it must match the body). */
function payloadHashOf(request: SignedRequest): string | undefined {
  const actual = request.body.length === 0 ? EMPTY_SHA256 : sha256Hex(request.body);
  const declared = request.headers["x-amz-content-sha256"];
  if (declared === undefined) return actual;
  // API Gateway, unlike S3, does not take unsigned payloads: the declared hash must be the body's.
  return declared.toLowerCase() === actual ? declared : undefined;
}

/** Segments normalized (`.`, `..`, empty) and encoded once more, as the SDK signers do. */
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

/** Raw query → decoded pairs (no `+` to space: SigV4 clients encode spaces as %20). */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === "") return [];
  return rawQuery.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    return [safeDecode(key), safeDecode(value)];
  });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function canonicalHeaderValue(value: string): string {
  return value
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .trim();
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
}
