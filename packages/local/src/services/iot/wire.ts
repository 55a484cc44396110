/** REST JSON request reading and response shaping for the IoT control plane. */
import type { ServiceResponse } from "../../types";
import { DEFAULT_PAGE_SIZE, invalid, MAX_PAGE_SIZE } from "./model";

export function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export function empty(): ServiceResponse {
  return { status: 200, headers: { "content-type": "application/json" }, body: "" };
}

/**
 * Marker-paginated list. `sort` orders by name (ListPolicies); attachment lists keep their order.
 */
export function listed<T>(
  query: URLSearchParams,
  items: T[],
  field: string,
  ascending: boolean,
  sort = true,
): ServiceResponse {
  const pageSize = query.has("pageSize") ? Number(query.get("pageSize")) : DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalid(`pageSize must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  let ordered = items;
  if (sort) {
    const key = (item: T) => (item as { policyName?: string }).policyName ?? String(item);
    ordered = [...items].sort((a, b) => key(a).localeCompare(key(b)));
    if (!ascending) ordered.reverse();
  }
  const marker = query.get("marker");
  const start = marker ? Number(Buffer.from(marker, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid("Invalid marker");
  const page = ordered.slice(start, start + pageSize);
  const end = start + page.length;
  const body: Record<string, unknown> = { [field]: page };
  if (end < ordered.length) body.nextMarker = Buffer.from(String(end)).toString("base64url");
  return json(200, body);
}

export function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? "");
  } catch {
    throw invalid("Invalid percent-encoding in path");
  }
}

export function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    throw invalid("Request body is not valid JSON");
  }
}
