/**
 * Reads identity-pool role configuration out of a synthesized CloudFormation template, so the
 * role CLI and the local cloud evaluate exactly what the stack will deploy.
 *
 * Synthesized templates carry intrinsics where deploy-time values go: `Roles` hold
 * `{"Fn::GetAtt": [role, "Arn"]}` and a role mapping's `IdentityProvider` is usually an
 * `Fn::Join` (CloudFormation map keys cannot be tokens, so CDK code puts the provider there).
 * Offline there are no real values, so unknown references become readable placeholders such as
 * `arn:aws:iam::000000000000:role/<logicalId>`.
 */

import { type IdentityPoolRoleConfig, parseIdentityPoolRoleConfig } from "./roles";
import * as z from "./zod";

/** Raised for templates this reader cannot interpret; `cause` carries the underlying error. */
export class RoleTemplateError extends Error {
  readonly code = "INVALID_ROLE_TEMPLATE";
  override readonly name = "RoleTemplateError";
}

// ---------------------------------------------------------------------------------------------
// Intrinsic functions
// ---------------------------------------------------------------------------------------------

export type IntrinsicReference =
  | { readonly kind: "Ref"; readonly name: string }
  | { readonly kind: "GetAtt"; readonly logicalId: string; readonly attribute: string };

export interface IntrinsicLookup {
  /** Known values: `"LogicalId"` or `"AWS::Region"` for Ref, `"LogicalId.Attribute"` for GetAtt. */
  readonly known?: Readonly<Record<string, string>>;
  /** Value for a reference not in `known`; defaults to the reference's own name. */
  readonly fallback?: (reference: IntrinsicReference) => string;
  /** Value of another stack's export for `Fn::ImportValue`; without it the intrinsic is refused. */
  readonly importValue?: (exportName: string) => string;
}

export const PLACEHOLDER_REGION = "us-east-1";
export const PLACEHOLDER_ACCOUNT = "000000000000";

/** Pseudo parameters, so `Fn::Join`ed provider names come out AWS-shaped. */
export const PSEUDO_PARAMETER_PLACEHOLDERS: Readonly<Record<string, string>> = {
  "AWS::Region": PLACEHOLDER_REGION,
  "AWS::AccountId": PLACEHOLDER_ACCOUNT,
  "AWS::Partition": "aws",
  "AWS::URLSuffix": "amazonaws.com",
  "AWS::StackName": "stack",
  "AWS::NoValue": "",
};

/**
 * Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` (and `Fn::ImportValue` when the lookup
 * knows the exports) anywhere inside `value`; other values
 * are returned as they are. Any other intrinsic throws: a guessed value would be a wrong answer.
 */
export function resolveIntrinsic(value: unknown, lookup: IntrinsicLookup = {}): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsic(item, lookup));
  if (value === null || typeof value !== "object") return value;

  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined && isIntrinsicName(only[0])) {
    return resolveFunction(only[0], only[1], lookup);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsic(item, lookup)]));
}

function isIntrinsicName(key: string): boolean {
  return key === "Ref" || key.startsWith("Fn::");
}

function resolveFunction(name: string, argument: unknown, lookup: IntrinsicLookup): string {
  switch (name) {
    case "Ref":
      return lookUp({ kind: "Ref", name: expectString(argument, "Ref") }, lookup);
    case "Fn::GetAtt":
      return lookUp(parseGetAtt(argument), lookup);
    case "Fn::Join":
      return resolveJoin(argument, lookup);
    case "Fn::Sub":
      return resolveSub(argument, lookup);
    case "Fn::ImportValue":
      if (lookup.importValue) {
        return lookup.importValue(
          expectString(resolveIntrinsic(argument, lookup), "Fn::ImportValue"),
        );
      }
      throw new RoleTemplateError("Fn::ImportValue needs the exporting stack (importValue)");
    default:
      throw new RoleTemplateError(`Unsupported intrinsic function ${name}`);
  }
}

function lookUp(reference: IntrinsicReference, lookup: IntrinsicLookup): string {
  const key =
    reference.kind === "Ref" ? reference.name : `${reference.logicalId}.${reference.attribute}`;
  if (lookup.known !== undefined && Object.hasOwn(lookup.known, key)) return lookup.known[key]!;
  if (Object.hasOwn(PSEUDO_PARAMETER_PLACEHOLDERS, key)) return PSEUDO_PARAMETER_PLACEHOLDERS[key]!;
  return lookup.fallback ? lookup.fallback(reference) : key;
}

function parseGetAtt(argument: unknown): IntrinsicReference {
  // JSON templates use [logicalId, attribute]; the short YAML form converts to "logicalId.attribute".
  if (typeof argument === "string") {
    const dot = argument.indexOf(".");
    if (dot > 0) {
      return {
        kind: "GetAtt",
        logicalId: argument.slice(0, dot),
        attribute: argument.slice(dot + 1),
      };
    }
  }
  if (Array.isArray(argument) && argument.length === 2) {
    const [logicalId, attribute] = argument;
    if (typeof logicalId === "string" && typeof attribute === "string") {
      return { kind: "GetAtt", logicalId, attribute };
    }
  }
  throw new RoleTemplateError(`Malformed Fn::GetAtt: ${JSON.stringify(argument)}`);
}

function resolveJoin(argument: unknown, lookup: IntrinsicLookup): string {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== "string") {
    throw new RoleTemplateError(`Malformed Fn::Join: ${JSON.stringify(argument)}`);
  }
  const [delimiter, parts] = argument;
  const resolved = resolveIntrinsic(parts, lookup);
  if (!Array.isArray(resolved)) {
    throw new RoleTemplateError(`Fn::Join needs a list of values: ${JSON.stringify(parts)}`);
  }
  return resolved.map((part) => expectString(part, "Fn::Join part")).join(delimiter);
}

function resolveSub(argument: unknown, lookup: IntrinsicLookup): string {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof text !== "string" || variables === null || typeof variables !== "object") {
    throw new RoleTemplateError(`Malformed Fn::Sub: ${JSON.stringify(argument)}`);
  }
  const localValues = resolveIntrinsic(variables, lookup) as Record<string, unknown>;
  // "${!Literal}" is CloudFormation's escape for a literal "${Literal}".
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => {
    if (bang === "!") return `\${${name}}`;
    if (Object.hasOwn(localValues, name)) return expectString(localValues[name], `Fn::Sub ${name}`);
    const dot = name.indexOf(".");
    const reference: IntrinsicReference =
      dot > 0 && !name.startsWith("AWS::")
        ? { kind: "GetAtt", logicalId: name.slice(0, dot), attribute: name.slice(dot + 1) }
        : { kind: "Ref", name };
    return lookUp(reference, lookup);
  });
}

function expectString(value: unknown, where: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new RoleTemplateError(`${where} must resolve to a string, got ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Placeholders that know the template
// ---------------------------------------------------------------------------------------------

export interface CloudFormationTemplate {
  readonly Resources: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: unknown }>
  >;
}

const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({ Type: z.string(), Properties: z.optional(z.unknown()) }),
  ),
});

/**
 * Placeholders shaped like the real thing, chosen by the referenced resource's type, so that a
 * provider name built from a user pool id still looks like `cognito-idp.<region>...`.
 */
export function placeholderLookup(
  template: CloudFormationTemplate,
  known: Readonly<Record<string, string>> = {},
): IntrinsicLookup {
  return {
    known: { ...PSEUDO_PARAMETER_PLACEHOLDERS, ...known },
    fallback: (reference) => {
      const logicalId = reference.kind === "Ref" ? reference.name : reference.logicalId;
      const type = Object.hasOwn(template.Resources, logicalId)
        ? template.Resources[logicalId]?.Type
        : undefined;
      return placeholderFor(reference, type);
    },
  };
}

function placeholderFor(reference: IntrinsicReference, resourceType: string | undefined): string {
  const region = PLACEHOLDER_REGION;
  if (reference.kind === "Ref") {
    const id = reference.name;
    switch (resourceType) {
      case "AWS::Cognito::UserPool":
        return `${region}_${id}`;
      case "AWS::Cognito::IdentityPool":
        return `${region}:${id}`;
      default:
        return id;
    }
  }
  const { logicalId: id, attribute } = reference;
  if (attribute === "Arn" && resourceType === "AWS::IAM::Role") {
    return `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/${id}`;
  }
  if (resourceType === "AWS::Cognito::UserPool") {
    if (attribute === "ProviderName") return `cognito-idp.${region}.amazonaws.com/${region}_${id}`;
    if (attribute === "Arn") {
      return `arn:aws:cognito-idp:${region}:${PLACEHOLDER_ACCOUNT}:userpool/${region}_${id}`;
    }
  }
  return `${id}.${attribute}`;
}

// ---------------------------------------------------------------------------------------------
// Role attachments
// ---------------------------------------------------------------------------------------------

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
  const parsed = cfnAttachmentSchema.safeParse(resolveIntrinsic(rawProperties, lookup));
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
