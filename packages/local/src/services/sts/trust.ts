/**
 * Evaluation of a role's trust policy for `sts:AssumeRoleWithWebIdentity`: the subset of IAM the
 * identity backend relies on (Amazon Cognito Developer Guide, "Role trust and permissions": roles trusted by the identity pool must condition on
 * both `cognito-identity.amazonaws.com:aud` and `:amr`).
 *
 * Supported: Effect Allow/Deny (an explicit Deny wins), Action as string or list with `*`
 * wildcards, Principal.Federated as provider name or `oidc-provider/` ARN, and the string
 * condition operators below with their `ForAnyValue:` / `ForAllValues:` set forms. Unsupported
 * operators are rejected when the role is registered, so a policy is never half-evaluated.
 * A single-valued operator over a key with several values (`amr`) does not match: IAM wants a
 * set operator there.
 */

interface TrustContext {
  /** Provider name, e.g. `cognito-identity.amazonaws.com`. */
  provider: string;
  /** Condition keys available to the policy, e.g. `cognito-identity.amazonaws.com:amr`. */
  keys: Record<string, string[]>;
}

const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
]);
const ACTION = "sts:assumerolewithwebidentity";

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

export class TrustPolicyError extends Error {}

/** Parses and checks a trust policy document (string or object); returns its statements. */
export function parseTrustPolicy(policy: string | object): Statement[] {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      throw new TrustPolicyError("Trust policy is not valid JSON");
    }
  }
  const statements = (doc as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  if (list.length === 0) throw new TrustPolicyError("Trust policy has no Statement");
  for (const statement of list as Statement[]) {
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") {
      throw new TrustPolicyError("Statement Effect must be Allow or Deny");
    }
    const condition = statement.Condition;
    if (condition === undefined) continue;
    if (typeof condition !== "object" || condition === null) {
      throw new TrustPolicyError("Condition must be an object");
    }
    for (const operator of Object.keys(condition)) {
      const base = operator.replace(/^(ForAnyValue|ForAllValues):/, "");
      if (!OPERATORS.has(base)) {
        throw new TrustPolicyError(`Unsupported condition operator in local STS: ${operator}`);
      }
    }
  }
  return list as Statement[];
}

/** True when some statement allows the web-identity assumption and no statement denies it. */
export function trustAllows(statements: Statement[], context: TrustContext): boolean {
  let allowed = false;
  for (const statement of statements) {
    if (
      !matchesAction(statement.Action) ||
      !matchesPrincipal(statement.Principal, context.provider)
    )
      continue;
    if (
      !conditionsHold(
        statement.Condition as Record<string, Record<string, unknown>> | undefined,
        context,
      )
    ) {
      continue;
    }
    if (statement.Effect === "Deny") return false;
    allowed = true;
  }
  return allowed;
}

function asList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

function matchesAction(action: unknown): boolean {
  return asList(action).some((pattern) => glob(pattern.toLowerCase(), ACTION));
}

function matchesPrincipal(principal: unknown, provider: string): boolean {
  if (principal === "*") return true;
  const federated = asList((principal as { Federated?: unknown } | undefined)?.Federated);
  return federated.some(
    (p) =>
      p === provider ||
      (/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\//.test(p) &&
        p.endsWith(`oidc-provider/${provider}`)),
  );
}

function conditionsHold(
  condition: Record<string, Record<string, unknown>> | undefined,
  context: TrustContext,
): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      // Condition keys are case-insensitive in IAM.
      const actualKey = Object.keys(context.keys).find(
        (k) => k.toLowerCase() === key.toLowerCase(),
      );
      return evaluate(operator, asList(expected), actualKey ? context.keys[actualKey] : undefined);
    }),
  );
}

function evaluate(operator: string, expected: string[], actual: string[] | undefined): boolean {
  const [setOperator, base] = operator.includes(":")
    ? operator.split(":", 2)
    : [undefined, operator];
  const negated = base!.includes("Not");
  const test = (value: string) => expected.some((pattern) => compare(base!, pattern, value));
  if (setOperator === "ForAllValues") {
    // Vacuously true without values, as IAM does (why ForAllValues alone is dangerous).
    return (actual ?? []).every((v) => (negated ? !test(v) : test(v)));
  }
  if (setOperator === "ForAnyValue") {
    const values = actual ?? [];
    return negated ? values.some((v) => !test(v)) : values.some(test);
  }
  // Single-valued operators: a missing key fails positive tests and passes negated ones.
  if (actual === undefined || actual.length === 0) return negated;
  // IAM requires a set operator for multivalued keys (e.g. `amr` of an authenticated identity,
  // which lists providers too). Fail closed rather than guess, so a trust policy that relies on
  // `StringEquals` over `amr` fails locally instead of passing here and failing in AWS.
  if (actual.length > 1) return false;
  return negated ? !test(actual[0]!) : test(actual[0]!);
}

function compare(base: string, pattern: string, value: string): boolean {
  switch (base) {
    case "StringEquals":
    case "StringNotEquals":
      return pattern === value;
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return pattern.toLowerCase() === value.toLowerCase();
    case "StringLike":
    case "StringNotLike":
      return glob(pattern, value);
    default:
      return false;
  }
}

/** IAM wildcards: `*` any run, `?` one character; everything else literal. */
function glob(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "s").test(value);
}
