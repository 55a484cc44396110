import {
  IdentityMergedError,
  InvalidPreferencesError,
  NotAGuestError,
  UserDeletedError,
} from "../errors";
import * as z from "../zod";
import { type RecordCallerDeps, recordSignedInCaller } from "./attach";
import type { AuthenticatedCaller } from "./caller";
import type { IdentityRecord } from "./model";
import type { IdentityDataStore, IdentityGraph, StoredDataItem } from "./ports";

/**
 * Guest data: small JSON documents per identity (`DATA#<name>`), today only `preferences`.
 * A guest writes them before signing in; a merge folds them into the survivor (ADR 0006).
 */

const PREFERENCES = "preferences";
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
const PreferencesDocument = z
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

const documentBytes = (doc: unknown): number => Buffer.byteLength(JSON.stringify(doc), "utf8");

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

export interface PreferencesDeps extends RecordCallerDeps {
  data: IdentityDataStore;
  graph: Pick<IdentityGraph, "get" | "recordAuthenticated" | "markUserDeleted">;
}

/** The caller of a data route: its identity and, when signed in, the user it signed in as. */
export interface DataCaller {
  identityId: string;
  signedIn?: AuthenticatedCaller;
}

/**
 * What every data route checks on the caller's identity record (read strongly, once):
 * merged away (409 with where it went), its user deleted (410), and, for a caller whose
 * credentials say guest, that no user is recorded on it: guest credentials issued before someone
 * signed in on the device last up to an hour, and must not read or write that user's data
 * (ADR 0006). A signed-in caller whose identity is not recorded yet: `GET` (read-only) refuses it
 * if its user was deleted; `PUT` records it first (`recordSignedInCaller`).
 */
async function checkCaller(
  caller: DataCaller,
  deps: PreferencesDeps,
  mode: "read" | "write",
): Promise<IdentityRecord | null> {
  const record = await deps.graph.get(caller.identityId);
  if (record?.mergedInto !== undefined) {
    throw new IdentityMergedError(caller.identityId, record.mergedInto);
  }
  if (record?.userDeletedAt !== undefined) {
    throw new UserDeletedError(`The user of identity ${caller.identityId} was deleted`);
  }
  const signedIn = caller.signedIn;
  if (signedIn === undefined) {
    if (record?.userSub !== undefined) {
      throw new NotAGuestError(
        "This identity belongs to a signed-in user; it is no guest any more",
      );
    }
    return record;
  }
  if (mode === "write") {
    await recordSignedInCaller(signedIn, record, deps);
  } else if (record?.userSub !== signedIn.userSub && (await deps.deletions.get(signedIn.userSub))) {
    throw new UserDeletedError(`The user of identity ${caller.identityId} was deleted`);
  }
  return record;
}

export async function getPreferences(
  caller: DataCaller,
  deps: PreferencesDeps,
): Promise<{ preferences: Record<string, unknown>; updatedAt?: string }> {
  await checkCaller(caller, deps, "read");
  const item: StoredDataItem | null = await deps.data.get(caller.identityId, PREFERENCES);
  if (item?.mergedInto !== undefined) {
    throw new IdentityMergedError(caller.identityId, item.mergedInto);
  }
  if (item?.userDeletedAt !== undefined) {
    throw new UserDeletedError(`The user of identity ${caller.identityId} was deleted`);
  }
  return item === null
    ? { preferences: {} }
    : { preferences: item.document, updatedAt: item.updatedAt };
}

/**
 * Replaces the caller's preferences (last writer wins). Refused on a merged-away identity (409)
 * and on an erased one (410): the identity's record is read first, and the write itself is
 * conditional on the item being no tombstone, so a write racing a merge or a deletion loses.
 */
export async function putPreferences(
  caller: DataCaller,
  value: unknown,
  deps: PreferencesDeps,
): Promise<{ preferences: Record<string, unknown>; updatedAt: string }> {
  const document = parsePreferences(value);
  await checkCaller(caller, deps, "write");
  const now = deps.now();
  await deps.data.write({
    identityId: caller.identityId,
    name: PREFERENCES,
    document,
    expectedVersion: "any",
    now,
  });
  return { preferences: document, updatedAt: now.toISOString() };
}
