import type { EventPublisher, OutboxStore } from "@boarding-pass/core/events";
import {
  type Profile,
  type ProfileDefaults,
  type ProfileStore,
  profileForToken,
} from "@boarding-pass/core/profile";
import { type EmailClaimStore, syncEmailClaim } from "@boarding-pass/core/sign-up";
import {
  buildClaimsResponse,
  type PreTokenGenerationRequest,
  type RoleCatalog,
  responseShapeOf,
} from "@boarding-pass/core/token-claims";
import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import { trigger } from "../../kit/trigger";
import { remainingTimeOf, type TriggerContext } from "../../observability";
import {
  reportEmailClaim,
  reportEmailClaimSyncFailure,
  reportProfile,
  reportUnusableSub,
} from "./pre-token-generation-outcomes";
import { attributesOf, isRecord, isUuid, stringArray } from "./trigger-input";

/**
 * Pre token generation, V2_0 (deployed) and V1_0 from the same code: the claims builder shapes the
 * response by `event.version`. Claims and roles come only from the profile (one GetItem under a
 * deadline derived from the time left). Missing profile: created here with `profile.repaired`.
 * DynamoDB failing or slow: base claims and the default (never elevated) role, whatever the user's
 * groups say (the claims builder's degraded mode), so nobody is signed out by an outage and nobody
 * keeps an admin role the profile can no longer confirm. Beside the profile read, the user's email
 * claims follow their verified email (core/src/sign-up/email-claim-sync.ts); a failure there is logged and
 * retried at the next token, never refused.
 */

type PreTokenGenerationEvent = PreTokenGenerationTriggerEvent | PreTokenGenerationV2TriggerEvent;

interface PreTokenGenerationDeps {
  profiles: ProfileStore;
  outbox: OutboxStore;
  publisher: EventPublisher;
  catalog: RoleCatalog;
  defaults: ProfileDefaults;
  source: string;
  /** The email claims, and whether claim addresses fold provider aliases (the stage's policy). */
  emailClaims: { store: EmailClaimStore; foldAliases: boolean };
  now?: () => Date;
}

/** Only what the builder reads, each field checked: a malformed event must not crash the trigger. */
function builderView(event: Record<string, unknown>): PreTokenGenerationRequest {
  const request = isRecord(event.request) ? event.request : {};
  const groups = isRecord(request.groupConfiguration) ? request.groupConfiguration : undefined;
  const groupsToOverride = stringArray(groups?.groupsToOverride);
  const scopes = stringArray(request.scopes);
  return {
    version: String(event.version),
    ...(typeof event.triggerSource === "string" ? { triggerSource: event.triggerSource } : {}),
    request: {
      ...(groupsToOverride !== undefined ? { groupConfiguration: { groupsToOverride } } : {}),
      ...(scopes !== undefined ? { scopes } : {}),
    },
  };
}

export function createPreTokenGenerationHandler(deps: PreTokenGenerationDeps) {
  const run = trigger({
    keys: (event) => {
      const raw = isRecord(event) ? event : {};
      return { triggerSource: raw.triggerSource, version: raw.version };
    },
    // No message of our own: a misconfigured trigger's error is what Cognito should report.
    failure: { log: "pre token generation failed" },
    handle: async (event: PreTokenGenerationEvent, context) => {
      const raw = (isRecord(event) ? event : {}) as Record<string, unknown>;
      const view = builderView(raw);
      // Before any read or repair: a misconfigured trigger fails loudly and changes nothing.
      responseShapeOf(view.version);
      const profile =
        view.triggerSource === "TokenGeneration_ClientCredentials"
          ? null // Machine-to-machine: no user, no profile.
          : await profileOf(raw, context, deps);
      (event as { response: unknown }).response = buildClaimsResponse(view, profile, deps.catalog);
      return event;
    },
  });
  return <E extends PreTokenGenerationEvent>(event: E, context?: TriggerContext): Promise<E> =>
    run(event, context) as Promise<E>;
}

/** The user's profile for the claims (repaired when missing), or null for base claims. */
async function profileOf(
  raw: Record<string, unknown>,
  context: TriggerContext | undefined,
  deps: PreTokenGenerationDeps,
): Promise<Profile | null> {
  const attributes = attributesOf(raw);
  const sub = attributes.sub;
  if (!isUuid(sub)) {
    reportUnusableSub();
    return null;
  }
  const now = deps.now?.() ?? new Date();
  const remainingMs = remainingTimeOf(context);
  const [result] = await Promise.all([
    profileForToken({ sub, now, source: deps.source }, { ...deps, remainingMs }),
    followVerifiedEmail(raw.userName, attributes, now, remainingMs, deps),
  ]);
  reportProfile(result);
  return result.profile;
}

/** Email claims follow the verified email; never throws, never blocks the token. */
async function followVerifiedEmail(
  userName: unknown,
  attributes: Record<string, unknown>,
  now: Date,
  remainingMs: () => number,
  deps: PreTokenGenerationDeps,
): Promise<void> {
  try {
    const result = await syncEmailClaim(
      {
        username: typeof userName === "string" ? userName : "",
        email: attributes.email,
        emailVerified: attributes.email_verified,
        userStatus: attributes["cognito:user_status"],
        now,
        foldAliases: deps.emailClaims.foldAliases,
      },
      { claims: deps.emailClaims.store, remainingMs },
    );
    reportEmailClaim(result);
  } catch (error) {
    reportEmailClaimSyncFailure(error);
  }
}
