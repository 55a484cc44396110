/**
 * Identity-pool role resolution, as Cognito's GetCredentialsForIdentity does it.
 *
 * Pure: no AWS SDK, no environment. The local identity pool uses `resolveRole` to pick the role
 * an identity gets; `scripts/role.ts` uses `explainRole` to tell a developer why. It models
 * Cognito, not the app, so it lives in the emulator: the app's code never decides here which role
 * the emulator hands out, and an app mistake in its role mappings still shows.
 *
 * Sources (checked 2026-11):
 * - Developer guide, "Using role-based access control" (role-based-access-control.html):
 *   the Token order (CustomRoleArn, cognito:preferred_role, AmbiguousRoleResolution), Rules
 *   evaluated in order with the first match winning, "If the match type is NotEqual and the claim
 *   doesn't exist, the rule is not evaluated", the `custom:` prefix, 25 rules per provider.
 * - API reference, RoleMapping / MappingRule / SetIdentityPoolRoles: AmbiguousRoleResolution
 *   applies when no rule matches, or when there is no cognito:preferred_role and several
 *   cognito:roles; Claim 1..64 chars, Value 1..128, RoleARN 20..2048, at most 10 role mappings.
 * - API reference, InvalidIdentityPoolConfigurationException: raised when the pool has no
 *   authenticated (or, for guests, unauthenticated) role to hand out.
 *
 * What AWS does not document, and what we chose (pinned by tests, explained in ADR 0003):
 * - Array claims in Rules (e.g. `cognito:groups`): a rule matches when ANY element matches;
 *   NotEqual matches only when NO element equals the value. Numbers and booleans compare as
 *   their string form (`email_verified: true` matches Value "true").
 * - Token mapping with no cognito:roles and no preferred role (a user in no group with a role)
 *   is resolved like the ambiguous case, which is what Cognito does in practice.
 * - `cognito:roles` is an array in real tokens; the guide calls it "a comma-separated string", so
 *   a string is accepted too and split before each `arn:` (role names may contain commas).
 * - CustomRoleArn with Rules: the guide says it "overrides the order"; we allow it only when it
 *   is the role of a rule that matched, and deny otherwise, like the Token case.
 */
// Full zod 4 (not core's zod/mini wrapper): nothing here is bundled into a Lambda, and `zod` sets
// the English messages parseIdentityPoolRoleConfig reports by itself.
import * as z from "zod";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** Per identity provider (RulesConfigurationType: "up to 25 rules per identity provider"). */
const MAX_RULES_PER_PROVIDER = 25;
/** SetIdentityPoolRoles: RoleMappings "Map Entries: Maximum number of 10 items". */
const MAX_ROLE_MAPPINGS = 10;

const roleArnSchema = z.string().check(z.minLength(20), z.maxLength(2048));

const matchTypeSchema = z.enum(["Equals", "NotEqual", "StartsWith", "Contains"]);
export type MatchType = z.infer<typeof matchTypeSchema>;

const mappingRuleSchema = z.object({
  claim: z.string().check(z.minLength(1), z.maxLength(64)),
  matchType: matchTypeSchema,
  value: z.string().check(z.minLength(1), z.maxLength(128)),
  roleArn: roleArnSchema,
});
export type MappingRule = z.infer<typeof mappingRuleSchema>;

const roleMappingSchema = z
  .object({
    type: z.enum(["Token", "Rules"]),
    ambiguousRoleResolution: z.enum(["AuthenticatedRole", "Deny"]),
    rulesConfiguration: z.optional(
      z.object({
        rules: z
          .array(mappingRuleSchema)
          .check(z.minLength(1), z.maxLength(MAX_RULES_PER_PROVIDER)),
      }),
    ),
  })
  .check(
    z.refine((mapping) => mapping.type !== "Rules" || mapping.rulesConfiguration !== undefined, {
      message: "RulesConfiguration is required when the role mapping type is Rules",
      path: ["rulesConfiguration"],
    }),
  );
export type RoleMapping = z.infer<typeof roleMappingSchema>;

const identityPoolRoleConfigSchema = z.object({
  roles: z.object({
    authenticated: z.optional(roleArnSchema),
    unauthenticated: z.optional(roleArnSchema),
  }),
  /** Keyed by provider: `cognito-idp.<region>.amazonaws.com/<userPoolId>:<appClientId>`. */
  roleMappings: z
    .record(z.string().check(z.minLength(1), z.maxLength(128)), roleMappingSchema)
    .check(
      z.refine((mappings) => Object.keys(mappings).length <= MAX_ROLE_MAPPINGS, {
        message: `at most ${MAX_ROLE_MAPPINGS} role mappings per identity pool`,
      }),
    ),
  /**
   * The pool's AllowUnauthenticatedIdentities. Optional because role attachments do not carry it;
   * when known and false, guests are refused before any role is considered, as GetId does.
   */
  allowUnauthenticatedIdentities: z.optional(z.boolean()),
});
export type IdentityPoolRoleConfig = z.infer<typeof identityPoolRoleConfigSchema>;

/** Raised when a role configuration is not one Cognito would accept. */
export class RoleConfigurationError extends Error {
  readonly code = "INVALID_ROLE_CONFIGURATION";
  override readonly name = "RoleConfigurationError";
}

/** Validates untrusted input (a template, a JSON file) into a role configuration. */
export function parseIdentityPoolRoleConfig(input: unknown): IdentityPoolRoleConfig {
  const parsed = identityPoolRoleConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new RoleConfigurationError(
      `Invalid identity pool role configuration: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** The decoded ID token payload. Cognito may add claims at any time: no fixed shape. */
export type TokenClaims = Readonly<Record<string, unknown>>;

interface ResolveRoleInput {
  readonly config: IdentityPoolRoleConfig;
  /** `cognito-idp.<region>.amazonaws.com/<userPoolId>:<appClientId>`; ignored for guests. */
  readonly providerKey: string;
  /** Decoded ID token payload, or null for a guest (no Logins). */
  readonly claims: TokenClaims | null;
  /** GetCredentialsForIdentity's CustomRoleArn. */
  readonly customRoleArn?: string;
}

type RoleResolutionStep =
  | "guest"
  | "no-mapping"
  | "custom-role-arn"
  | "preferred-role"
  | "single-role"
  | "rule-match"
  | "ambiguous";

type RoleDenialError = "NotAuthorizedException" | "InvalidIdentityPoolConfigurationException";

interface RoleAllowed {
  readonly decision: "allow";
  readonly roleArn: string;
  readonly step: RoleResolutionStep;
  /** Why this role, in one sentence. */
  readonly reason: string;
  /** Every step taken, in order, for the debugging CLI. Holds no claim values: safe to log. */
  readonly trace: readonly string[];
}

interface RoleDenied {
  readonly decision: "deny";
  readonly error: RoleDenialError;
  /** The message Cognito puts in the error body. */
  readonly message: string;
  readonly step: RoleResolutionStep;
  readonly reason: string;
  readonly trace: readonly string[];
}

type RoleResolution = RoleAllowed | RoleDenied;

/**
 * Cognito's wording, where known. `ambiguousDenied` is the text AWS returned to real clients
 * (reported in aws-amplify/amplify-js#3621: "The ambiguous role mapping rules for:
 * accounts.google.com denied this request."); the API reference does not list messages.
 */
export const CognitoMessages = {
  UNAUTHENTICATED_NOT_SUPPORTED: "Unauthenticated access is not supported for this identity pool.",
  INVALID_POOL_CONFIGURATION:
    "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
  ambiguousDenied: (providerName: string) =>
    `The ambiguous role mapping rules for: ${providerName} denied this request.`,
  // AWS's exact text for this case is not documented; the behaviour ("deny access") is.
  CUSTOM_ROLE_NOT_ALLOWED: "The role requested with CustomRoleArn is not allowed for this token.",
} as const;

const COGNITO_ROLES_CLAIM = "cognito:roles";
const COGNITO_PREFERRED_ROLE_CLAIM = "cognito:preferred_role";

export function resolveRole(input: ResolveRoleInput): RoleResolution {
  const trace: string[] = [];
  if (input.claims === null) return resolveGuest(input.config, trace);

  const mapping = ownValue(input.config.roleMappings, input.providerKey);
  if (mapping === undefined) {
    trace.push(`No role mapping for ${input.providerKey}.`);
    if (input.customRoleArn !== undefined) {
      trace.push("CustomRoleArn is ignored without a role mapping for this provider.");
    }
    return authenticatedRole(input.config, "no-mapping", trace);
  }
  trace.push(
    `Role mapping for ${input.providerKey}: ${mapping.type}, ambiguous roles → ${mapping.ambiguousRoleResolution}.`,
  );
  return mapping.type === "Token"
    ? resolveFromToken(input, mapping, trace)
    : resolveFromRules(input, mapping, trace);
}

function resolveGuest(config: IdentityPoolRoleConfig, trace: string[]): RoleResolution {
  trace.push("No login token: this is a guest (unauthenticated) identity.");
  if (config.allowUnauthenticatedIdentities === false) {
    return deny(
      "NotAuthorizedException",
      CognitoMessages.UNAUTHENTICATED_NOT_SUPPORTED,
      "guest",
      "The pool does not allow unauthenticated identities.",
      trace,
    );
  }
  if (config.roles.unauthenticated === undefined) {
    return deny(
      "InvalidIdentityPoolConfigurationException",
      CognitoMessages.INVALID_POOL_CONFIGURATION,
      "guest",
      "The pool has no unauthenticated role to give a guest.",
      trace,
    );
  }
  return allow(
    config.roles.unauthenticated,
    "guest",
    "Guests get the unauthenticated role.",
    trace,
  );
}

function resolveFromToken(
  input: ResolveRoleInput,
  mapping: RoleMapping,
  trace: string[],
): RoleResolution {
  const roles = readRolesClaim(claimOf(input.claims, COGNITO_ROLES_CLAIM));
  const preferred = claimOf(input.claims, COGNITO_PREFERRED_ROLE_CLAIM);
  trace.push(
    `The token lists ${roles.length} role(s) in ${COGNITO_ROLES_CLAIM}` +
      (typeof preferred === "string" && preferred !== ""
        ? ` and has ${COGNITO_PREFERRED_ROLE_CLAIM}.`
        : ` and has no ${COGNITO_PREFERRED_ROLE_CLAIM}.`),
  );

  if (input.customRoleArn !== undefined) {
    if (roles.includes(input.customRoleArn)) {
      return allow(
        input.customRoleArn,
        "custom-role-arn",
        `CustomRoleArn is one of the token's ${COGNITO_ROLES_CLAIM}.`,
        trace,
      );
    }
    return deny(
      "NotAuthorizedException",
      CognitoMessages.CUSTOM_ROLE_NOT_ALLOWED,
      "custom-role-arn",
      `CustomRoleArn is not in the token's ${COGNITO_ROLES_CLAIM}: Cognito denies access.`,
      trace,
    );
  }
  if (typeof preferred === "string" && preferred !== "") {
    return allow(
      preferred,
      "preferred-role",
      `${COGNITO_PREFERRED_ROLE_CLAIM} is set (the role of the group with the lowest precedence).`,
      trace,
    );
  }
  const [onlyRole, ...others] = roles;
  if (onlyRole !== undefined && others.length === 0) {
    return allow(onlyRole, "single-role", `${COGNITO_ROLES_CLAIM} holds exactly one role.`, trace);
  }
  return resolveAmbiguity(
    input,
    mapping,
    roles.length === 0
      ? `The token carries no role (${COGNITO_ROLES_CLAIM} absent or empty).`
      : `The token has ${roles.length} roles and no preferred role: ambiguous.`,
    trace,
  );
}

function resolveFromRules(
  input: ResolveRoleInput,
  mapping: RoleMapping,
  trace: string[],
): RoleResolution {
  const rules = mapping.rulesConfiguration?.rules ?? [];
  const matched: MappingRule[] = [];
  rules.forEach((rule, index) => {
    const outcome = evaluateRule(rule, claimOf(input.claims, rule.claim));
    trace.push(`Rule ${index + 1} (${describeRule(rule)}): ${outcome}.`);
    if (outcome === "match") matched.push(rule);
  });

  if (input.customRoleArn !== undefined) {
    if (matched.some((rule) => rule.roleArn === input.customRoleArn)) {
      return allow(
        input.customRoleArn,
        "custom-role-arn",
        "CustomRoleArn is the role of a rule that matched.",
        trace,
      );
    }
    return deny(
      "NotAuthorizedException",
      CognitoMessages.CUSTOM_ROLE_NOT_ALLOWED,
      "custom-role-arn",
      "CustomRoleArn is not the role of any rule that matched.",
      trace,
    );
  }
  const [first] = matched;
  if (first !== undefined) {
    return allow(
      first.roleArn,
      "rule-match",
      `Rule ${rules.indexOf(first) + 1} is the first rule that matches.`,
      trace,
    );
  }
  return resolveAmbiguity(input, mapping, "No rule matches.", trace);
}

function resolveAmbiguity(
  input: ResolveRoleInput,
  mapping: RoleMapping,
  why: string,
  trace: string[],
): RoleResolution {
  if (mapping.ambiguousRoleResolution === "AuthenticatedRole") {
    trace.push(`${why} AmbiguousRoleResolution is AuthenticatedRole.`);
    return authenticatedRole(input.config, "ambiguous", trace);
  }
  return deny(
    "NotAuthorizedException",
    CognitoMessages.ambiguousDenied(loginProviderName(input.providerKey)),
    "ambiguous",
    `${why} AmbiguousRoleResolution is Deny.`,
    trace,
  );
}

function authenticatedRole(
  config: IdentityPoolRoleConfig,
  step: RoleResolutionStep,
  trace: string[],
): RoleResolution {
  if (config.roles.authenticated === undefined) {
    return deny(
      "InvalidIdentityPoolConfigurationException",
      CognitoMessages.INVALID_POOL_CONFIGURATION,
      step,
      "The pool has no authenticated role to fall back to.",
      trace,
    );
  }
  return allow(
    config.roles.authenticated,
    step,
    "The pool's default authenticated role applies.",
    trace,
  );
}

function allow(
  roleArn: string,
  step: RoleResolutionStep,
  reason: string,
  trace: string[],
): RoleAllowed {
  return { decision: "allow", roleArn, step, reason, trace: [...trace, reason] };
}

function deny(
  error: RoleDenialError,
  message: string,
  step: RoleResolutionStep,
  reason: string,
  trace: string[],
): RoleDenied {
  return { decision: "deny", error, message, step, reason, trace: [...trace, reason] };
}

// ---------------------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------------------

/**
 * `cognito:roles` as a list. Real tokens carry a JSON array; the guide describes "a
 * comma-separated string", so split a string before each `arn:` rather than on every comma:
 * IAM role names may themselves contain commas.
 */
export function readRolesClaim(claim: unknown): string[] {
  if (Array.isArray(claim)) {
    return claim.filter((role): role is string => typeof role === "string" && role !== "");
  }
  if (typeof claim === "string") {
    return claim
      .split(/,\s*(?=arn:)/)
      .map((role) => role.trim())
      .filter((role) => role !== "");
  }
  return [];
}

/**
 * Own properties only: a claim or provider named "constructor" or "__proto__" must not reach
 * Object.prototype.
 */
function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function claimOf(claims: TokenClaims | null, name: string): unknown {
  return claims === null ? undefined : ownValue(claims, name);
}

type RuleOutcome = "match" | "no match" | "claim missing";

/** One rule against one claim value; see the module comment for array and scalar handling. */
export function evaluateRule(rule: MappingRule, claim: unknown): RuleOutcome {
  const values = claimValues(claim);
  // "If the match type is NotEqual and the claim doesn't exist, the rule is not evaluated."
  if (values.length === 0) return "claim missing";
  return matchesAny(rule, values) ? "match" : "no match";
}

function matchesAny(rule: MappingRule, values: readonly string[]): boolean {
  switch (rule.matchType) {
    case "Equals":
      return values.some((value) => value === rule.value);
    case "NotEqual":
      return values.every((value) => value !== rule.value);
    case "StartsWith":
      return values.some((value) => value.startsWith(rule.value));
    case "Contains":
      return values.some((value) => value.includes(rule.value));
  }
}

/** The comparable string forms of a claim; empty when the claim is absent or not a scalar. */
function claimValues(claim: unknown): string[] {
  const scalars = Array.isArray(claim) ? claim : [claim];
  return scalars.flatMap((value) =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean"
      ? [String(value)]
      : [],
  );
}

function describeRule(rule: MappingRule): string {
  return `${rule.claim} ${rule.matchType} ${JSON.stringify(rule.value)} → ${rule.roleArn}`;
}

/**
 * The provider as a client names it in Logins: the role-mapping key without the app client id.
 * Used in the ambiguity message; AWS shows the provider name there (see CognitoMessages).
 */
function loginProviderName(providerKey: string): string {
  return providerKey.startsWith("cognito-idp.") ? providerKey.replace(/:[^:/]*$/, "") : providerKey;
}

/**
 * The role-mapping key a Cognito user-pool ID token is looked up under:
 * `iss` without its scheme, a colon, then `aud` (the app client id).
 * Undefined when the token is not from a user pool.
 */
export function providerKeyFromClaims(claims: TokenClaims): string | undefined {
  const { iss, aud } = claims;
  if (typeof iss !== "string" || typeof aud !== "string") return undefined;
  const issuer = iss.replace(/^https:\/\//, "");
  if (!issuer.startsWith("cognito-idp.")) return undefined;
  return `${issuer}:${aud}`;
}

// ---------------------------------------------------------------------------------------------
// Debugging aid (scripts/role.ts)
// ---------------------------------------------------------------------------------------------

export interface ExplainRoleInput {
  readonly config: IdentityPoolRoleConfig;
  readonly claims: TokenClaims | null;
  /** Defaults to the key derived from the token's iss and aud. */
  readonly providerKey?: string;
  readonly customRoleArn?: string;
  /** Where the claims came from and whether anyone checked the signature. */
  readonly claimsSource: "unverified-jwt" | "claims-json" | "guest";
  /** Where the role configuration came from, e.g. a template path. */
  readonly configSource?: string;
}

interface RoleExplanation {
  readonly resolution: RoleResolution;
  readonly lines: readonly string[];
  /** 0 when a role would be issued, 3 when Cognito would refuse. */
  readonly exitCode: 0 | 3;
}

/**
 * What `scripts/role.ts` prints. Unlike `resolveRole`'s trace it shows the claims the decision
 * looked at: it runs in a developer's terminal, never in a log.
 */
export function explainRole(input: ExplainRoleInput): RoleExplanation {
  const lines: string[] = [];
  if (input.claimsSource === "unverified-jwt") {
    lines.push(
      "Note: the token's signature and expiry were NOT checked; this only explains roles.",
    );
  }
  if (input.configSource !== undefined) lines.push(`Role configuration: ${input.configSource}`);

  const providerKey =
    input.providerKey ?? (input.claims ? providerKeyFromClaims(input.claims) : undefined) ?? "";
  if (input.claims !== null) {
    lines.push(`Provider: ${providerKey === "" ? "(not a Cognito user-pool token)" : providerKey}`);
    lines.push(...describeRelevantClaims(input.config, providerKey, input.claims));
    const configured = Object.keys(input.config.roleMappings);
    if (configured.length > 0 && !configured.includes(providerKey)) {
      lines.push(
        `Warning: the configuration maps only ${configured.join(", ")}. If that is this pool ` +
          "(templates hold placeholder ids), rerun with --provider <key>.",
      );
    }
  }

  const resolution = resolveRole({
    config: input.config,
    providerKey,
    claims: input.claims,
    ...(input.customRoleArn !== undefined ? { customRoleArn: input.customRoleArn } : {}),
  });
  lines.push("Steps:");
  lines.push(...resolution.trace.map((step, index) => `  ${index + 1}. ${step}`));
  if (resolution.decision === "allow") {
    lines.push(`Result: ALLOW → ${resolution.roleArn}`);
    return { resolution, lines, exitCode: 0 };
  }
  lines.push(`Result: DENY → ${resolution.error}: ${resolution.message}`);
  return { resolution, lines, exitCode: 3 };
}

function describeRelevantClaims(
  config: IdentityPoolRoleConfig,
  providerKey: string,
  claims: TokenClaims,
): string[] {
  const mapping = ownValue(config.roleMappings, providerKey);
  const names =
    mapping?.type === "Rules"
      ? [...new Set((mapping.rulesConfiguration?.rules ?? []).map((rule) => rule.claim))]
      : [COGNITO_ROLES_CLAIM, COGNITO_PREFERRED_ROLE_CLAIM, "cognito:groups"];
  return names.map((name) =>
    Object.hasOwn(claims, name)
      ? `Claim ${name} = ${JSON.stringify(claims[name])}`
      : `Claim ${name}: absent`,
  );
}
