import type { DeleteUserResult } from "@boarding-pass/contracts/routes";

/**
 * Account deletion through the backend (ADR 0007). Cognito has no deletion trigger, so an app
 * that called Cognito's own `DeleteUser` would leave the user's identities, IoT attachments and
 * data behind: apps delete accounts here instead, with the user's access token.
 */

export interface DeleteAccountOptions {
  /** The HTTP API's base URL (`ApiUrl` stack output). */
  apiUrl: string;
  /** The signed-in user's **access** token (an ID token is refused with 403). */
  accessToken: string;
  fetch?: typeof fetch;
}

/**
 * The deletion route's result (packages/contracts/routes.ts) as apps need it: `already-deleted`
 * when an earlier call had finished it (a retry); `released`, the identities whose IoT policies
 * this call detached.
 */
export type DeletedAccount = Pick<DeleteUserResult, "sub" | "outcome" | "released">;

/** The route refused or failed: `status` and the server's `error` code and message. */
export class AccountDeletionError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = "AccountDeletionError";
  }
}

/** Why the backend wants a fresh sign-in before deleting (see `ReauthenticationRequiredError`). */
export type ReauthenticationReason = "session-revoked" | "session-too-old";

/**
 * 401 `ReauthenticationRequired`: deleting an account needs a live and recent session (ADR 0007).
 * `session-revoked`: this session has ended (signed out, revoked); `session-too-old`: the sign-in
 * is older than `maxAgeSeconds` (refreshing tokens does not renew it). Either way the app asks the
 * user to sign in again (password or provider), then retries with the new access token.
 */
export class ReauthenticationRequiredError extends AccountDeletionError {
  constructor(
    readonly reason: ReauthenticationReason,
    readonly maxAgeSeconds: number | undefined,
    message: string,
  ) {
    super(401, "ReauthenticationRequired", message);
    this.name = "ReauthenticationRequiredError";
  }
}

/**
 * `DELETE /identity/me`. Safe to retry: every step of the backend's deletion is idempotent, so a
 * call cut off half-way is finished by the next one. Sign the user out locally afterwards.
 * Throws `ReauthenticationRequiredError` when the session is not recent or no longer live, and
 * `AccountDeletionError` for any other refusal.
 */
export async function deleteAccount(options: DeleteAccountOptions): Promise<DeletedAccount> {
  const url = new URL(
    "identity/me",
    options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`,
  );
  const response = await (options.fetch ?? fetch)(url, {
    method: "DELETE",
    headers: { authorization: `Bearer ${options.accessToken}` },
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 401 && body.error === "ReauthenticationRequired") {
    throw new ReauthenticationRequiredError(
      body.reason === "session-too-old" ? "session-too-old" : "session-revoked",
      typeof body.maxAgeSeconds === "number" ? body.maxAgeSeconds : undefined,
      String(body.message ?? "Sign in again, then retry."),
    );
  }
  if (!response.ok) {
    throw new AccountDeletionError(
      response.status,
      String(body.error ?? body.message ?? "Error"),
      String(body.message ?? `The account deletion failed with ${response.status}`),
    );
  }
  return {
    sub: String(body.sub),
    outcome: body.outcome === "already-deleted" ? "already-deleted" : "deleted",
    released: Array.isArray(body.released) ? (body.released as DeletedAccount["released"]) : [],
  };
}
