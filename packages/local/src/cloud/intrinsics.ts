/**
 * CloudFormation intrinsic functions, resolved offline: the plan (plan.ts) resolves every
 * resource's properties with the local cloud's real ids, and the role template reader
 * (services/cognito-identity/role-template.ts) with readable placeholders.
 *
 * Synthesized templates carry intrinsics where deploy-time values go (`{"Fn::GetAtt": [role,
 * "Arn"]}`, an `Fn::Join` of pseudo parameters and Refs). Offline there are no real values, so
 * unknown references become whatever the lookup's fallback says, or placeholders shaped like the
 * real thing such as `arn:aws:iam::000000000000:role/<logicalId>`. "Intrinsic function reference"
 * (AWS CloudFormation User Guide) is the reference for each function's forms.
 */

/** Raised for an intrinsic this resolver cannot evaluate faithfully (a guess would be wrong). */
export class UnresolvableIntrinsicError extends Error {
  readonly code = "UNRESOLVABLE_INTRINSIC";
  override readonly name = "UnresolvableIntrinsicError";
}

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

const PLACEHOLDER_REGION = "us-east-1";
const PLACEHOLDER_ACCOUNT = "000000000000";

/** Pseudo parameters, so `Fn::Join`ed provider names come out AWS-shaped. */
const PSEUDO_PARAMETER_PLACEHOLDERS: Readonly<Record<string, string>> = {
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
      throw new UnresolvableIntrinsicError(
        "Fn::ImportValue needs the exporting stack (importValue)",
      );
    default:
      throw new UnresolvableIntrinsicError(`Unsupported intrinsic function ${name}`);
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
  throw new UnresolvableIntrinsicError(`Malformed Fn::GetAtt: ${JSON.stringify(argument)}`);
}

function resolveJoin(argument: unknown, lookup: IntrinsicLookup): string {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== "string") {
    throw new UnresolvableIntrinsicError(`Malformed Fn::Join: ${JSON.stringify(argument)}`);
  }
  const [delimiter, parts] = argument;
  const resolved = resolveIntrinsic(parts, lookup);
  if (!Array.isArray(resolved)) {
    throw new UnresolvableIntrinsicError(
      `Fn::Join needs a list of values: ${JSON.stringify(parts)}`,
    );
  }
  return resolved.map((part) => expectString(part, "Fn::Join part")).join(delimiter);
}

function resolveSub(argument: unknown, lookup: IntrinsicLookup): string {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof text !== "string" || variables === null || typeof variables !== "object") {
    throw new UnresolvableIntrinsicError(`Malformed Fn::Sub: ${JSON.stringify(argument)}`);
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
  throw new UnresolvableIntrinsicError(
    `${where} must resolve to a string, got ${JSON.stringify(value)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Placeholders that know the template
// ---------------------------------------------------------------------------------------------

export interface CloudFormationTemplate {
  readonly Resources: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: unknown }>
  >;
}

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
