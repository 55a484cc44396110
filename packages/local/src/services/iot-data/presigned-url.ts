/**
 * Verifies the SigV4 presigned query of an MQTT-over-WebSocket upgrade, as AWS IoT's device
 * gateway does for temporary (Cognito) credentials:
 *
 *   GET /mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256
 *            &X-Amz-Credential=<AKID>/<yyyymmdd>/<region>/iotdevicegateway/aws4_request
 *            &X-Amz-Date=<yyyymmddThhmmssZ>&X-Amz-SignedHeaders=host[&X-Amz-Expires=<s>]
 *            &X-Amz-Signature=<hex>&X-Amz-Security-Token=<token>
 *
 * protocol/sigv4 does the arithmetic; AWS IoT's rules are chosen here. Its documented quirk: the
 * security token is appended *after* signing, so it is not part of the canonical query. Generic
 * presigners (@smithy/signature-v4's `presign`, most SDKs) sign it like any other parameter; both
 * are accepted, as AWS IoT does. The payload hash is that of the empty body (AWS IoT's
 * documented example); `UNSIGNED-PAYLOAD` is accepted too. Without `X-Amz-Expires` the signing
 * time must be within AWS's 15-minute skew.
 */
import { type SigV4Failure, verifySigV4 } from "../../protocol/sigv4";
import type { IssuedCredentials } from "../sts/index";

const IOT_SIGNING_SERVICE = "iotdevicegateway";

interface PresignedRequest {
  method: string;
  /** The request target as received: path and raw (still percent-encoded) query. */
  url: string;
  /** Lower-cased names, as Node's `IncomingMessage.headers`. */
  headers: Record<string, string | string[] | undefined>;
}

type PresignedVerification =
  | { ok: true; credentials: IssuedCredentials }
  | { ok: false; reason: string };

interface VerifyOptions {
  region: string;
  lookupCredentials(accessKeyId: string): IssuedCredentials | undefined;
  now: number;
}

/** Never throws: every malformed input is a refusal with a reason for the log. */
export function verifyPresignedUrl(
  request: PresignedRequest,
  options: VerifyOptions,
): PresignedVerification {
  const queryStart = request.url.indexOf("?");
  const verified = verifySigV4(
    {
      method: request.method,
      rawPath: queryStart < 0 ? request.url : request.url.slice(0, queryStart),
      rawQuery: queryStart < 0 ? "" : request.url.slice(queryStart + 1),
      // An upgrade's body is the WebSocket stream, never part of the signature.
      headers: request.headers,
    },
    {
      service: IOT_SIGNING_SERVICE,
      region: options.region,
      nowMs: options.now,
      lookupCredentials: options.lookupCredentials,
      placements: ["query"],
      presignedExpires: "optional",
      unsignedPayload: true,
      tokenAppendedAfterSigning: true,
    },
  );
  if (verified.ok) return verified;
  return { ok: false, reason: reasonFor(verified.failure, options.region) };
}

/** The log line's reason for each refusal. */
function reasonFor(failure: SigV4Failure, region: string): string {
  switch (failure.reason) {
    case "unsigned":
    case "algorithm":
      return "X-Amz-Algorithm missing or not AWS4-HMAC-SHA256";
    case "incomplete":
      return failure.missing.map((name) => `${name} missing, empty or repeated`).join("; ");
    case "credential":
      return "X-Amz-Credential missing or malformed";
    case "signed-headers":
      return "X-Amz-SignedHeaders malformed";
    case "service":
      return `credential scope names service ${failure.service}, not ${IOT_SIGNING_SERVICE}`;
    case "region":
      return `credential scope names region ${failure.region}, not ${region}`;
    case "date":
      return "X-Amz-Date missing or malformed";
    case "scope-date":
      return "credential scope date is not X-Amz-Date's";
    case "expires":
      return "X-Amz-Expires out of range";
    case "expired":
      return failure.window === "expires"
        ? "presigned URL expired"
        : "signed more than 15 minutes ago";
    case "not-yet-valid":
      return "signed more than 15 minutes in the future";
    case "unknown-key":
      return "unknown access key (not issued by the local STS)";
    case "token":
      return "security token missing or not the session's";
    case "credentials-expired":
      return "credentials expired";
    case "payload-hash":
      return "x-amz-content-sha256 is not the empty body's";
    case "host-unsigned":
      return "X-Amz-SignedHeaders must include host";
    case "header-absent":
      return "a signed header is missing from the request";
    case "malformed-query":
      return "malformed query string";
    case "signature-format":
      return "X-Amz-Signature missing or malformed";
    case "mismatch":
      return "signature does not match";
  }
}
