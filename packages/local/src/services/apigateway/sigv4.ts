/**
 * SigV4 for `AWS_IAM` routes, as API Gateway checks it: protocol/sigv4 recomputes the signature
 * over the request as it arrived, with the secret of the credentials STS issued; this file holds
 * API Gateway's rules (either placement, a presigned URL must carry `X-Amz-Expires`, no unsigned
 * payloads) and its failure messages (they reach the client as `{"message": ...}` with status 403).
 */
import {
  CLOCK_SKEW_MS,
  decodeQuery,
  formatAmzDate,
  SIGV4_ALGORITHM,
  type SigV4Failure,
  verifySigV4 as verify,
} from "../../protocol/sigv4";
import type { IssuedCredentials } from "../sts/index";
import type { Rejection } from "./types";

const SERVICE = "execute-api";

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

interface VerifiedCaller {
  credentials: IssuedCredentials;
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
  const verified = verify(request, {
    service: SERVICE,
    region: options.region,
    nowMs: options.nowMs,
    lookupCredentials: options.lookupCredentials,
    placements: ["header", "query"],
    presignedExpires: "required",
    // API Gateway, unlike S3, does not take unsigned payloads: the declared hash must be the body's.
    unsignedPayload: false,
    tokenAppendedAfterSigning: false,
  });
  if (verified.ok) return { credentials: verified.credentials };
  return rejection(verified.failure, request, options.nowMs);
}

function rejection(failure: SigV4Failure, request: SignedRequest, nowMs: number): Rejection {
  const reject = (message: string, reason: string): Rejection => ({ status: 403, message, reason });
  switch (failure.reason) {
    case "unsigned":
      return reject(Messages.forbidden, "request not signed");
    case "algorithm":
      return reject(
        Messages.forbidden,
        failure.placement === "header"
          ? "Authorization is not AWS4-HMAC-SHA256"
          : "bad X-Amz-Algorithm",
      );
    case "incomplete": {
      if (failure.placement === "query") {
        return reject(Messages.forbidden, "incomplete presigned query");
      }
      const parts = failure.missing
        .filter((field) => field !== "X-Amz-Date")
        .map((field) => `Authorization header requires '${field}' parameter.`);
      if (failure.missing.includes("X-Amz-Date")) {
        parts.push(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
      }
      const scheme = (request.headers.authorization ?? "").split(" ")[0];
      return reject(`${parts.join(" ")} Authorization=${scheme}`, "incomplete Authorization");
    }
    case "credential":
      return reject(
        `Credential should be scoped to a valid region. Authorization=${SIGV4_ALGORITHM}`,
        "malformed Credential",
      );
    case "signed-headers":
      return reject(Messages.mismatch, "malformed SignedHeaders");
    case "service":
      return reject(
        `Credential should be scoped to correct service: '${SERVICE}'. `,
        `scope service ${failure.service}`,
      );
    case "region":
      return reject(
        `Credential should be scoped to a valid region, not '${failure.region}'. `,
        `scope region ${failure.region}`,
      );
    case "date":
      return reject(
        `Date must be in ISO-8601 'basic format'. Got '${failure.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
        "bad x-amz-date",
      );
    case "scope-date":
      return reject(
        `Credential should be scoped to a valid date: '${failure.amzDate.slice(0, 8)}'. `,
        "scope date differs from x-amz-date",
      );
    case "expires":
      return reject(Messages.forbidden, "bad X-Amz-Expires");
    case "expired": {
      const presigned = failure.window === "expires";
      const window = presigned ? `${failure.seconds} sec.` : "15 min.";
      return reject(
        `Signature expired: ${failure.amzDate} is now earlier than ${formatAmzDate(nowMs - failure.seconds * 1000)} (${formatAmzDate(nowMs)} - ${window})`,
        presigned ? "presigned URL expired" : "signature older than 15 minutes",
      );
    }
    case "not-yet-valid":
      return reject(
        `Signature not yet current: ${failure.amzDate} is still later than ${formatAmzDate(nowMs + CLOCK_SKEW_MS)} (${formatAmzDate(nowMs)} + 15 min.)`,
        failure.placement === "query"
          ? "presigned URL from the future"
          : "signature more than 15 minutes ahead",
      );
    case "unknown-key":
      return reject(Messages.invalidToken, "unknown access key");
    case "token":
      return reject(Messages.invalidToken, "session token missing or not the one issued");
    case "credentials-expired":
      return reject(Messages.expiredToken, "credentials expired");
    case "payload-hash":
      return reject(Messages.mismatch, "x-amz-content-sha256 differs from the body");
    case "host-unsigned":
      return reject(Messages.mismatch, "host not signed");
    case "header-absent":
      return reject(Messages.mismatch, `signed header ${failure.name} absent`);
    case "malformed-query":
    case "signature-format":
    case "mismatch":
      return reject(Messages.mismatch, "signature mismatch");
  }
}

/** Raw query → decoded pairs (no `+` to space: SigV4 clients encode spaces as %20). */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  return decodeQuery(rawQuery).pairs;
}
