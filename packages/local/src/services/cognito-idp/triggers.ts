/**
 * User-pool Lambda triggers: invocation with Cognito's budget and retries, the events of each
 * trigger source, and how pre token generation responses change the tokens (FIELD-GUIDE §1).
 */
import { CognitoIdpError } from "./errors";
import type { PreTokenGenerationVersion } from "./model";

export type InvokeTrigger = (
  functionArn: string,
  event: object,
  options: { timeoutMs: number },
) => Promise<object>;

/** Cognito waits 5 s and tries a timed-out trigger up to three times in all. */
export const DEFAULT_TRIGGER_TIMEOUT_MS = 5000;
export const TRIGGER_ATTEMPTS = 3;

export type TriggerName = "PreSignUp" | "PostConfirmation" | "PreTokenGeneration";

/**
 * A trigger that did not answer in time. Thrown by the timer below, or by an `InvokeTrigger` whose
 * runtime timed the function out first: both are retried the same way.
 */
export class TriggerTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TriggerTimeout()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Calls a trigger as Cognito does: a timeout is retried (three attempts in all), then fails the
 * operation with UnexpectedLambdaException; a thrown error fails it at once with
 * UserLambdaValidationException carrying the function's message.
 */
export async function invokeWithCognitoSemantics<T extends object>(
  invoke: InvokeTrigger,
  trigger: TriggerName,
  functionArn: string,
  event: T,
  timeoutMs: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // Each attempt gets its own copy: a half-finished attempt must not leak edits into the next.
    const copy = structuredClone(event);
    try {
      const result = await withTimeout(
        Promise.resolve().then(() => invoke(functionArn, copy, { timeoutMs })),
        timeoutMs,
      );
      return (result ?? copy) as T;
    } catch (error) {
      if (error instanceof TriggerTimeout) {
        if (attempt < TRIGGER_ATTEMPTS) continue;
        throw new CognitoIdpError(
          "UnexpectedLambdaException",
          `${trigger} invocation failed due to error Socket timeout while invoking Lambda function.`,
          { cause: error },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new CognitoIdpError(
        "UserLambdaValidationException",
        `${trigger} failed with error ${message}.`,
        { cause: error },
      );
    }
  }
}

export interface TriggerContext {
  region: string;
  userPoolId: string;
  userName: string;
  clientId: string;
}

function baseEvent(version: string, triggerSource: string, context: TriggerContext) {
  return {
    version,
    triggerSource,
    region: context.region,
    userPoolId: context.userPoolId,
    userName: context.userName,
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: context.clientId },
  };
}

export type PreSignUpSource =
  | "PreSignUp_SignUp"
  | "PreSignUp_AdminCreateUser"
  | "PreSignUp_ExternalProvider";

export function preSignUpEvent(
  source: PreSignUpSource,
  context: TriggerContext,
  request: {
    userAttributes: Record<string, string>;
    validationData?: Record<string, string>;
    clientMetadata?: Record<string, string>;
  },
) {
  return {
    ...baseEvent("1", source, context),
    request: {
      userAttributes: request.userAttributes,
      validationData: request.validationData ?? null,
      ...(request.clientMetadata ? { clientMetadata: request.clientMetadata } : {}),
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

export type PostConfirmationSource =
  | "PostConfirmation_ConfirmSignUp"
  | "PostConfirmation_ConfirmForgotPassword";

export function postConfirmationEvent(
  source: PostConfirmationSource,
  context: TriggerContext,
  request: { userAttributes: Record<string, string>; clientMetadata?: Record<string, string> },
) {
  return {
    ...baseEvent("1", source, context),
    request: {
      userAttributes: request.userAttributes,
      ...(request.clientMetadata ? { clientMetadata: request.clientMetadata } : {}),
    },
    response: {},
  };
}

export type TokenGenerationSource =
  | "TokenGeneration_HostedAuth"
  | "TokenGeneration_Authentication"
  | "TokenGeneration_NewPasswordChallenge"
  | "TokenGeneration_AuthenticateDevice"
  | "TokenGeneration_RefreshTokens";

export interface GroupConfiguration {
  groupsToOverride: string[];
  iamRolesToOverride: string[];
  preferredRole: string | null;
}

/** Pre token generation event; V1 and V2 differ in `version`, `scopes` and the response key. */
export function preTokenGenerationEvent(
  version: PreTokenGenerationVersion,
  source: TokenGenerationSource,
  context: TriggerContext,
  request: {
    userAttributes: Record<string, string>;
    groupConfiguration: GroupConfiguration;
    scopes: string[];
    /**
     * From (Admin)RespondToAuthChallenge's ClientMetadata: "You can pass this data to your Lambda
     * function by using the ClientMetadata parameter in the AdminRespondToAuthChallenge and
     * RespondToAuthChallenge API actions" (Pre token generation Lambda trigger, request
     * parameters). Present only when the request carried it.
     */
    clientMetadata?: Record<string, string>;
  },
) {
  const metadata = request.clientMetadata ? { clientMetadata: request.clientMetadata } : {};
  if (version === "V1_0") {
    return {
      ...baseEvent("1", source, context),
      request: {
        userAttributes: request.userAttributes,
        groupConfiguration: request.groupConfiguration,
        ...metadata,
      },
      response: { claimsOverrideDetails: null },
    };
  }
  return {
    ...baseEvent(version === "V2_0" ? "2" : "3", source, context),
    request: {
      userAttributes: request.userAttributes,
      groupConfiguration: request.groupConfiguration,
      scopes: request.scopes,
      ...metadata,
    },
    response: { claimsAndScopeOverrideDetails: null },
  };
}

/**
 * Claims a pre token generation response may neither add, override nor suppress (Pre token
 * generation Lambda trigger, excluded claims): the registered and session claims below, the access
 * token's `client_id` and the tokens' `event_id`, which Cognito sets, and any claim named with the
 * reserved `dev:` prefix (isProtectedClaim). Deliberately not imported from core's
 * FORBIDDEN_CLAIMS: the emulator stands for Cognito, and sharing the app's own list would hide a
 * mistake in it instead of catching it. Whether AWS fails the request or drops such a claim is not
 * documented; we take the stricter reading and fail it (InvalidLambdaResponseException), so a
 * trigger that relies on one is caught locally rather than silently ignored in AWS.
 */
export const PROTECTED_CLAIMS = new Set([
  "acr",
  "amr",
  "aud",
  "at_hash",
  "auth_time",
  "azp",
  "cognito:username",
  "exp",
  "iat",
  "identities",
  "iss",
  "jti",
  "nbf",
  "nonce",
  "origin_jti",
  "sub",
  "token_use",
  "client_id",
  "event_id",
]);

/** Claim names Cognito reserves as a family: every `dev:` claim. */
const PROTECTED_PREFIXES = ["dev:"];

export function isProtectedClaim(name: string): boolean {
  return PROTECTED_CLAIMS.has(name) || PROTECTED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

interface ClaimChanges {
  claimsToAddOrOverride?: Record<string, unknown> | null;
  claimsToSuppress?: string[] | null;
}

interface GroupOverrideDetails {
  groupsToOverride?: string[] | null;
  iamRolesToOverride?: string[] | null;
  preferredRole?: string | null;
}

export interface TokenClaims {
  id: Record<string, unknown>;
  access: Record<string, unknown>;
}

function invalidResponse(detail: string): CognitoIdpError {
  return new CognitoIdpError(
    "InvalidLambdaResponseException",
    `Invalid lambda response received: ${detail}`,
  );
}

function applyClaimChanges(claims: Record<string, unknown>, changes: ClaimChanges | undefined) {
  if (!changes) return;
  const add = changes.claimsToAddOrOverride ?? {};
  const suppress = changes.claimsToSuppress ?? [];
  for (const name of [...Object.keys(add), ...suppress]) {
    if (isProtectedClaim(name)) {
      throw invalidResponse(`the claim ${name} cannot be added, overridden or suppressed.`);
    }
  }
  Object.assign(claims, add);
  // Suppress wins over add.
  for (const name of suppress) delete claims[name];
}

function applyGroupOverride(claims: TokenClaims, override: GroupOverrideDetails | undefined) {
  if (!override) return;
  // Returning the override replaces the group claims outright; empty lists remove them.
  const groups = override.groupsToOverride ?? [];
  const roles = override.iamRolesToOverride ?? [];
  for (const token of [claims.id, claims.access]) {
    delete token["cognito:groups"];
    if (groups.length > 0) token["cognito:groups"] = [...groups];
  }
  delete claims.id["cognito:roles"];
  delete claims.id["cognito:preferred_role"];
  if (roles.length > 0) claims.id["cognito:roles"] = [...roles];
  if (override.preferredRole) claims.id["cognito:preferred_role"] = override.preferredRole;
}

function applyScopes(
  access: Record<string, unknown>,
  add: string[] | null | undefined,
  suppress: string[] | null | undefined,
) {
  const scopes = String(access.scope ?? "")
    .split(" ")
    .filter((scope) => scope !== "");
  for (const scope of add ?? []) if (!scopes.includes(scope)) scopes.push(scope);
  const kept = scopes.filter((scope) => !(suppress ?? []).includes(scope));
  access.scope = kept.join(" ");
}

/** Applies a trigger's response to the claims: V1 to the ID token, V2/V3 to both tokens. */
export function applyPreTokenGenerationResponse(
  version: PreTokenGenerationVersion,
  response: unknown,
  claims: TokenClaims,
): void {
  const body = (response ?? {}) as Record<string, unknown>;
  if (version === "V1_0") {
    const details = body.claimsOverrideDetails as
      | (ClaimChanges & { groupOverrideDetails?: GroupOverrideDetails })
      | null
      | undefined;
    if (!details) return;
    for (const [name, value] of Object.entries(details.claimsToAddOrOverride ?? {})) {
      if (typeof value !== "string") {
        throw invalidResponse(`V1 claim ${name} must be a string.`);
      }
    }
    applyClaimChanges(claims.id, details);
    applyGroupOverride(claims, details.groupOverrideDetails ?? undefined);
    return;
  }
  const details = body.claimsAndScopeOverrideDetails as
    | {
        idTokenGeneration?: ClaimChanges | null;
        accessTokenGeneration?:
          | (ClaimChanges & { scopesToAdd?: string[] | null; scopesToSuppress?: string[] | null })
          | null;
        groupOverrideDetails?: GroupOverrideDetails | null;
      }
    | null
    | undefined;
  if (!details) return;
  applyClaimChanges(claims.id, details.idTokenGeneration ?? undefined);
  const access = details.accessTokenGeneration ?? undefined;
  if (access?.claimsToAddOrOverride && "scope" in access.claimsToAddOrOverride) {
    throw invalidResponse("the claim scope is changed with scopesToAdd and scopesToSuppress.");
  }
  applyClaimChanges(claims.access, access);
  if (access) applyScopes(claims.access, access.scopesToAdd, access.scopesToSuppress);
  applyGroupOverride(claims, details.groupOverrideDetails ?? undefined);
}
