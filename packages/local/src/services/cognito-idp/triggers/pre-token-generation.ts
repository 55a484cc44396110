/**
 * How a pre token generation response changes the tokens (Pre token generation Lambda trigger):
 * claims added, overridden or suppressed, groups and roles overridden, scopes changed, and the
 * claims no response may touch (InvalidLambdaResponseException).
 */
import { AwsServiceError } from "../../../protocol/errors";
import type { PreTokenGenerationVersion } from "../model";

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
const PROTECTED_CLAIMS = new Set([
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

function isProtectedClaim(name: string): boolean {
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

function invalidResponse(detail: string): AwsServiceError {
  return new AwsServiceError(
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
