/** JSON 1.1 request reading and response shaping for the Cognito user-pool API. */
import { AwsServiceError } from "../../protocol/errors";
import { JSON_1_1 } from "../../protocol/json";
import type { ServiceResponse } from "../../types";

const CONTENT_TYPE = JSON_1_1;

export type Input = Record<string, unknown>;

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** A required string member, failing as Cognito's request validation does. */
export function requireString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") {
    throw new AwsServiceError(
      "InvalidParameterException",
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" ? value : undefined;
}

export function stringMap(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== "object") return undefined;
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") map[key] = entry;
  }
  return map;
}

/** `[{Name, Value}]` (UserAttributes, ValidationData) as a map; later entries win. */
export function attributeList(value: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  if (!Array.isArray(value)) return map;
  for (const entry of value) {
    if (entry && typeof entry === "object") {
      const { Name, Value } = entry as { Name?: unknown; Value?: unknown };
      if (typeof Name === "string") map[Name] = typeof Value === "string" ? Value : "";
    }
  }
  return map;
}

export function toAttributeList(
  map: Record<string, string>,
): Array<{ Name: string; Value: string }> {
  return Object.entries(map).map(([Name, Value]) => ({ Name, Value }));
}

export function jsonResponse(body: unknown): ServiceResponse {
  return { status: 200, headers: { "content-type": CONTENT_TYPE }, body: JSON.stringify(body) };
}

/** `a***@e***`: how Cognito shows where a code went. */
export function maskDestination(destination: string): string {
  const at = destination.indexOf("@");
  if (at < 0) return `+*******${destination.slice(-4)}`;
  return `${destination.charAt(0)}***@${destination.charAt(at + 1)}***`;
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** One AWS operation: what it needs of the pool's state, and the request's JSON input. */
export type Operation<Context> = (ctx: Context, input: Input) => object | Promise<object>;
