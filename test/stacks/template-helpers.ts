import type { Template } from "aws-cdk-lib/assertions";

export interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
}

export interface FoundResource extends CfnResource {
  stack: string;
  logicalId: string;
}

/** Every resource of a type, across all stacks of the app. */
export function resourcesOfType(
  templates: Record<string, Template>,
  type: string,
): FoundResource[] {
  const found: FoundResource[] = [];
  for (const [stack, template] of Object.entries(templates)) {
    const resources = template.findResources(type) as Record<string, CfnResource>;
    for (const [logicalId, resource] of Object.entries(resources)) {
      found.push({ stack, logicalId, ...resource });
    }
  }
  return found;
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export function statementsOf(policyDocument: unknown): PolicyStatementJson[] {
  return asArray((policyDocument as { Statement?: PolicyStatementJson[] }).Statement);
}

/** Every IAM statement of the app: inline role policies and AWS::IAM::Policy resources. */
export function allStatements(templates: Record<string, Template>) {
  const statements: { stack: string; logicalId: string; statement: PolicyStatementJson }[] = [];
  for (const policy of resourcesOfType(templates, "AWS::IAM::Policy")) {
    for (const statement of statementsOf(policy.Properties?.PolicyDocument)) {
      statements.push({ stack: policy.stack, logicalId: policy.logicalId, statement });
    }
  }
  for (const role of resourcesOfType(templates, "AWS::IAM::Role")) {
    for (const inline of asArray(role.Properties?.Policies as { PolicyDocument: unknown }[])) {
      for (const statement of statementsOf(inline.PolicyDocument)) {
        statements.push({ stack: role.stack, logicalId: role.logicalId, statement });
      }
    }
  }
  return statements;
}

/** Roles assumable by Cognito identity-pool identities, i.e. what apps receive as credentials. */
export function identityPoolRoles(templates: Record<string, Template>): FoundResource[] {
  return resourcesOfType(templates, "AWS::IAM::Role").filter((role) =>
    statementsOf(role.Properties?.AssumeRolePolicyDocument).some(
      (statement) =>
        (statement as { Principal?: { Federated?: string } }).Principal?.Federated ===
        "cognito-identity.amazonaws.com",
    ),
  );
}

/**
 * The logical ids (within their stack) or exported role names that a policy attaches to:
 * `{ Ref }` in the same stack or `{ Fn::ImportValue }` from another one.
 */
export function attachedRoleRefs(policy: CfnResource): string[] {
  return asArray(policy.Properties?.Roles as unknown[]).map((role) => JSON.stringify(role));
}
