import { SignUpRejectedError } from "@boarding-pass/core/errors";
import { type PreSignUpDeps, preSignUp, type UserDirectory } from "@boarding-pass/core/sign-up";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { trigger } from "../../kit/trigger";
import { remainingTimeOf } from "../../observability";
import { reportSignUp, signUpResponse } from "./pre-sign-up-outcomes";
import { attributesOf, isRecord } from "./trigger-input";

/**
 * Pre sign-up: the stage's sign-up policy, one account per mailbox (canonical, provider aliases
 * folded, mixed-script local parts refused, stale unconfirmed claims taken over; see
 * docs/sign-up-policy.md), and safe linking of federated users (only `decideFederatedLink` says
 * link). Unknown trigger sources pass through
 * unchanged; refusals throw a short message Cognito shows as
 * `PreSignUp failed with error <message>.`
 */

export const UNAVAILABLE_MESSAGE = "Sign-up is temporarily unavailable. Please try again.";

type PreSignUpHandlerDeps = Omit<PreSignUpDeps, "directory" | "remainingMs"> & {
  directory: (userPoolId: string) => UserDirectory;
  now?: () => Date;
};

export function createPreSignUpHandler(deps: PreSignUpHandlerDeps) {
  return trigger({
    keys: (event) => ({ triggerSource: isRecord(event) ? event.triggerSource : undefined }),
    refusal: (error) =>
      error instanceof SignUpRejectedError
        ? { message: error.userMessage, log: "sign-up rejected", metric: "SignUpRejected" }
        : undefined,
    failure: { log: "pre sign-up failed", metric: "PreSignUpFailed", message: UNAVAILABLE_MESSAGE },
    async handle(event: PreSignUpTriggerEvent, context): Promise<PreSignUpTriggerEvent> {
      const attributes = attributesOf(event);
      const outcome = await preSignUp(
        {
          triggerSource: String(isRecord(event) ? event.triggerSource : undefined),
          userName: typeof event.userName === "string" ? event.userName : "",
          email: attributes.email,
          emailVerified: attributes.email_verified,
          now: deps.now?.() ?? new Date(),
        },
        {
          ...deps,
          directory: deps.directory(String(event.userPoolId)),
          remainingMs: remainingTimeOf(context),
        },
      );
      reportSignUp(outcome);
      return signUpResponse(event, outcome);
    },
  });
}
