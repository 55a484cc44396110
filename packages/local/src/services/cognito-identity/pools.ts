/**
 * Identity pool definitions: the CloudFormation `AWS::Cognito::IdentityPool` and
 * `AWS::Cognito::IdentityPoolRoleAttachment` properties (which are also, field for field, the
 * CreateIdentityPool and SetIdentityPoolRoles API shapes), validated into the state the service
 * keeps, and turned into the role configuration role-resolution.ts resolves against.
 */

import { AwsServiceError } from "../../protocol/errors";
import type { UserPoolProvider } from "./login-tokens";
import { configuredProviderFor } from "./provider-names";
import {
  type IdentityPoolRoleConfig,
  parseIdentityPoolRoleConfig,
  RoleConfigurationError,
} from "./role-resolution";

/** `AWS::Cognito::IdentityPool` properties (and the CreateIdentityPool request). */
export interface IdentityPoolDefinition {
  IdentityPoolName: string;
  AllowUnauthenticatedIdentities: boolean;
  /** Default false, as the API reference says. */
  AllowClassicFlow?: boolean;
  CognitoIdentityProviders?: UserPoolProvider[];
  DeveloperProviderName?: string;
  SupportedLoginProviders?: Record<string, string>;
  OpenIdConnectProviderARNs?: string[];
  SamlProviderARNs?: string[];
  IdentityPoolTags?: Record<string, string>;
}

interface MappingRuleDefinition {
  Claim: string;
  MatchType: "Equals" | "NotEqual" | "StartsWith" | "Contains";
  Value: string;
  RoleARN: string;
}

interface RoleMappingDefinition {
  /** CloudFormation form: the map key is free and this names the provider. */
  IdentityProvider?: string;
  Type: "Token" | "Rules";
  AmbiguousRoleResolution?: "AuthenticatedRole" | "Deny";
  RulesConfiguration?: { Rules: MappingRuleDefinition[] };
}

/** `AWS::Cognito::IdentityPoolRoleAttachment` properties minus the pool id. */
export interface IdentityPoolRolesDefinition {
  Roles?: { authenticated?: string; unauthenticated?: string };
  RoleMappings?: Record<string, RoleMappingDefinition>;
}

export interface IdentityPoolState
  extends Required<Pick<IdentityPoolDefinition, "IdentityPoolName">> {
  IdentityPoolId: string;
  AllowUnauthenticatedIdentities: boolean;
  AllowClassicFlow: boolean;
  CognitoIdentityProviders: UserPoolProvider[];
  DeveloperProviderName?: string;
  SupportedLoginProviders?: Record<string, string>;
  OpenIdConnectProviderARNs?: string[];
  SamlProviderARNs?: string[];
  IdentityPoolTags?: Record<string, string>;
  Roles: { authenticated?: string; unauthenticated?: string };
  /** API form: keyed by `<provider name>:<client id>` (canonical provider name). */
  RoleMappings: Record<string, Omit<RoleMappingDefinition, "IdentityProvider">>;
}

function invalid(message: string): AwsServiceError {
  return new AwsServiceError("InvalidParameterException", message);
}

const POOL_NAME = /^[\w\s+=,.@-]{1,128}$/;
const PROVIDER_NAME = /^[\w._:/-]{1,128}$/;
const CLIENT_ID = /^[\w_]{1,128}$/;
const DEVELOPER_PROVIDER = /^[\w._-]{1,128}$/;

/** Validates a definition the way CreateIdentityPool does and returns the pool's state. */
export function poolFromDefinition(id: string, input: unknown): IdentityPoolState {
  const def = (input ?? {}) as Partial<IdentityPoolDefinition>;
  if (typeof def.IdentityPoolName !== "string" || !POOL_NAME.test(def.IdentityPoolName)) {
    throw invalid(
      "1 validation error detected: Value at 'identityPoolName' failed to satisfy constraint",
    );
  }
  if (typeof def.AllowUnauthenticatedIdentities !== "boolean") {
    throw invalid(
      "1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null",
    );
  }
  const providers = (def.CognitoIdentityProviders ?? []).map((p) => {
    if (typeof p?.ProviderName !== "string" || !PROVIDER_NAME.test(p.ProviderName)) {
      throw invalid("Invalid CognitoIdentityProvider: ProviderName is required");
    }
    if (p.ClientId !== undefined && !CLIENT_ID.test(p.ClientId)) {
      throw invalid(`Invalid CognitoIdentityProvider ClientId: ${p.ClientId}`);
    }
    const provider: UserPoolProvider = { ProviderName: p.ProviderName };
    if (p.ClientId !== undefined) provider.ClientId = p.ClientId;
    provider.ServerSideTokenCheck = p.ServerSideTokenCheck ?? false;
    return provider;
  });
  if (
    def.DeveloperProviderName !== undefined &&
    !DEVELOPER_PROVIDER.test(def.DeveloperProviderName)
  ) {
    throw invalid(`Invalid DeveloperProviderName: ${def.DeveloperProviderName}`);
  }
  const pool: IdentityPoolState = {
    IdentityPoolId: id,
    IdentityPoolName: def.IdentityPoolName,
    AllowUnauthenticatedIdentities: def.AllowUnauthenticatedIdentities,
    AllowClassicFlow: def.AllowClassicFlow ?? false,
    CognitoIdentityProviders: providers,
    Roles: {},
    RoleMappings: {},
  };
  if (def.DeveloperProviderName !== undefined)
    pool.DeveloperProviderName = def.DeveloperProviderName;
  if (def.SupportedLoginProviders !== undefined)
    pool.SupportedLoginProviders = { ...def.SupportedLoginProviders };
  if (def.OpenIdConnectProviderARNs !== undefined)
    pool.OpenIdConnectProviderARNs = [...def.OpenIdConnectProviderARNs];
  if (def.SamlProviderARNs !== undefined) pool.SamlProviderARNs = [...def.SamlProviderARNs];
  if (def.IdentityPoolTags !== undefined) pool.IdentityPoolTags = { ...def.IdentityPoolTags };
  return pool;
}

/** The DescribeIdentityPool / CreateIdentityPool response body. */
export function describePool(pool: IdentityPoolState): Record<string, unknown> {
  const { Roles: _roles, RoleMappings: _mappings, ...description } = pool;
  return description;
}

/**
 * Applies SetIdentityPoolRoles (or a role attachment) to a pool: validates with core's schema and
 * rewrites mapping keys to `<configured provider name>:<client id>`, so a key written with the
 * local issuer form still finds its provider.
 */
export function withRoles(pool: IdentityPoolState, input: unknown): IdentityPoolState {
  const def = (input ?? {}) as IdentityPoolRolesDefinition;
  const roles: IdentityPoolState["Roles"] = {};
  for (const [name, arn] of Object.entries(def.Roles ?? {})) {
    if (name !== "authenticated" && name !== "unauthenticated") {
      throw invalid(`Invalid role name '${name}': use authenticated or unauthenticated`);
    }
    if (typeof arn === "string") roles[name] = arn;
  }
  const mappings: IdentityPoolState["RoleMappings"] = {};
  for (const [key, mapping] of Object.entries(def.RoleMappings ?? {})) {
    const { IdentityProvider, ...rest } = mapping ?? ({} as RoleMappingDefinition);
    mappings[canonicalMappingKey(pool, IdentityProvider ?? key)] = rest;
  }
  const next: IdentityPoolState = { ...pool, Roles: roles, RoleMappings: mappings };
  roleConfig(next); // throws InvalidParameterException on what Cognito would refuse
  return next;
}

function canonicalMappingKey(pool: IdentityPoolState, key: string): string {
  const colon = key.lastIndexOf(":");
  if (colon <= 0) return key;
  const provider = configuredProviderFor(
    key.slice(0, colon),
    pool.CognitoIdentityProviders.map((p) => p.ProviderName),
  );
  return provider === undefined ? key : `${provider}:${key.slice(colon + 1)}`;
}

/** The pool's roles in the shape core's `resolveRole` takes. */
export function roleConfig(pool: IdentityPoolState): IdentityPoolRoleConfig {
  const roleMappings: Record<string, unknown> = {};
  for (const [key, mapping] of Object.entries(pool.RoleMappings)) {
    roleMappings[key] = {
      type: mapping.Type,
      ambiguousRoleResolution: mapping.AmbiguousRoleResolution,
      ...(mapping.RulesConfiguration
        ? {
            rulesConfiguration: {
              rules: (mapping.RulesConfiguration.Rules ?? []).map((rule) => ({
                claim: rule.Claim,
                matchType: rule.MatchType,
                value: rule.Value,
                roleArn: rule.RoleARN,
              })),
            },
          }
        : {}),
    };
  }
  try {
    return parseIdentityPoolRoleConfig({
      roles: pool.Roles,
      roleMappings,
      allowUnauthenticatedIdentities: pool.AllowUnauthenticatedIdentities,
    });
  } catch (error) {
    if (error instanceof RoleConfigurationError) {
      throw new AwsServiceError("InvalidParameterException", error.message, { cause: error });
    }
    throw error;
  }
}
