import * as z from "./zod";

/**
 * The HTTP API's routes, written once: the route key (stacks/Api.ts defines the route and the role
 * policies that may invoke it), the body schema the handler parses with, and the result the route
 * answers with on success (core returns it, the handler sends it, packages/client reads it).
 * Route keys are API Gateway's `<METHOD> <path>` ("Working with routes for HTTP APIs", API
 * Gateway Developer Guide).
 */
export const ROUTE_KEYS = {
  issueGuestProof: "POST /identity/guest-proof",
  linkIdentity: "POST /identity/link",
  ensureIot: "POST /identity/iot",
  getPreferences: "GET /identity/preferences",
  putPreferences: "PUT /identity/preferences",
  adminGetUser: "GET /admin/users/{sub}",
  adminDeleteUser: "DELETE /admin/users/{sub}",
  deleteMe: "DELETE /identity/me",
  getProfile: "GET /profile",
} as const;

/** As Cognito spells identity ids (`<region>:<uuid>`). */
export const IdentityId = z
  .string()
  .check(
    z.regex(
      /^[a-z]{2}(?:-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    ),
  );

/** A user's Cognito `sub`, the `{sub}` of the admin routes' paths. */
export const UserSub = z.uuid();

// ---------------------------------------------------------------- bodies

/**
 * `POST /identity/link`: the guest proof the app kept. The caller is the signed-in identity from
 * the request context; the body never names it. Unknown keys are refused.
 */
export const LinkIdentityBody = z.strictObject({
  /** The guest identity's OpenID token or the backend's guest proof (a JWT, a few KB). */
  guestProof: z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(8192),
      z.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a JWT"),
    ),
  /** Optional: the guest identity id the app held; must be the proof's `sub`. */
  guestIdentityId: z.optional(IdentityId),
});
export type LinkIdentityBody = z.infer<typeof LinkIdentityBody>;

/** `PUT /identity/preferences`: the document (its own limits are core's, `parsePreferences`). */
export const PutPreferencesBody = z.strictObject({ preferences: z.unknown() });
export type PutPreferencesBody = z.infer<typeof PutPreferencesBody>;

/**
 * The largest `PUT /identity/preferences` body read at all: twice core's document limit, so a
 * document at the limit with JSON's escaping still fits and anything far larger is refused (413)
 * before it is parsed.
 */
export const maxPreferencesBodyBytes = (maxDocumentBytes: number) => 2 * maxDocumentBytes;

// ---------------------------------------------------------------- results

/** `POST /identity/guest-proof`: a 10-minute proof that the caller holds its guest identity. */
export interface GuestProofIssued {
  guestProof: string;
  guestIdentityId: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** `POST /identity/link`: what happened to the guest. */
export interface LinkIdentityResult {
  outcome: "linked" | "merged";
  identityId: string;
  guestIdentityId: string;
  /** True when this call found the work already done (a retry or a replayed proof). */
  alreadyDone: boolean;
  /** Events of this link or merge, with whether they are published yet (else the outbox has them). */
  events: Array<{ id: string; type: string; published: boolean }>;
}

/** `POST /identity/iot`. */
export interface EnsureIotResult {
  identityId: string;
  policyName: string;
  newlyLinked: boolean;
}

/** `GET /identity/preferences` (`updatedAt` absent before the first write) and `PUT`. */
export interface PreferencesResult {
  preferences: Record<string, unknown>;
  updatedAt?: string;
}

/** `DELETE /identity/me` and `DELETE /admin/users/{sub}`. */
export interface DeleteUserResult {
  sub: string;
  /** `deleted`: this call finished it; `already-deleted`: an earlier call had. */
  outcome: "deleted" | "already-deleted";
  /** Identities whose IoT policies were detached (by this call). */
  released: Array<{ identityId: string; policies: string[] }>;
  /** Id of `boardingpass.user.deleted.v1`, and whether it is published (else the relay will). */
  event: { id: string; published: boolean };
}

/** A refusal or failure of any route: a stable `error` code and a message for people. */
export interface RouteErrorBody {
  error: string;
  message: string;
  reason?: string;
  [extra: string]: unknown;
}
