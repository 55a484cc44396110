/**
 * Policies: CreatePolicy, GetPolicy, DeletePolicy, ListPolicies; `putPolicy` is the template
 * provisioner's create-or-replace. One document per policy: policy versions are not emulated.
 */

import { randomBytes } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import { type IotPolicy, invalid, MAX_POLICY_CHARS, summary } from "../model";
import type { IotOperation, IotState } from "../state";
import { empty, json, listed } from "../wire";

const createPolicy: IotOperation = (state, [policyName], _query, body) => {
  const name = policyName!;
  validatePolicyName(name);
  const document = body.policyDocument;
  if (typeof document !== "string") throw invalid("policyDocument is required");
  validatePolicyDocument(document);
  const arn = state.policyArn(name);
  if (state.policies.has(name)) {
    throw new AwsServiceError(
      "ResourceAlreadyExistsException",
      `Policy cannot be created - name already exists (name=${name})`,
      { status: 409, fields: { resourceId: name, resourceArn: arn } },
    );
  }
  const policy: IotPolicy = {
    policyName: name,
    policyArn: arn,
    policyDocument: document,
    createdAt: state.now(),
    generationId: randomBytes(32).toString("hex"),
  };
  state.commit({ op: "createPolicy", policy });
  return json(200, {
    policyName: name,
    policyArn: arn,
    policyDocument: document,
    policyVersionId: "1",
  });
};

const getPolicy: IotOperation = (state, [policyName]) => {
  const p = state.requirePolicy(policyName!);
  const seconds = p.createdAt / 1000;
  return json(200, {
    policyName: p.policyName,
    policyArn: p.policyArn,
    policyDocument: p.policyDocument,
    defaultVersionId: "1",
    creationDate: seconds,
    lastModifiedDate: seconds,
    generationId: p.generationId,
  });
};

const deletePolicy: IotOperation = (state, [policyName]) => {
  const name = policyName!;
  state.requirePolicy(name);
  if (state.targetsOf(name).length > 0) {
    throw new AwsServiceError(
      "DeleteConflictException",
      "The policy cannot be deleted as the policy is attached to one or more principals (name=" +
        name +
        ")",
      { status: 409 },
    );
  }
  state.commit({ op: "deletePolicy", policyName: name });
  return empty();
};

const listPolicies: IotOperation = (state, _params, query) =>
  listed(
    query,
    [...state.policies.values()].map(summary),
    "policies",
    query.get("isAscendingOrder") !== "false",
  );

export const policyOperations = {
  CreatePolicy: createPolicy,
  GetPolicy: getPolicy,
  DeletePolicy: deletePolicy,
  ListPolicies: listPolicies,
} satisfies Record<string, IotOperation>;

/**
 * Create-or-replace a policy's document (the template provisioner's update: AWS would add a
 * default version; locally the one document is replaced, attachments kept).
 */
export function putPolicy(state: IotState, policyName: string, policyDocument: string): IotPolicy {
  validatePolicyName(policyName);
  validatePolicyDocument(policyDocument);
  const existing = state.policies.get(policyName);
  if (existing?.policyDocument === policyDocument) return { ...existing };
  const policy: IotPolicy = {
    policyName,
    policyArn: state.policyArn(policyName),
    policyDocument,
    createdAt: existing?.createdAt ?? state.now(),
    generationId: randomBytes(32).toString("hex"),
  };
  state.commit({ op: "createPolicy", policy });
  return { ...policy };
}

function validatePolicyName(name: string): void {
  if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
    throw invalid(
      `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint`,
    );
  }
}

/** IoT accepts only JSON documents with Statements of Effect/Action/Resource, 2048 chars sans whitespace. */
function validatePolicyDocument(document: string): void {
  const malformed = (why: string) =>
    new AwsServiceError("MalformedPolicyException", `Policy document is malformed: ${why}`);
  if (document.replace(/\s/g, "").length > MAX_POLICY_CHARS) {
    throw malformed(`the document exceeds ${MAX_POLICY_CHARS} characters (excluding whitespace)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    throw malformed("not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw malformed("not a JSON object");
  const statements = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements)
    ? statements
    : statements !== undefined
      ? [statements]
      : [];
  if (list.length === 0) throw malformed("missing Statement");
  for (const s of list as Array<Record<string, unknown>>) {
    if (typeof s !== "object" || s === null) throw malformed("Statement must be an object");
    if (s.Effect !== "Allow" && s.Effect !== "Deny")
      throw malformed("Effect must be Allow or Deny");
    if (s.Action === undefined) throw malformed("missing Action");
    if (s.Resource === undefined) throw malformed("missing Resource");
  }
}
