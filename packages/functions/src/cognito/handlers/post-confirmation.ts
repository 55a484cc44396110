import { budgetFrom, withDeadline } from "@boarding-pass/core/deadline";
import type { EventPublisher, OutboxStore } from "@boarding-pass/core/events";
import { confirmUser, type ProfileDefaults, type ProfileStore } from "@boarding-pass/core/profile";
import {
  canonicalizeEmail,
  claimAddressCandidates,
  type EmailClaimStore,
} from "@boarding-pass/core/sign-up";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { TriggerRefusal, trigger } from "../../kit/trigger";
import { logger, remainingTimeOf } from "../../observability";
import { reportConfirmation } from "./post-confirmation-outcomes";
import { attributesOf, isUuid } from "./trigger-input";

/**
 * Post confirmation. `PostConfirmation_ConfirmSignUp` (also AdminConfirmSignUp and a federated
 * user's first sign-in) creates the profile and `user.confirmed` exactly once, makes the email
 * claim permanent and adds the user to the default group. `PostConfirmation_ConfirmForgotPassword`
 * (every password reset) creates and emits nothing; see docs/events.md.
 */

export const SETUP_FAILED_MESSAGE = "We could not finish setting up your account. Please sign in.";
const INVALID_EVENT_MESSAGE = "We could not confirm this account.";

interface PostConfirmationDeps {
  profiles: ProfileStore;
  outbox: OutboxStore;
  publisher: EventPublisher;
  claims: EmailClaimStore;
  groups: (userPoolId: string) => {
    addUserToGroup(
      username: string,
      group: string,
      options?: { signal?: AbortSignal },
    ): Promise<void>;
  };
  defaults: ProfileDefaults;
  defaultGroup: string;
  source: string;
  now?: () => Date;
}

const CALL_BUDGET = { reserveMs: 1000, maxMs: 1500 };

export function createPostConfirmationHandler(deps: PostConfirmationDeps) {
  return trigger({
    keys: (event) => ({
      triggerSource: (event as { triggerSource?: unknown } | null)?.triggerSource,
    }),
    failure: {
      log: "post confirmation failed",
      metric: "PostConfirmationFailed",
      message: SETUP_FAILED_MESSAGE,
    },
    async handle(event: PostConfirmationTriggerEvent, context) {
      if (event?.triggerSource !== "PostConfirmation_ConfirmSignUp") {
        // ConfirmForgotPassword and anything Cognito adds later: nothing to create.
        logger.info("post confirmation: nothing to do");
        return event;
      }
      const attributes = attributesOf(event);
      const sub = attributes.sub;
      if (!isUuid(sub) || typeof event.userName !== "string" || event.userName === "") {
        logger.warn("post confirmation without a usable sub or username");
        throw new TriggerRefusal(INVALID_EVENT_MESSAGE);
      }
      const remainingMs = remainingTimeOf(context);
      const now = deps.now?.() ?? new Date();
      const result = await confirmUser({ sub, now, source: deps.source }, { ...deps, remainingMs });
      reportConfirmation(result);
      await Promise.all([
        addToDefaultGroup(event.userPoolId, event.userName, deps, remainingMs),
        confirmEmailClaim(attributes.email, event.userName, deps, remainingMs),
      ]);
      return event;
    },
  });
}

function addToDefaultGroup(
  userPoolId: string,
  username: string,
  deps: PostConfirmationDeps,
  remainingMs: () => number,
): Promise<void> {
  return withDeadline(budgetFrom(remainingMs(), CALL_BUDGET), (signal) =>
    deps.groups(userPoolId).addUserToGroup(username, deps.defaultGroup, { signal }),
  );
}

/** Makes the sign-up's email claim permanent (no expiry); a claim that is not ours is left alone. */
async function confirmEmailClaim(
  email: unknown,
  username: string,
  deps: PostConfirmationDeps,
  remainingMs: () => number,
): Promise<void> {
  if (typeof email !== "string") return;
  let canonicalEmail: string;
  try {
    canonicalEmail = canonicalizeEmail(email).canonical;
  } catch {
    return;
  }
  // The claim address with provider aliases folded or not, whichever pre sign-up used (its
  // policy decides): each confirm is conditional on this owner, so the other form is a no-op.
  const confirmed = await withDeadline(budgetFrom(remainingMs(), CALL_BUDGET), async (signal) => {
    const results = await Promise.all(
      claimAddressCandidates(canonicalEmail).map((address) =>
        deps.claims.confirm({ canonicalEmail: address, owner: username, signal }),
      ),
    );
    return results.includes(true);
  });
  // Federated users and admin-created users hold no expiring claim: nothing to confirm.
  if (!confirmed) logger.info("email claim not held by this user");
}
