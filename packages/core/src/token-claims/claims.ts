import { InvalidRoleCatalogError, UnsupportedTriggerVersionError } from "../errors";
import { AppRoleName, Profile } from "../profile/schema";
// zod/mini through ./zod; a namespace import lets esbuild drop the parts of zod we do not use.
import * as z from "../zod";

/**
 * The one claims builder of the pre token generation trigger.
 *
 * What goes into tokens comes only from server-owned data: the DynamoDB profile (tenant, plan,
 * application roles) and the role catalog (IAM roles). User attributes are never read: a user who
 * can write `custom:tenant` must not be able to choose their tenant. When the profile cannot be
 * read (DynamoDB failing), the user still gets a token, with Cognito's base claims and the default
 * member role only: signing everyone out would be worse, and granting a stale elevated role would
 * be unsafe.
 *
 * Response shape by event `version` (Cognito sends "1", "2" or "3"):
 * - "1" → V1_0 `claimsOverrideDetails` (ID token only).
 * - "2", "3" and any later integer → `claimsAndScopeOverrideDetails` (V3_0 only adds client
 *   credentials; we assume later versions keep extending that shape rather than silently dropping
 *   the claims).
 * - anything else → `UnsupportedTriggerVersionError`: a misconfigured trigger must fail loudly at
 *   the first sign-in, not issue tokens that lack the tenant.
 */

/** Claims this builder may add. A fixed allow-list: adding one is a reviewed code change. */
export const ALLOWED_CLAIMS = ["tenant", "plan", "app_roles"] as const;
type AllowedClaim = (typeof ALLOWED_CLAIMS)[number];

/** Claims Cognito refuses to let a trigger add, override or suppress. */
export const FORBIDDEN_CLAIMS: ReadonlySet<string> = new Set([
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
]);

const IamRoleArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
      "must be an IAM role ARN",
    ),
  );

/** OAuth scope as Cognito spells resource-server scopes: `resource/scope`, or a bare name. */
const OAuthScope = z
  .string()
  .check(z.regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/, "must be an OAuth scope"));

export const RoleCatalog = z
  .strictObject({
    /** Role every signed-in user gets when the profile names no known role. Never elevated. */
    defaultRole: AppRoleName,
    roles: z.record(
      AppRoleName,
      z.strictObject({
        iamRoleArn: IamRoleArn,
        /** Lower wins, as with Cognito group precedence; ties go to the role name. */
        precedence: z.number().check(z.int(), z.gte(0)),
        /** Extra access-token scopes for holders of this role (V2/V3 events only). */
        scopes: z.optional(z.array(OAuthScope)),
      }),
    ),
  })
  .check(
    z.refine((catalog) => Object.hasOwn(catalog.roles, catalog.defaultRole), {
      message: "defaultRole must be one of roles",
      path: ["defaultRole"],
    }),
  );
export type RoleCatalog = z.infer<typeof RoleCatalog>;

/** Parses the role catalog from its JSON configuration; fails fast at cold start. */
export function parseRoleCatalog(json: string): RoleCatalog {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new InvalidRoleCatalogError("Role catalog is not valid JSON", { cause });
  }
  const parsed = RoleCatalog.safeParse(value);
  if (!parsed.success) {
    throw new InvalidRoleCatalogError(
      `Role catalog is invalid:\n${z.prettifyError(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/** The parts of a pre token generation event the builder reads (any version). */
export interface PreTokenGenerationRequest {
  version: string;
  triggerSource?: string;
  request: {
    groupConfiguration?: {
      groupsToOverride?: string[];
      iamRolesToOverride?: string[];
      preferredRole?: string | null;
    } | null;
    /** V2/V3 only: the scopes Cognito is about to put in the access token. */
    scopes?: string[];
  };
}

interface GroupOverrideDetails {
  groupsToOverride: string[];
  iamRolesToOverride: string[];
  preferredRole?: string;
}

export interface ClaimsResponseV1 {
  claimsOverrideDetails: {
    claimsToAddOrOverride: Record<string, string>;
    claimsToSuppress: string[];
    groupOverrideDetails: GroupOverrideDetails;
  };
}

export interface ClaimsResponseV2 {
  claimsAndScopeOverrideDetails: {
    idTokenGeneration?: {
      claimsToAddOrOverride: Record<string, string>;
      claimsToSuppress: string[];
    };
    accessTokenGeneration?: {
      claimsToAddOrOverride: Record<string, string>;
      claimsToSuppress: string[];
      scopesToAdd: string[];
      scopesToSuppress: string[];
    };
    groupOverrideDetails?: GroupOverrideDetails;
  };
}

export type ClaimsResponse = ClaimsResponseV1 | ClaimsResponseV2;

/** What the profile and catalog entitle the user to, before it is shaped for a version. */
interface ResolvedTokenClaims {
  /** `degraded`: no (valid) profile; base claims and the default role only. */
  mode: "profile" | "degraded";
  claims: Partial<Record<AllowedClaim, string>>;
  /** Effective application roles, highest priority first. */
  roleNames: string[];
  /** Their IAM role ARNs, same order; the first is the preferred role. */
  iamRoleArns: string[];
  scopesToAdd: string[];
}

interface CatalogEntry {
  name: string;
  iamRoleArn: string;
  precedence: number;
  scopes: string[];
}

function catalogEntry(catalog: RoleCatalog, name: string): CatalogEntry | undefined {
  // hasOwn, not `in` or indexing: a role named "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(catalog.roles, name)) return undefined;
  const role = catalog.roles[name];
  if (role === undefined) return undefined;
  return {
    name,
    iamRoleArn: role.iamRoleArn,
    precedence: role.precedence,
    scopes: role.scopes ?? [],
  };
}

function byPrecedence(a: CatalogEntry, b: CatalogEntry): number {
  if (a.precedence !== b.precedence) return a.precedence - b.precedence;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

function defaultEntry(catalog: RoleCatalog): CatalogEntry {
  const entry = catalogEntry(catalog, catalog.defaultRole);
  // The catalog schema guarantees it; a hand-built catalog that breaks this is a programming error.
  if (entry === undefined) throw new InvalidRoleCatalogError("defaultRole must be one of roles");
  return entry;
}

/**
 * Resolves claims, roles and scopes from the profile (or its absence) and the user's user-pool
 * groups. Both are server-owned: the profile is written only by our services, group membership
 * only by admin APIs. A group grants the catalog role **of the same name** (the group `admin`
 * grants the role `admin`); the IAM role a group itself carries (its RoleArn) is never used, so
 * a group cannot bring in a role the catalog does not know. Groups add roles only beside a valid
 * profile: without one (unreadable, over budget, corrupt: a corrupt item must not reach a token)
 * the user gets the default role alone.
 */
export function resolveTokenClaims(
  profile: Profile | null,
  catalog: RoleCatalog,
  groups: readonly string[] = [],
): ResolvedTokenClaims {
  const parsed = profile === null ? undefined : Profile.safeParse(profile);
  const valid = parsed?.success ? parsed.data : undefined;
  if (valid === undefined) {
    // Degraded: the default role only, whatever the groups say. Without the profile nothing
    // confirms the user is still entitled to more (a deleted user's groups, a profile whose
    // roles were cut, an outage an attacker can provoke), and "never elevated" must hold.
    const fallback = defaultEntry(catalog);
    return {
      mode: "degraded",
      claims: {},
      roleNames: [fallback.name],
      iamRoleArns: [fallback.iamRoleArn],
      scopesToAdd: [],
    };
  }
  // Unknown role names are dropped: they may be stale, or typos, and carry no IAM role anyway.
  const known = unique([...valid.roles, ...groups])
    .map((name) => catalogEntry(catalog, name))
    .filter((entry): entry is CatalogEntry => entry !== undefined)
    .sort(byPrecedence);
  const effective = known.length > 0 ? known : [defaultEntry(catalog)];
  const roleNames = effective.map((entry) => entry.name);
  const { tenant, plan } = valid;
  return {
    mode: "profile",
    claims: { tenant, plan, app_roles: roleNames.join(" ") },
    roleNames,
    iamRoleArns: unique(effective.map((entry) => entry.iamRoleArn)),
    scopesToAdd: unique(effective.flatMap((entry) => entry.scopes)).sort(),
  };
}

/** Only allow-listed, never forbidden: a guard that keeps holding if the allow-list is edited. */
function emittableClaims(claims: ResolvedTokenClaims["claims"]): Record<string, string> {
  const emitted: Record<string, string> = {};
  for (const name of ALLOWED_CLAIMS) {
    const value = claims[name];
    if (value !== undefined && !FORBIDDEN_CLAIMS.has(name)) emitted[name] = value;
  }
  return emitted;
}

type ResponseShape = "V1" | "V2";

/** The response shape for an event version; throws `UnsupportedTriggerVersionError`. */
export function responseShapeOf(version: string): ResponseShape {
  if (version === "1") return "V1";
  if (/^[1-9][0-9]{0,3}$/.test(version)) return "V2";
  throw new UnsupportedTriggerVersionError(version);
}

/**
 * Builds `event.response` for a pre token generation event of any supported version.
 *
 * `groupOverrideDetails` keeps Cognito's groups (admin-managed, server-owned) but replaces the IAM
 * roles with those of the roles the profile and the groups grant (through the catalog), so `cognito:roles` and `cognito:preferred_role` (which
 * the identity pool uses to pick credentials) follow the profile.
 */
export function buildClaimsResponse(
  event: PreTokenGenerationRequest,
  profile: Profile | null,
  catalog: RoleCatalog,
): ClaimsResponse {
  const shape = responseShapeOf(event.version);
  if (event.triggerSource === "TokenGeneration_ClientCredentials") {
    // Machine-to-machine tokens have no user and therefore no profile: change nothing.
    return { claimsAndScopeOverrideDetails: {} };
  }

  const resolved = resolveTokenClaims(
    profile,
    catalog,
    event.request.groupConfiguration?.groupsToOverride ?? [],
  );
  const claims = emittableClaims(resolved.claims);
  const groupOverrideDetails: GroupOverrideDetails = {
    groupsToOverride: [...(event.request.groupConfiguration?.groupsToOverride ?? [])],
    iamRolesToOverride: resolved.iamRoleArns,
  };
  const preferredRole = resolved.iamRoleArns[0];
  if (preferredRole !== undefined) groupOverrideDetails.preferredRole = preferredRole;

  if (shape === "V1") {
    return {
      claimsOverrideDetails: {
        claimsToAddOrOverride: claims,
        claimsToSuppress: [],
        groupOverrideDetails,
      },
    };
  }

  const alreadyGranted = new Set(event.request.scopes ?? []);
  return {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToAddOrOverride: { ...claims }, claimsToSuppress: [] },
      accessTokenGeneration: {
        claimsToAddOrOverride: { ...claims },
        claimsToSuppress: [],
        scopesToAdd: resolved.scopesToAdd.filter((scope) => !alreadyGranted.has(scope)),
        scopesToSuppress: [],
      },
      groupOverrideDetails,
    },
  };
}
