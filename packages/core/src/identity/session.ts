import { ReauthenticationRequiredError } from "../errors";
import type { LiveSessions } from "./ports";

/** What the JWT authorizer verified, and the token it verified (to ask the pool about it). */
interface PresentedSession {
  accessToken: string;
  /** The token's `sub`. */
  sub: string;
  /** The token's `auth_time` (seconds): when the user last signed in; a refresh keeps it. */
  authTime: unknown;
}

export interface RecentSessionPolicy {
  sessions: LiveSessions;
  /** A sign-in older than this is not recent (ADR 0007: 15 minutes by default). */
  maxAgeSeconds: number;
  now: () => Date;
}

/**
 * Irreversible operations (account deletion) run only for a session that is **recent** (the
 * sign-in, `auth_time`, within `maxAgeSeconds`) and **live** (the user pool still accepts the
 * access token: `GlobalSignOut`, `RevokeToken`, a disabled or deleted user end it). A stolen token
 * then erases nothing once the user signed out, and a token left on a device erases nothing after
 * the window. Both failures throw `ReauthenticationRequiredError`: the app asks for a new sign-in.
 * Recency is checked first: it needs no call to the pool.
 */
export async function requireRecentSession(
  session: PresentedSession,
  policy: RecentSessionPolicy,
): Promise<void> {
  const authTime = Number(session.authTime);
  const ageSeconds = policy.now().getTime() / 1000 - authTime;
  // A missing or future auth_time is no evidence of a recent sign-in.
  if (!Number.isFinite(authTime) || ageSeconds > policy.maxAgeSeconds || ageSeconds < -300) {
    throw new ReauthenticationRequiredError("session-too-old", policy.maxAgeSeconds);
  }
  const user = await policy.sessions.userOf(session.accessToken);
  if (user === null || user.sub !== session.sub) {
    throw new ReauthenticationRequiredError("session-revoked", policy.maxAgeSeconds);
  }
}
