/**
 * SNS subscription filter policies: validation and matching, as pure functions.
 *
 * Semantics follow AWS's "Amazon SNS subscription filter policies" pages:
 * - keys are ANDed; the values listed for one key are ORed; `$or` takes a list of sub-policies of
 *   which at least one must match (alongside the sibling keys);
 * - with scope `MessageAttributes` keys name message attributes (no nesting). `String` attributes
 *   are strings, `Number` attributes are numbers (numeric rules match only them), `String.Array`
 *   attributes match when any element matches, `Binary` attributes are never compared;
 * - with scope `MessageBody` the policy mirrors the JSON body: nested objects walk into the body,
 *   arrays in the body match when any element matches, a body that is not a JSON object matches
 *   nothing (except a policy made only of `exists: false`);
 * - every operator except `exists: false` needs the key to be present.
 *
 * Validation mirrors the documented constraints (at most 5 keys, at most 150 value combinations,
 * numbers within ±1e9, well-formed operators) so a policy AWS would reject is rejected here too.
 */

export type FilterPolicyScope = "MessageAttributes" | "MessageBody";

/** A message attribute as SNS receives it in Publish. */
export interface FilterableAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface FilterableMessage {
  attributes?: Record<string, FilterableAttribute>;
  body?: string;
}

type Scalar = string | number | boolean | null;
type Rule = Scalar | { [operator: string]: unknown };
/** A validated policy: the parsed JSON, whose shape `validateFilterPolicy` has checked. */
export interface FilterPolicy {
  readonly scope: FilterPolicyScope;
  readonly root: PolicyNode;
}
interface PolicyNode {
  [key: string]: Rule[] | PolicyNode | PolicyNode[];
}

export class FilterPolicyError extends Error {}

const MAX_KEYS = 5;
const MAX_COMBINATIONS = 150;
const MAX_NUMBER = 1e9;
const MAX_POLICY_BYTES = 256 * 1024;
const RANGE_LOWER = new Set([">", ">="]);
const RANGE_UPPER = new Set(["<", "<="]);

/** Parses and validates a FilterPolicy attribute; throws FilterPolicyError with AWS-like text. */
export function parseFilterPolicy(
  json: string,
  scope: FilterPolicyScope = "MessageAttributes",
): FilterPolicy {
  if (Buffer.byteLength(json, "utf8") > MAX_POLICY_BYTES) {
    throw new FilterPolicyError("Filter policy is too large");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new FilterPolicyError("failed to parse JSON");
  }
  if (!isObject(parsed) || Object.keys(parsed).length === 0) {
    throw new FilterPolicyError("Filter policy must be a non-empty JSON object");
  }
  const leafKeys = new Set<string>();
  const combinations = validateNode(parsed, scope, [], leafKeys);
  if (leafKeys.size > MAX_KEYS) {
    throw new FilterPolicyError(`Filter policy can not have more than ${MAX_KEYS} keys`);
  }
  if (combinations > MAX_COMBINATIONS) {
    throw new FilterPolicyError(
      `Filter policy is too complex: ${combinations} combinations exceed ${MAX_COMBINATIONS}`,
    );
  }
  return { scope, root: parsed as PolicyNode };
}

/** Returns the number of value combinations of the node, for the complexity limit. */
function validateNode(
  node: Record<string, unknown>,
  scope: FilterPolicyScope,
  path: string[],
  leafKeys: Set<string>,
): number {
  let product = 1;
  for (const [key, value] of Object.entries(node)) {
    if (isOrOperator(key, value)) {
      let sum = 0;
      for (const branch of value as Record<string, unknown>[]) {
        if (Object.keys(branch).length === 0) {
          throw new FilterPolicyError('"$or" branches must not be empty');
        }
        sum += validateNode(branch, scope, path, leafKeys);
      }
      product *= sum;
    } else if (Array.isArray(value)) {
      if (value.length === 0) {
        throw new FilterPolicyError(
          `Empty arrays are not allowed (key ${[...path, key].join(".")})`,
        );
      }
      for (const rule of value) validateRule(rule);
      leafKeys.add([...path, key].join("."));
      product *= value.length;
    } else if (isObject(value) && scope === "MessageBody") {
      if (Object.keys(value).length === 0) {
        throw new FilterPolicyError(`Empty objects are not allowed (key ${key})`);
      }
      product *= validateNode(value, scope, [...path, key], leafKeys);
    } else {
      throw new FilterPolicyError(
        scope === "MessageAttributes" && isObject(value)
          ? "Filter policy scope MessageAttributes does not support nested filter policy"
          : `Match value must be an array (key ${[...path, key].join(".")})`,
      );
    }
  }
  return product;
}

function validateRule(rule: unknown): void {
  if (rule === null || typeof rule === "string" || typeof rule === "boolean") return;
  if (typeof rule === "number") {
    validateNumber(rule);
    return;
  }
  if (!isObject(rule))
    throw new FilterPolicyError("Match value must be String, number, true, false, or null");
  const operators = Object.keys(rule);
  if (operators.length !== 1) {
    throw new FilterPolicyError("Only one operator is allowed per match object");
  }
  const operator = operators[0]!;
  const operand = rule[operator];
  switch (operator) {
    case "exists":
      if (typeof operand !== "boolean")
        throw new FilterPolicyError("exists match pattern must be either true or false.");
      return;
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
      if (typeof operand !== "string")
        throw new FilterPolicyError(`${operator} match pattern must be a string`);
      return;
    case "anything-but":
      validateAnythingBut(operand);
      return;
    case "numeric":
      validateNumeric(operand);
      return;
    default:
      throw new FilterPolicyError(`Unrecognized match type ${operator}`);
  }
}

function validateAnythingBut(operand: unknown): void {
  if (typeof operand === "string") return;
  if (typeof operand === "number") {
    validateNumber(operand);
    return;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) throw new FilterPolicyError("Empty arrays are not allowed");
    for (const item of operand) {
      if (typeof item === "number") validateNumber(item);
      else if (typeof item !== "string") {
        throw new FilterPolicyError(
          "Inside anything but list, start|null|boolean is not supported.",
        );
      }
    }
    return;
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const key = keys[0];
    if (
      keys.length === 1 &&
      (key === "prefix" || key === "suffix") &&
      typeof operand[key] === "string"
    ) {
      return;
    }
  }
  throw new FilterPolicyError(
    "Value of anything-but must be an array or single string/number value.",
  );
}

function validateNumeric(operand: unknown): void {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new FilterPolicyError("Value of numeric must be an array.");
  }
  const [op1, n1, op2, n2] = operand as unknown[];
  if (typeof n1 !== "number") throw new FilterPolicyError("Value of numeric must be numbers.");
  validateNumber(n1);
  if (operand.length === 2) {
    if (op1 !== "=" && !RANGE_LOWER.has(op1 as string) && !RANGE_UPPER.has(op1 as string)) {
      throw new FilterPolicyError(`Unrecognized numeric range operator: ${String(op1)}`);
    }
    return;
  }
  if (!RANGE_LOWER.has(op1 as string) || !RANGE_UPPER.has(op2 as string)) {
    throw new FilterPolicyError("Bad numeric range operator");
  }
  if (typeof n2 !== "number") throw new FilterPolicyError("Value of numeric must be numbers.");
  validateNumber(n2);
  if (n1 >= n2) throw new FilterPolicyError("Bottom must be less than top");
}

function validateNumber(n: number): void {
  if (!Number.isFinite(n) || Math.abs(n) > MAX_NUMBER) {
    throw new FilterPolicyError("Numeric match values must be between -1.0E9 and 1.0E9 inclusive");
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Values found at a key; `undefined` means the key is absent. */
type Values = Scalar[] | undefined;
type Lookup = (path: string[]) => Values;

export function matchesFilterPolicy(policy: FilterPolicy, message: FilterableMessage): boolean {
  const lookup =
    policy.scope === "MessageBody" ? bodyLookup(message.body) : attributeLookup(message.attributes);
  return matchNode(policy.root, lookup, []);
}

function matchNode(node: PolicyNode, lookup: Lookup, path: string[]): boolean {
  for (const [key, value] of Object.entries(node)) {
    if (isOrOperator(key, value)) {
      const branches = value as PolicyNode[];
      if (!branches.some((branch) => matchNode(branch, lookup, path))) return false;
    } else if (Array.isArray(value)) {
      const values = lookup([...path, key]);
      if (!(value as Rule[]).some((rule) => matchRule(rule, values))) return false;
    } else if (!matchNode(value as PolicyNode, lookup, [...path, key])) {
      return false;
    }
  }
  return true;
}

function matchRule(rule: Rule, values: Values): boolean {
  if (isObject(rule) && "exists" in rule) return (values !== undefined) === rule.exists;
  if (values === undefined) return false;
  return values.some((value) => matchValue(rule, value));
}

function matchValue(rule: Rule, value: Scalar): boolean {
  if (!isObject(rule)) {
    if (typeof rule === "number") return typeof value === "number" && sameNumber(rule, value);
    return rule === value;
  }
  const [operator, operand] = Object.entries(rule)[0]!;
  switch (operator) {
    case "prefix":
      return typeof value === "string" && value.startsWith(operand as string);
    case "suffix":
      return typeof value === "string" && value.endsWith(operand as string);
    case "equals-ignore-case":
      return typeof value === "string" && value.toLowerCase() === (operand as string).toLowerCase();
    case "anything-but":
      return matchAnythingBut(operand, value);
    case "numeric":
      return typeof value === "number" && matchNumeric(operand as (string | number)[], value);
    default:
      return false;
  }
}

function matchAnythingBut(operand: unknown, value: Scalar): boolean {
  if (isObject(operand)) {
    if (typeof value !== "string") return false;
    if (typeof operand.prefix === "string") return !value.startsWith(operand.prefix);
    if (typeof operand.suffix === "string") return !value.endsWith(operand.suffix);
    return false;
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  return !excluded.some((item) =>
    typeof item === "number"
      ? typeof value === "number" && sameNumber(item, value)
      : item === value,
  );
}

function matchNumeric(operand: (string | number)[], value: number): boolean {
  for (let i = 0; i < operand.length; i += 2) {
    const bound = operand[i + 1] as number;
    switch (operand[i]) {
      case "=":
        if (!sameNumber(value, bound)) return false;
        break;
      case "<":
        if (!(value < bound)) return false;
        break;
      case "<=":
        if (!(value <= bound)) return false;
        break;
      case ">":
        if (!(value > bound)) return false;
        break;
      case ">=":
        if (!(value >= bound)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** SNS compares numbers with five digits after the decimal point. */
function sameNumber(a: number, b: number): boolean {
  return Math.round(a * 1e5) === Math.round(b * 1e5);
}

function attributeLookup(attributes: Record<string, FilterableAttribute> | undefined): Lookup {
  return (path) => {
    if (path.length !== 1) return undefined;
    const attribute = attributes?.[path[0]!];
    if (!attribute) return undefined;
    const type = attribute.DataType.split(".")[0];
    const raw = attribute.StringValue ?? "";
    if (attribute.DataType.startsWith("String.Array")) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (Array.isArray(parsed)) return parsed.filter(isScalar);
      } catch {
        /* an unparsable array matches no value, but is still present */
      }
      return [];
    }
    if (type === "Number") {
      const n = Number(raw);
      return Number.isFinite(n) ? [n] : [];
    }
    if (type === "String") return [raw];
    return []; // Binary: present, never compared
  };
}

function bodyLookup(body: string | undefined): Lookup {
  let document: unknown;
  try {
    document = body === undefined ? undefined : JSON.parse(body);
  } catch {
    document = undefined;
  }
  return (path) => {
    let node: unknown = document;
    for (const key of path) {
      if (!isObject(node) || !(key in node)) return undefined;
      node = node[key];
    }
    if (Array.isArray(node)) return node.filter(isScalar);
    if (isScalar(node)) return [node];
    return []; // an object where the policy expects a leaf: present, matches no value
  };
}

/**
 * SNS treats `"$or"` as the OR operator only when its value is a list of at least two policy
 * objects; anything else makes it an ordinary key named "$or".
 */
function isOrOperator(key: string, value: unknown): value is Record<string, unknown>[] {
  return key === "$or" && Array.isArray(value) && value.length >= 2 && value.every(isObject);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
