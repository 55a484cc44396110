/**
 * DynamoDB requests as IAM authorizes them, and the verdict of a role's policies on them, by
 * @cloud-copilot/iam-simulate (the evaluator packages/local's IAM authorizer uses).
 *
 * The request context follows "Using IAM policy conditions for fine-grained access control"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html):
 * `dynamodb:LeadingKeys` is the partition-key value of the item (or, on an index, the index's
 * partition-key value of the query); `dynamodb:Attributes` lists the top-level attributes the
 * request names. Where AWS does not document exactly which names it counts, this counts more
 * (key, update and condition attributes alike), so an allowance found here is never one AWS would
 * refuse for a name we left out. A transaction is authorized action by action ("Using IAM with
 * DynamoDB transactions", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
 */
import { type EvaluationResult, runSimulation } from "@cloud-copilot/iam-simulate";
import type { TableUser } from "../../stacks/table-access";

export const ACCOUNT_ID = "000000000000";
export const REGION = "us-east-1";

/** Each function's execution role, by the logical id CDK gives it. */
export const FUNCTION_ROLES: Record<TableUser, RegExp> = {
  preSignUp: /^AuthpreSignUpServiceRole[0-9A-F]{8}$/,
  postConfirmation: /^AuthpostConfirmationServiceRole[0-9A-F]{8}$/,
  preTokenGeneration: /^PreTokenGenerationServiceRole[0-9A-F]{8}$/,
  outboxRelay: /^OutboxRelayServiceRole[0-9A-F]{8}$/,
  issueGuestProof: /^ApiLambdaPOSTidentityguestproofServiceRole[0-9A-F]{8}$/,
  linkIdentity: /^ApiLambdaPOSTidentitylinkServiceRole[0-9A-F]{8}$/,
  ensureIot: /^ApiLambdaPOSTidentityiotServiceRole[0-9A-F]{8}$/,
  getPreferences: /^ApiLambdaGETidentitypreferencesServiceRole[0-9A-F]{8}$/,
  putPreferences: /^ApiLambdaPUTidentitypreferencesServiceRole[0-9A-F]{8}$/,
  getProfile: /^ApiLambdaGETprofileServiceRole[0-9A-F]{8}$/,
  deleteMe: /^ApiLambdaDELETEidentitymeServiceRole[0-9A-F]{8}$/,
  adminGetUser: /^ApiLambdaGETadminuserssubServiceRole[0-9A-F]{8}$/,
  adminDeleteUser: /^ApiLambdaDELETEadminuserssubServiceRole[0-9A-F]{8}$/,
};
/** Partition-key attribute of the table and of each index (stacks/Data.ts). */
const PARTITION_KEY: Record<string, string> = { "": "pk", gsi1: "gsi1pk", outbox: "outboxShard" };

// biome-ignore lint/suspicious/noExplicitAny: wire-level DynamoDB JSON is free-form
type Json = Record<string, any>;

/** One DynamoDB call on the wire: the operation (`PutItem`) and its JSON body. */
export interface DynamoCall {
  operation: string;
  input: Json;
}

/** What IAM evaluates: an action on a resource with the request's condition keys. */
export interface AuthorizedRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

const RESERVED = new Set([
  "SET",
  "REMOVE",
  "ADD",
  "DELETE",
  "AND",
  "OR",
  "NOT",
  "BETWEEN",
  "IN",
  "attribute_exists",
  "attribute_not_exists",
  "attribute_type",
  "begins_with",
  "contains",
  "size",
  "if_not_exists",
  "list_append",
]);

/** Top-level attribute names an expression refers to (`#n` resolved; `a.b[0]` counts as `a`). */
export function attributesOf(expression: string | undefined, names: Json = {}): string[] {
  if (expression === undefined) return [];
  const found = new Set<string>();
  // Paths start after an operator, a separator or the start; values (`:v`) are skipped.
  for (const match of expression.matchAll(/(?<![.\w:#\]])(#?[A-Za-z_][\w]*)/g)) {
    const token = match[1]!;
    if (RESERVED.has(token)) continue;
    found.add(token.startsWith("#") ? String(names[token] ?? token) : token);
  }
  return [...found];
}

const stringOf = (value: Json | undefined): string | undefined =>
  value === undefined ? undefined : (value.S ?? value.N ?? value.B);

function withAttributes(context: AuthorizedRequest["context"], attributes: string[]) {
  if (attributes.length > 0) context["dynamodb:Attributes"] = [...new Set(attributes)].sort();
  return context;
}

function itemRequest(operation: string, input: Json, tableArn: string): AuthorizedRequest {
  const names = input.ExpressionAttributeNames ?? {};
  const key: Json = operation === "PutItem" ? input.Item : input.Key;
  const context: AuthorizedRequest["context"] = {};
  const leading = stringOf(key?.pk);
  if (leading !== undefined) context["dynamodb:LeadingKeys"] = [leading];
  if (typeof input.ReturnValues === "string") context["dynamodb:ReturnValues"] = input.ReturnValues;
  const condition = attributesOf(input.ConditionExpression, names);
  const attributes =
    operation === "PutItem"
      ? [...Object.keys(input.Item ?? {}), ...condition]
      : operation === "UpdateItem"
        ? [...Object.keys(key ?? {}), ...attributesOf(input.UpdateExpression, names), ...condition]
        : operation === "GetItem"
          ? attributesOf(input.ProjectionExpression, names)
          : condition;
  return {
    action: `dynamodb:${operation}`,
    resource: tableArn,
    context: withAttributes(context, attributes),
  };
}

/** The IAM requests one wire-level call is authorized as. */
export function authorizedRequestsOf(call: DynamoCall, tableArn: string): AuthorizedRequest[] {
  const { operation, input } = call;
  switch (operation) {
    case "GetItem":
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem":
      return [itemRequest(operation, input, tableArn)];
    case "Query": {
      const index = typeof input.IndexName === "string" ? input.IndexName : "";
      const partitionKey = PARTITION_KEY[index] ?? "pk";
      const names = input.ExpressionAttributeNames ?? {};
      const context: AuthorizedRequest["context"] = {};
      for (const match of String(input.KeyConditionExpression ?? "").matchAll(
        /(#?[A-Za-z_]\w*)\s*=\s*(:\w+)/g,
      )) {
        const name = match[1]!.startsWith("#") ? names[match[1]!] : match[1];
        if (name !== partitionKey) continue;
        const value = stringOf(input.ExpressionAttributeValues?.[match[2]!]);
        if (value !== undefined) context["dynamodb:LeadingKeys"] = [value];
      }
      if (typeof input.Select === "string") context["dynamodb:Select"] = input.Select;
      return [
        {
          action: "dynamodb:Query",
          resource: index === "" ? tableArn : `${tableArn}/index/${index}`,
          context: withAttributes(context, attributesOf(input.ProjectionExpression, names)),
        },
      ];
    }
    case "TransactWriteItems":
      return (input.TransactItems as Json[]).flatMap((entry) => {
        const [kind, inner] = Object.entries(entry)[0] as [string, Json];
        const action = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem" }[kind];
        return [itemRequest(action ?? "ConditionCheckItem", inner, tableArn)];
      });
    case "BatchWriteItem": {
      const writes = Object.values(input.RequestItems ?? {}).flat() as Json[];
      const keys = writes.map((write) =>
        stringOf((write.PutRequest?.Item ?? write.DeleteRequest?.Key)?.pk),
      );
      return [
        {
          action: "dynamodb:BatchWriteItem",
          resource: tableArn,
          context: { "dynamodb:LeadingKeys": keys.filter((key) => key !== undefined) },
        },
      ];
    }
    default:
      // Scan and the rest: no LeadingKeys, as on AWS.
      return [{ action: `dynamodb:${operation}`, resource: tableArn, context: {} }];
  }
}

export interface Verdict {
  result: EvaluationResult;
  /** Condition keys the simulator does not know for the action (should be none). */
  ignoredContextKeys: string[];
}

/** The identity policies' verdict on one request, from a role session of `roleArn`. */
export async function evaluate(
  policies: unknown[],
  roleArn: string,
  request: AuthorizedRequest,
): Promise<Verdict> {
  const roleName = roleArn.split("/").pop();
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/function`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT_ID },
        contextVariables: request.context,
      },
      identityPolicies: policies.map((policy, index) => ({ name: `policy-${index}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === "error") throw new Error(result.errors.message);
  if (result.resultType !== "single") throw new Error(`unexpected ${result.resultType} result`);
  return {
    result: result.overallResult,
    ignoredContextKeys: result.result.ignoredContextKeys ?? [],
  };
}
