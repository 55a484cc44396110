import { randomUUID } from "node:crypto";
import { loadEvent } from "@boarding-pass/testing";

/** A fresh deep copy of a fixture from test/events/cognito, with optional overrides. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return loadEvent<T>("cognito", name);
}

/** A fresh Cognito-shaped sub (UUID v4). */
export const freshSub = (): string => randomUUID();

export const freshEmail = (domain = "example.com"): string =>
  `user-${randomUUID().slice(0, 12)}@${domain}`;
