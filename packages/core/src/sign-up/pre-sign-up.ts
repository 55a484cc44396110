import { type BudgetPolicy, budgetFrom, withDeadline } from "../deadline";
import { InvalidEmailError, SignUpRejectedError } from "../errors";
import { buildEvent } from "../events/catalogue";
import { deliverPending, type OutboxStore } from "../events/outbox";
import type { EventPublisher } from "../events/publisher";
import type { ProfileDefaults, ProfileStore } from "../profile/lifecycle";
import { canonicalizeEmail } from "./email";
import { claimAddressOf, hasMixedScriptLocalPart } from "./mailbox";
import {
  decideFederatedLink,
  evaluateSignUp,
  foldsMailboxAliases,
  type PreSignUpTriggerSource,
  providerNameFromUsername,
  type SignUpPolicy,
} from "./policy";
import type {
  DirectoryUser,
  EmailClaim,
  EmailClaimStore,
  FederatedLinkStore,
  UserDirectory,
} from "./ports";

/**
 * Pre sign-up as a domain service: canonical email, policy, uniqueness claim, federated linking.
 * Rejections are `SignUpRejectedError`s whose `userMessage` is safe to show; every other error is
 * a dependency failure that the edge turns into a generic message.
 */

export const SIGN_UP_MESSAGES = {
  emailRequired: "An email address is required.",
  emailInvalid: "Enter a valid email address.",
  emailTaken: "An account with this email address already exists.",
  linkFailed: "We could not link your account. Please try again.",
  mixedScript:
    "This email address mixes letters from different alphabets (for example Latin and Cyrillic). Enter it in one alphabet.",
} as const;

/**
 * When the table's TTL removes the claim of a sign-up that was never confirmed (garbage
 * collection only: a stale claim can be taken over much earlier, see `SIGN_UP_CODE_LIFETIME_MS`).
 * Confirmation makes the claim permanent.
 */
const UNCONFIRMED_CLAIM_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * How long a confirmation code sent at sign-up is valid ("Confirmation codes expire after 24
 * hours", Amazon Cognito Developer Guide, "Signing up and confirming user accounts"). After it,
 * a claim whose owner is still `UNCONFIRMED` no longer stands for a mailbox anybody proved, and a
 * new sign-up may take it over.
 */
export const SIGN_UP_CODE_LIFETIME_MS = 24 * 60 * 60 * 1000;

export interface PreSignUpDeps {
  policy: SignUpPolicy;
  claims: EmailClaimStore;
  directory: UserDirectory;
  links: FederatedLinkStore;
  profiles: ProfileStore;
  outbox: OutboxStore;
  publisher: EventPublisher;
  defaults: ProfileDefaults;
  remainingMs: () => number;
  source: string;
}

interface PreSignUpInput {
  triggerSource: string;
  userName: string;
  /** Raw attribute values: anything may arrive. */
  email: unknown;
  emailVerified: unknown;
  now: Date;
}

type LinkOutcome =
  | { action: "link"; nativeSub: string; providerName: string; eventId: string; published: boolean }
  | { action: "separate"; reason: string };

type PreSignUpOutcome =
  | { action: "pass-through"; reason: "unknown-trigger-source" | "federated-without-email" }
  | {
      action: "allow";
      autoConfirmUser: boolean;
      autoVerifyEmail: boolean;
      emailClaim: "claimed" | "not-claimed";
      link?: LinkOutcome;
    };

const KNOWN_SOURCES: ReadonlySet<string> = new Set<PreSignUpTriggerSource>([
  "PreSignUp_SignUp",
  "PreSignUp_AdminCreateUser",
  "PreSignUp_ExternalProvider",
]);

const CALL_BUDGET: BudgetPolicy = { reserveMs: 1000, maxMs: 1500 };

function canonicalOrReject(email: unknown): string {
  if (email === undefined || email === null || email === "") {
    throw new SignUpRejectedError(SIGN_UP_MESSAGES.emailRequired);
  }
  try {
    return canonicalizeEmail(email as string).canonical;
  } catch (cause) {
    if (cause instanceof InvalidEmailError) {
      throw new SignUpRejectedError(SIGN_UP_MESSAGES.emailInvalid, { cause });
    }
    throw cause;
  }
}

/** Throws `SignUpRejectedError` for a refused sign-up; any other error is a dependency failure. */
export async function preSignUp(
  input: PreSignUpInput,
  deps: PreSignUpDeps,
): Promise<PreSignUpOutcome> {
  if (!KNOWN_SOURCES.has(input.triggerSource)) {
    return { action: "pass-through", reason: "unknown-trigger-source" };
  }
  const triggerSource = input.triggerSource as PreSignUpTriggerSource;
  const federated = triggerSource === "PreSignUp_ExternalProvider";
  if (federated && (typeof input.email !== "string" || input.email === "")) {
    // Nothing to check, claim or link on; Cognito's own schema decides whether it may exist.
    return { action: "pass-through", reason: "federated-without-email" };
  }
  if (typeof input.userName !== "string" || input.userName === "") {
    throw new SignUpRejectedError(SIGN_UP_MESSAGES.emailInvalid);
  }
  const canonicalEmail = canonicalOrReject(input.email);
  const providerName = federated
    ? providerNameFromUsername(input.userName, deps.policy.trustedFederationProviders ?? [])
    : undefined;
  const decision = evaluateSignUp(deps.policy, {
    canonicalEmail,
    triggerSource,
    emailVerified: input.emailVerified as boolean | string | undefined,
    ...(providerName !== undefined ? { providerName } : {}),
  });
  if (decision.decision === "deny") {
    throw new SignUpRejectedError(decision.userMessage);
  }

  if (federated) {
    // Federated users never claim the address: a separate federated user with the same email is
    // allowed (that is what "not linked" means), and a linked one becomes the native user.
    const link = await linkFederatedUser(input, canonicalEmail, providerName, deps);
    return {
      action: "allow",
      autoConfirmUser: false,
      autoVerifyEmail: decision.autoVerifyEmail,
      emailClaim: "not-claimed",
      link,
    };
  }

  if (hasMixedScriptLocalPart(canonicalEmail)) {
    throw new SignUpRejectedError(SIGN_UP_MESSAGES.mixedScript);
  }
  let claimAddress: string;
  try {
    claimAddress = claimAddressOf(canonicalEmail, {
      foldAliases: foldsMailboxAliases(deps.policy),
    });
  } catch (cause) {
    if (cause instanceof InvalidEmailError) {
      throw new SignUpRejectedError(SIGN_UP_MESSAGES.emailInvalid, { cause });
    }
    throw cause;
  }
  const claimed = await claimOrTakeOver(
    {
      canonicalEmail: claimAddress,
      owner: input.userName,
      now: input.now,
      // An administrator's user is never confirmed through post confirmation: no expiry.
      ...(triggerSource === "PreSignUp_SignUp"
        ? { expiresAt: new Date(input.now.getTime() + UNCONFIRMED_CLAIM_TTL_MS) }
        : {}),
    },
    deps,
  );
  if (claimed === "taken") throw new SignUpRejectedError(SIGN_UP_MESSAGES.emailTaken);
  return {
    action: "allow",
    autoConfirmUser: decision.autoConfirm,
    autoVerifyEmail: decision.autoVerifyEmail,
    emailClaim: "claimed",
  };
}

type ClaimRequest = Omit<Parameters<EmailClaimStore["claim"]>[0], "signal">;

/**
 * Claims the address, or takes over a stale claim: one whose sign-up code lifetime has passed and
 * whose owner never confirmed (`UNCONFIRMED`) or no longer exists. Every step is a conditional
 * write or a read, so a retried or concurrent invocation lands on the same answer.
 */
async function claimOrTakeOver(
  request: ClaimRequest,
  deps: PreSignUpDeps,
): Promise<"claimed" | "taken"> {
  const call = <T>(work: (signal: AbortSignal) => Promise<T>) =>
    withDeadline(budgetFrom(deps.remainingMs(), CALL_BUDGET), work);
  if ((await call((signal) => deps.claims.claim({ ...request, signal }))) === "claimed") {
    return "claimed";
  }
  const previous = await call((signal) => deps.claims.get(request.canonicalEmail, { signal }));
  // Released between the two calls: claim again (once; a second loss is a plain conflict).
  if (previous === null) return call((signal) => deps.claims.claim({ ...request, signal }));
  // A concurrent retry of this very sign-up (Cognito retries triggers) took it over meanwhile.
  if (previous.owner === request.owner) return "claimed";
  if (!isPastCodeLifetime(previous, request.now)) return "taken";
  // The claim may be written a moment before Cognito creates its user, so "no such user" counts
  // only for a claim this old.
  const status = await call((signal) => deps.directory.userStatus(previous.owner, { signal }));
  if (status !== null && status !== "UNCONFIRMED") return "taken";
  const tookOver = await call((signal) => deps.claims.takeOver({ ...request, previous, signal }));
  if (tookOver) return "claimed";
  // Lost the race: to another taker (taken), or to a concurrent retry of this sign-up, whose claim
  // this owner's conditional claim accepts.
  return call((signal) => deps.claims.claim({ ...request, signal }));
}

function isPastCodeLifetime(claim: EmailClaim, now: Date): boolean {
  const claimedAt = Date.parse(claim.claimedAt);
  // A claim without a readable time is treated as fresh: never taken over by mistake.
  return Number.isFinite(claimedAt) && now.getTime() - claimedAt >= SIGN_UP_CODE_LIFETIME_MS;
}

async function linkFederatedUser(
  input: PreSignUpInput,
  canonicalEmail: string,
  providerName: string | undefined,
  deps: PreSignUpDeps,
): Promise<LinkOutcome> {
  if (providerName === undefined) return { action: "separate", reason: "untrusted-provider" };
  const found = await withDeadline(budgetFrom(deps.remainingMs(), CALL_BUDGET), (signal) =>
    findCandidates(input.email as string, canonicalEmail, deps, signal),
  );
  const natives = found.filter((user) => {
    if (user.status === "EXTERNAL_PROVIDER" || user.email === undefined) return false;
    try {
      return canonicalizeEmail(user.email).canonical === canonicalEmail;
    } catch {
      return false;
    }
  });
  // Two native users for one mailbox should not exist; if they do, linking would pick one blindly.
  if (natives.length > 1) return { action: "separate", reason: "ambiguous-native-user" };
  const native = natives[0];
  const decision = decideFederatedLink({
    providerName,
    emailVerified: input.emailVerified as boolean | string | undefined,
    trustedProviders: deps.policy.trustedFederationProviders ?? [],
    existingNativeUser:
      native === undefined
        ? null
        : { username: native.username, emailVerified: native.emailVerified },
  });
  if (decision.action === "separate") return decision;
  const nativeSub = native?.sub;
  if (nativeSub === undefined) return { action: "separate", reason: "native-user-without-sub" };

  const nativeProfile = await withDeadline(budgetFrom(deps.remainingMs(), CALL_BUDGET), (signal) =>
    deps.profiles.get(nativeSub, { signal }),
  ).catch(() => null);
  const event = buildEvent("boardingpass.user.federated-linked.v1", {
    subject: nativeSub,
    data: { sub: nativeSub, tenant: nativeProfile?.tenant ?? deps.defaults.tenant, providerName },
    time: input.now,
    source: deps.source,
  });
  // Record first, link second: a crash after linking must not lose the event. If the link call
  // fails, the record is withdrawn before anyone could have relayed it.
  const { recorded, key } = await withDeadline(
    budgetFrom(deps.remainingMs(), CALL_BUDGET),
    (signal) =>
      deps.links.recordLink(
        { sub: nativeSub, providerName, event, writtenAt: input.now },
        { signal },
      ),
  );
  const providerUserId = input.userName.slice(providerName.length + 1);
  let linked: "linked" | "already-linked";
  try {
    linked = await withDeadline(budgetFrom(deps.remainingMs(), CALL_BUDGET), (signal) =>
      deps.directory.linkProviderToUser(
        { nativeUsername: decision.nativeUsername, providerName, providerUserId },
        { signal },
      ),
    );
  } catch (cause) {
    if (recorded) await deps.links.discardLink(key, event.id).catch(() => undefined);
    throw new SignUpRejectedError(SIGN_UP_MESSAGES.linkFailed, { cause });
  }
  // Already linked is success only for a retry of our own link (the record predates this call);
  // a fresh record means the identity belongs to someone else's link.
  if (linked === "already-linked" && recorded) {
    await deps.links.discardLink(key, event.id).catch(() => undefined);
    throw new SignUpRejectedError(SIGN_UP_MESSAGES.linkFailed);
  }
  let published = false;
  if (recorded) {
    const budget = budgetFrom(deps.remainingMs(), CALL_BUDGET);
    if (budget > 0) {
      const delivery = await withDeadline(budget, (signal) =>
        deliverPending([{ key, event }], {
          publisher: deps.publisher,
          store: deps.outbox,
          signal,
        }),
      ).catch(() => ({ delivered: [] as string[] }));
      published = delivery.delivered.includes(event.id);
    }
  }
  return { action: "link", nativeSub, providerName, eventId: event.id, published };
}

/**
 * Native users who may hold the address: the owner of its uniqueness claim, and exact matches of
 * the address as given and in canonical form (ListUsers compares exactly; users from before the
 * claims existed have none). Deduplicated by username.
 */
async function findCandidates(
  email: string,
  canonicalEmail: string,
  deps: PreSignUpDeps,
  signal: AbortSignal,
): Promise<DirectoryUser[]> {
  const byOwner = async () => {
    const owner = await deps.claims.ownerOf(canonicalEmail, { signal });
    if (owner === null) return [];
    const user = await deps.directory.findUserByUsername(owner, { signal });
    return user === null ? [] : [user];
  };
  const lists = await Promise.all([
    byOwner(),
    deps.directory.findUsersByEmail(email, { signal }),
    email === canonicalEmail ? [] : deps.directory.findUsersByEmail(canonicalEmail, { signal }),
  ]);
  return [...new Map(lists.flat().map((user) => [user.username, user])).values()];
}
