import type {
  LinkIdentityBody,
  LinkIdentityResult,
  RouteErrorBody,
} from "@boarding-pass/contracts/routes";
import type { GuestProofSource, GuestProofStore } from "./guest-proof";
import { memoryProofStore } from "./guest-proof";
import { type AwsCredentials, signedFetch } from "./signing";

/**
 * The app side of the guest → signed-in flow (ADR 0006):
 *
 * 1. As a guest, just before sign-in: `beforeSignIn(guestIdentityId)` gets and keeps the guest
 *    proof (GetOpenIdToken, valid 10 minutes).
 * 2. Sign in, then get credentials for the guest id with the Logins (Amplify does this in
 *    `fetchAuthSession()`); Cognito links (same id) or merges (another id) and tells only the app.
 * 3. `afterSignIn(session)`: compares the identity ids and calls `POST /identity/link` with the
 *    new credentials (SigV4) and the proof, so the backend moves what the guest owned.
 */

/** What Amplify v6's `fetchAuthSession()` returns (the part used), or the SDK's equivalent. */
export interface IdentitySession {
  identityId?: string;
  credentials?: AwsCredentials;
}

export type IdentityChange = "unchanged" | "changed";

export function detectIdentityChange(
  guestIdentityId: string,
  signedInIdentityId: string,
): IdentityChange {
  return guestIdentityId === signedInIdentityId ? "unchanged" : "changed";
}

/**
 * What `afterSignIn` reports: the link route's result (packages/contracts/routes.ts) with what the
 * app saw, or why there was nothing to send.
 */
export type LinkReport =
  | (Pick<LinkIdentityResult, "outcome" | "identityId" | "guestIdentityId" | "alreadyDone"> & {
      /** What the app saw: `changed` means Cognito merged the guest into another identity. */
      change: IdentityChange;
    })
  | { outcome: "no-guest" }
  | { outcome: "proof-expired"; guestIdentityId: string };

/** The route refused: `status` and the server's `error` / `reason` (e.g. `expired`). */
export class LinkRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "LinkRequestError";
  }
}

export interface GuestLinkClientOptions {
  /** The HTTP API's base URL (`ApiUrl` stack output). */
  apiUrl: string;
  region: string;
  proofs: GuestProofSource;
  store?: GuestProofStore;
  fetch?: typeof fetch;
  now?: () => number;
  /** A proof with less than this left is not worth sending. */
  minRemainingMs?: number;
}

export class GuestLinkClient {
  private readonly store: GuestProofStore;
  private readonly now: () => number;

  constructor(private readonly options: GuestLinkClientOptions) {
    this.store = options.store ?? memoryProofStore();
    this.now = options.now ?? Date.now;
  }

  /** Keeps a fresh proof for the guest; call right before sign-in. */
  async beforeSignIn(guestIdentityId: string): Promise<void> {
    const proof = await this.options.proofs.getGuestProof(guestIdentityId);
    await this.store.save(proof);
  }

  /** After sign-in: reports link or merge, having made the backend follow Cognito. */
  async afterSignIn(session: IdentitySession): Promise<LinkReport> {
    const proof = await this.store.load();
    if (proof === null) return { outcome: "no-guest" };
    if (session.identityId === undefined || session.credentials === undefined) {
      throw new Error("The session has no identity id or credentials yet");
    }
    if (proof.expiresAt - this.now() < (this.options.minRemainingMs ?? 5_000)) {
      await this.store.clear();
      return { outcome: "proof-expired", guestIdentityId: proof.identityId };
    }
    const change = detectIdentityChange(proof.identityId, session.identityId);
    const response = await signedFetch(
      {
        url: new URL("identity/link", withSlash(this.options.apiUrl)).toString(),
        method: "POST",
        body: {
          guestProof: proof.token,
          guestIdentityId: proof.identityId,
        } satisfies LinkIdentityBody,
        region: this.options.region,
        credentials: session.credentials,
      },
      this.options.fetch,
    );
    const body = (await response.json().catch(() => ({}))) as Partial<LinkIdentityResult> &
      Partial<RouteErrorBody>;
    if (!response.ok) {
      throw new LinkRequestError(
        response.status,
        String(body.error ?? "Error"),
        typeof body.reason === "string" ? body.reason : undefined,
        String(body.message ?? `The link request failed with ${response.status}`),
      );
    }
    await this.store.clear();
    return {
      outcome: body.outcome === "merged" ? "merged" : "linked",
      identityId: String(body.identityId),
      guestIdentityId: String(body.guestIdentityId),
      change,
      alreadyDone: body.alreadyDone === true,
    };
  }
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);
