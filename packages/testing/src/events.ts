import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Where the real-shape event fixtures live: `test/events/<source>/<name>.json` at the repository root. */
const EVENTS_DIR = path.resolve(import.meta.dirname, "../../../test/events");

/**
 * The AWS services whose Lambda events have fixtures: user-pool triggers, HTTP API (payload format
 * 2.0) proxy requests, SNS deliveries and Kinesis batches.
 */
type EventSource = "cognito" | "apigw" | "sns" | "kinesis";

/**
 * A fresh deep copy of the fixture `name` of `source` (parsed from its JSON, so a test may mutate
 * it freely). Throws, naming the file, when it does not exist.
 */
export function loadEvent<T = Record<string, unknown>>(source: EventSource, name: string): T {
  const file = path.join(EVENTS_DIR, source, `${name}.json`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (error) {
    throw new Error(`Cannot load the ${source} event fixture ${file}`, { cause: error });
  }
}

/** The fixture names of `source`, sorted (what `loadEvent` accepts). */
export function eventNames(source: EventSource): string[] {
  return readdirSync(path.join(EVENTS_DIR, source))
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.replace(/\.json$/, ""))
    .sort();
}
