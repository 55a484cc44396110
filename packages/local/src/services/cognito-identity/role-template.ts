/**
 * Reads identity-pool role configuration out of a synthesized CloudFormation template, so the
 * role CLI (`npm run role`) evaluates exactly what the stack will deploy, with the same role
 * resolution the local identity pool runs (role-resolution.ts).
 *
 * Synthesized templates carry intrinsics where deploy-time values go: `Roles` hold
 * `{"Fn::GetAtt": [role, "Arn"]}` and a role mapping's `IdentityProvider` is usually an
 * `Fn::Join` (CloudFormation map keys cannot be tokens, so CDK code puts the provider there).
 * By default every reference becomes a placeholder (`placeholderLookup`).
 */
import * as z from "zod";
import {
  type CloudFormationTemplate,
  type IntrinsicLookup,
  placeholderLookup,
  resolveIntrinsic,
  UnresolvableIntrinsicError,
} from "../../cloud/intrinsics";
import { type IdentityPoolRoleConfig, parseIdentityPoolRoleConfig } from "./role-resolution";

/** Raised for templates this reader cannot interpret; `cause` carries the underlying error. */
export class RoleTemplateError extends Error {
  readonly code = "INVALID_ROLE_TEMPLATE";
  override readonly name = "RoleTemplateError";
}

const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({ Type: z.string(), Properties: z.optional(z.unknown()) }),
  ),
});

export interface TemplateRoleAttachment {
  /** Logical id of the `AWS::Cognito::IdentityPoolRoleAttachment`. */
  readonly logicalId: string;
  /** The resolved IdentityPoolId (a placeholder unless `known` supplied it). */
  readonly identityPoolId: string;
  readonly config: IdentityPoolRoleConfig;
}

const cfnRuleSchema = z.object({
  Claim: z.string(),
  MatchType: z.string(),
  Value: z.string(),
  RoleARN: z.string(),
});

const cfnRoleMappingSchema = z.object({
  IdentityProvider: z.optional(z.string()),
  Type: z.string(),
  AmbiguousRoleResolution: z.optional(z.string()),
  RulesConfiguration: z.optional(z.object({ Rules: z.array(cfnRuleSchema) })),
});

const cfnAttachmentSchema = z.object({
  IdentityPoolId: z.string(),
  Roles: z.optional(z.record(z.string(), z.string())),
  RoleMappings: z.optional(z.record(z.string(), cfnRoleMappingSchema)),
});

/**
 * The role configuration of every `AWS::Cognito::IdentityPoolRoleAttachment` in `template`,
 * validated like `SetIdentityPoolRoles` would. `lookup` supplies real values (e.g. from stack
 * outputs); by default every reference becomes a placeholder.
 */
export function identityPoolRoleConfigFromTemplate(
  template: CloudFormationTemplate,
  lookup: IntrinsicLookup = placeholderLookup(template),
): TemplateRoleAttachment[] {
  const parsedTemplate = templateSchema.safeParse(template);
  if (!parsedTemplate.success) {
    throw new RoleTemplateError("Not a CloudFormation template: no Resources map", {
      cause: parsedTemplate.error,
    });
  }
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::Cognito::IdentityPoolRoleAttachment")
    .map(([logicalId, resource]) =>
      readAttachment(template, logicalId, resource.Properties, lookup),
    );
}

function readAttachment(
  template: CloudFormationTemplate,
  logicalId: string,
  rawProperties: unknown,
  lookup: IntrinsicLookup,
): TemplateRoleAttachment {
  const parsed = cfnAttachmentSchema.safeParse(
    resolvedProperties(logicalId, rawProperties, lookup),
  );
  if (!parsed.success) {
    throw new RoleTemplateError(
      `${logicalId}: unexpected IdentityPoolRoleAttachment properties: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  const properties = parsed.data;

  const roleMappings: Record<string, unknown> = {};
  for (const [entryName, mapping] of Object.entries(properties.RoleMappings ?? {})) {
    // "If the identity provider property isn't provided, the key of the entry in the RoleMappings
    // map is used as the identity provider." (CloudFormation RoleMapping reference)
    const providerKey = mapping.IdentityProvider ?? entryName;
    if (Object.hasOwn(roleMappings, providerKey)) {
      throw new RoleTemplateError(`${logicalId}: two role mappings for provider ${providerKey}`);
    }
    roleMappings[providerKey] = toRoleMappingInput(mapping);
  }

  const allowUnauthenticatedIdentities = allowsGuests(template, rawProperties);
  try {
    const config = parseIdentityPoolRoleConfig({
      roles: {
        authenticated: properties.Roles?.authenticated,
        unauthenticated: properties.Roles?.unauthenticated,
      },
      roleMappings,
      ...(allowUnauthenticatedIdentities === undefined ? {} : { allowUnauthenticatedIdentities }),
    });
    return { logicalId, identityPoolId: properties.IdentityPoolId, config };
  } catch (error) {
    throw new RoleTemplateError(`${logicalId}: ${(error as Error).message}`, { cause: error });
  }
}

function resolvedProperties(
  logicalId: string,
  rawProperties: unknown,
  lookup: IntrinsicLookup,
): unknown {
  try {
    return resolveIntrinsic(rawProperties, lookup);
  } catch (error) {
    if (!(error instanceof UnresolvableIntrinsicError)) throw error;
    throw new RoleTemplateError(`${logicalId}: ${error.message}`, { cause: error });
  }
}

/**
 * Renames CloudFormation's PascalCase fields. Values are not checked here: the roles schema
 * validates them next and reports a bad enum with its path.
 */
function toRoleMappingInput(mapping: z.infer<typeof cfnRoleMappingSchema>): unknown {
  return {
    type: mapping.Type,
    ambiguousRoleResolution: mapping.AmbiguousRoleResolution,
    ...(mapping.RulesConfiguration && {
      rulesConfiguration: {
        rules: mapping.RulesConfiguration.Rules.map((rule) => ({
          claim: rule.Claim,
          matchType: rule.MatchType,
          value: rule.Value,
          roleArn: rule.RoleARN,
        })),
      },
    }),
  };
}

/** AllowUnauthenticatedIdentities of the identity pool the attachment Refs, when in the template. */
function allowsGuests(
  template: CloudFormationTemplate,
  rawProperties: unknown,
): boolean | undefined {
  const poolRef = (rawProperties as { IdentityPoolId?: { Ref?: unknown } } | undefined)
    ?.IdentityPoolId?.Ref;
  if (typeof poolRef !== "string" || !Object.hasOwn(template.Resources, poolRef)) return undefined;
  const pool = template.Resources[poolRef];
  if (pool?.Type !== "AWS::Cognito::IdentityPool") return undefined;
  const allow = (pool.Properties as { AllowUnauthenticatedIdentities?: unknown } | undefined)
    ?.AllowUnauthenticatedIdentities;
  if (typeof allow === "boolean") return allow;
  if (allow === "true" || allow === "false") return allow === "true";
  return undefined;
}
