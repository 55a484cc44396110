import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const EVENTS_DIR = join(import.meta.dirname, "../../../../test/events/cognito");

/** A fresh deep copy of a fixture from test/events/cognito, with optional overrides. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), "utf8")) as T;
}

/** A fresh Cognito-shaped sub (UUID v4). */
export const freshSub = (): string => randomUUID();

export const freshEmail = (domain = "example.com"): string =>
  `user-${randomUUID().slice(0, 12)}@${domain}`;
