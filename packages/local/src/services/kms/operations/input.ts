/** Reading a KMS request's members: JSON body, base64 blobs, encryption context, tags, pages. */
import { AwsServiceError } from "../../../protocol/errors";
import { type Body, DEFAULT_LIST_LIMIT, type KmsTag, MAX_LIST_LIMIT, validation } from "../model";

export function parseBody(body: Buffer): Body {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new AwsServiceError("SerializationException", "Request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError("SerializationException", "Request body must be a JSON object");
  }
  return parsed as Body;
}

export function blob(value: unknown, field: string): Buffer {
  if (typeof value !== "string") {
    throw validation(`Value at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return Buffer.from(value, "base64");
}

export function encryptionContext(body: Body): Record<string, string> | undefined {
  const value = body.EncryptionContext;
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw validation("EncryptionContext must be a map of strings");
  }
  for (const entry of Object.values(value)) {
    if (typeof entry !== "string") throw validation("EncryptionContext must be a map of strings");
  }
  return value as Record<string, string>;
}

export function parseTags(value: unknown): KmsTag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 50) throw validation("Tags must be at most 50");
  return value.map((tag: unknown) => {
    const { TagKey, TagValue } = (tag ?? {}) as Partial<KmsTag>;
    if (typeof TagKey !== "string" || TagKey.length < 1 || TagKey.length > 128) {
      throw new AwsServiceError("TagException", "TagKey must be 1 to 128 characters");
    }
    if (typeof TagValue !== "string" || TagValue.length > 256) {
      throw new AwsServiceError("TagException", "TagValue must be at most 256 characters");
    }
    return { TagKey, TagValue };
  });
}

/** `Limit` and `Marker` (an opaque offset) as ListKeys and ListAliases read them. */
export function paginate<T>(items: T[], body: Body): { items: T[]; next?: string } {
  const limit = body.Limit === undefined ? DEFAULT_LIST_LIMIT : Number(body.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw validation(
      `Value at 'limit' failed to satisfy constraint: Member must have value between 1 and ${MAX_LIST_LIMIT}`,
    );
  }
  let start = 0;
  if (body.Marker !== undefined) {
    start = Number(Buffer.from(String(body.Marker), "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) {
      throw new AwsServiceError("InvalidMarkerException", "The marker is not valid");
    }
  }
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return end < items.length
    ? { items: page, next: Buffer.from(String(end)).toString("base64url") }
    : { items: page };
}
