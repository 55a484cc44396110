import { AwsServiceError } from "../../protocol/errors";
/** The opaque `NextToken` of ListIdentityPools and ListIdentities: an offset, base64url JSON. */

export function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64url");
}

export function decodeToken(token: unknown): number {
  if (typeof token !== "string" || token === "") return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      offset: unknown;
    };
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    /* fall through */
  }
  throw new AwsServiceError("InvalidParameterException", "Invalid NextToken");
}
