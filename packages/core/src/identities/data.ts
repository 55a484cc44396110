import * as z from "../zod";
import { IdentityMergedError, InvalidPreferencesError } from "./errors";
import type { IdentityDataStore, IdentityGraph, StoredDataItem } from "./ports";

/**
 * Guest data: small JSON documents per identity (`DATA#<name>`), today only `preferences`.
 * A guest writes them before signing in; a merge folds them into the survivor (ADR 0006).
 */

export const PREFERENCES = "preferences";
/** Serialized size bound of one document (UTF-8 bytes); far below DynamoDB's 400 KB item. */
export const MAX_DOCUMENT_BYTES = 4096;
const MAX_KEYS = 64;

const JsonValue: z.ZodMiniType<unknown> = z.lazy(() =>
  z.union([
    z.string().check(z.maxLength(1024)),
    // z.number() refuses non-finite numbers itself.
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValue).check(z.maxLength(64)),
    z.record(z.string().check(z.maxLength(64)), JsonValue),
  ]),
);

/** Top level: an object of at most 64 keys, names `[A-Za-z0-9_.-]{1,64}`. */
export const PreferencesDocument = z
  .record(
    z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, "keys are [A-Za-z0-9_.-]{1,64}")),
    JsonValue,
  )
  .check(
    z.refine((doc) => Object.keys(doc).length <= MAX_KEYS, `at most ${MAX_KEYS} keys`),
    z.refine(
      (doc) => documentBytes(doc) <= MAX_DOCUMENT_BYTES,
      `at most ${MAX_DOCUMENT_BYTES} bytes`,
    ),
  );

export const documentBytes = (doc: unknown): number =>
  Buffer.byteLength(JSON.stringify(doc), "utf8");

export function parsePreferences(value: unknown): Record<string, unknown> {
  const parsed = PreferencesDocument.safeParse(value);
  if (!parsed.success) {
    throw new InvalidPreferencesError(z.prettifyError(parsed.error), { cause: parsed.error });
  }
  return parsed.data as Record<string, unknown>;
}

/**
 * The conflict rule of a merge: per top-level key, the survivor's value wins; keys only the guest
 * has are added. Deterministic and idempotent (folding the same guest twice changes nothing),
 * and it never overwrites what the signed-in user already chose on another device.
 * `overflow` is true when the result would exceed the size bound: then the survivor's document is
 * kept as is and the guest's is preserved beside it (see `overflowName`), so nothing is lost.
 */
export function foldDocuments(
  survivor: Record<string, unknown> | undefined,
  guest: Record<string, unknown>,
): { document: Record<string, unknown>; overflow: boolean } {
  const base = survivor ?? {};
  const merged: Record<string, unknown> = { ...guest, ...base };
  if (documentBytes(merged) > MAX_DOCUMENT_BYTES || Object.keys(merged).length > MAX_KEYS) {
    return { document: base, overflow: true };
  }
  return { document: merged, overflow: false };
}

/** Where a guest document that did not fit goes on the survivor. */
export const overflowName = (name: string, guestId: string): string => `${name}#from#${guestId}`;

export interface PreferencesDeps {
  data: IdentityDataStore;
  graph: Pick<IdentityGraph, "get">;
  now: () => Date;
}

async function assertNotMerged(identityId: string, deps: PreferencesDeps): Promise<void> {
  const record = await deps.graph.get(identityId);
  if (record?.mergedInto !== undefined) {
    throw new IdentityMergedError(identityId, record.mergedInto);
  }
}

export async function getPreferences(
  identityId: string,
  deps: PreferencesDeps,
): Promise<{ preferences: Record<string, unknown>; updatedAt?: string }> {
  const item: StoredDataItem | null = await deps.data.get(identityId, PREFERENCES);
  if (item?.mergedInto !== undefined) throw new IdentityMergedError(identityId, item.mergedInto);
  if (item === null) await assertNotMerged(identityId, deps);
  return item === null
    ? { preferences: {} }
    : { preferences: item.document, updatedAt: item.updatedAt };
}

/** Replaces the caller's preferences (last writer wins); refused on a merged-away identity. */
export async function putPreferences(
  identityId: string,
  value: unknown,
  deps: PreferencesDeps,
): Promise<{ preferences: Record<string, unknown>; updatedAt: string }> {
  const document = parsePreferences(value);
  // The item's own tombstone is checked by the conditional write; the identity's is read first
  // so a write after a merge started (before this item was moved) is redirected too.
  await assertNotMerged(identityId, deps);
  const now = deps.now();
  await deps.data.write({ identityId, name: PREFERENCES, document, expectedVersion: "any", now });
  return { preferences: document, updatedAt: now.toISOString() };
}
