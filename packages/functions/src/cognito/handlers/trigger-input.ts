/**
 * Defensive reads of trigger events. Cognito's shapes are typed, but a trigger must not crash on a
 * hand-made or future event: every field is checked before use.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `event.request.userAttributes`, or an empty object when it is missing or not an object. */
export function attributesOf(event: unknown): Record<string, unknown> {
  const request = isRecord(event) ? event.request : undefined;
  const attributes = isRecord(request) ? request.userAttributes : undefined;
  return isRecord(attributes) ? attributes : {};
}

export function stringArray(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === "string");
}
