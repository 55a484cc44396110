import { type BudgetPolicy, budgetFrom, withDeadline } from "../deadline";
import { canonicalizeEmail } from "./email";
import { claimAddressCandidates, claimAddressOf } from "./mailbox";
import { isEmailVerified } from "./policy";
import type { EmailClaimStore } from "./ports";

/**
 * Keeps a user's email claims on the address Cognito has verified for them, from pre token
 * generation. Why there: Cognito has no trigger for a verified attribute change (custom message
 * fires before verification, and only with a message to send; an admin's
 * AdminUpdateUserAttributes with `email_verified` sends none), but every sign-in and every refresh
 * runs pre token generation with the user's current attributes. With "keep original attribute
 * value active" on (the pool's `keepOriginal`), `email` only changes once the new address is
 * verified, so the event's verified `email` is the address the user proved.
 *
 * Each run: list the user's claims (owner index); if the only one is the current address and it is
 * permanent, nothing to do (one Query on the hot path). Otherwise claim the current address
 * (idempotent for this owner), then release every other claim the user holds (each release is
 * conditional on the owner). If another user holds the new address, nothing is released: the user
 * keeps their old claims and the conflict is reported for the logs; an email change never takes an
 * address from someone else.
 *
 * Never blocks a sign-in: the caller runs this beside the profile read and swallows its failure;
 * every step is idempotent, so the next sign-in or refresh finishes what a timeout left.
 */

type EmailClaimSyncOutcome =
  | { outcome: "skipped"; reason: "federated" | "unverified" | "no-email" | "invalid-email" }
  | { outcome: "in-sync" }
  | { outcome: "claimed"; released: number }
  | { outcome: "conflict" };

interface EmailClaimSyncInput {
  username: string;
  /** Raw attribute values from the event. */
  email: unknown;
  emailVerified: unknown;
  /** `cognito:user_status`; federated users (`EXTERNAL_PROVIDER`) never hold claims. */
  userStatus: unknown;
  now: Date;
  foldAliases: boolean;
}

interface EmailClaimSyncDeps {
  claims: EmailClaimStore;
  remainingMs: () => number;
}

/** One budget for the whole sync, inside Cognito's 5 s and beside the profile read. */
const CLAIM_SYNC_BUDGET: BudgetPolicy = { reserveMs: 1500, maxMs: 2000 };

export function syncEmailClaim(
  input: EmailClaimSyncInput,
  deps: EmailClaimSyncDeps,
): Promise<EmailClaimSyncOutcome> {
  if (input.userStatus === "EXTERNAL_PROVIDER") {
    return Promise.resolve({ outcome: "skipped", reason: "federated" });
  }
  if (!isEmailVerified(input.emailVerified)) {
    return Promise.resolve({ outcome: "skipped", reason: "unverified" });
  }
  if (typeof input.email !== "string" || input.email === "" || input.username === "") {
    return Promise.resolve({ outcome: "skipped", reason: "no-email" });
  }
  let canonical: string;
  let address: string;
  try {
    canonical = canonicalizeEmail(input.email).canonical;
    address = claimAddressOf(canonical, { foldAliases: input.foldAliases });
  } catch {
    return Promise.resolve({ outcome: "skipped", reason: "invalid-email" });
  }
  return withDeadline(budgetFrom(deps.remainingMs(), CLAIM_SYNC_BUDGET), (signal) =>
    reconcile(input.username, canonical, address, input.now, deps.claims, signal),
  );
}

async function reconcile(
  owner: string,
  canonical: string,
  address: string,
  now: Date,
  claims: EmailClaimStore,
  signal: AbortSignal,
): Promise<EmailClaimSyncOutcome> {
  const owned = await claims.ownedBy(owner, { signal });
  if (owned.length === 1 && owned[0]?.canonicalEmail === address && owned[0].permanent) {
    return { outcome: "in-sync" };
  }
  const claimed = await claims.claim({ canonicalEmail: address, owner, now, signal });
  if (claimed === "taken") return { outcome: "conflict" };
  // The other forms of the current address (a claim from before folding was switched on or off)
  // and every earlier address: gone, each only if still this owner's.
  const others = new Set([
    ...claimAddressCandidates(canonical),
    ...owned.map((claim) => claim.canonicalEmail),
  ]);
  others.delete(address);
  let released = 0;
  for (const other of others) {
    if (await claims.release({ canonicalEmail: other, owner, signal })) released += 1;
  }
  return { outcome: "claimed", released };
}
