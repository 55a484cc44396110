/**
 * Attachments of policies to targets (Cognito identity ids, certificate ARNs, thing groups):
 * AttachPolicy, DetachPolicy, ListAttachedPolicies, ListTargetsForPolicy.
 */
import { AwsServiceError } from "../../../protocol/errors";
import { invalid, MAX_POLICIES_PER_TARGET, summary } from "../model";
import type { IotOperation } from "../state";
import { empty, listed } from "../wire";

const attachPolicy: IotOperation = (state, [policyName], _query, body) => {
  const name = policyName!;
  const target = requireTarget(body);
  state.requirePolicy(name);
  const current = state.attachments.get(target);
  // Re-attaching is a no-op success, as in IoT (AWS IoT API Reference, "AttachPolicy").
  if (current?.has(name)) return empty();
  if ((current?.size ?? 0) >= MAX_POLICIES_PER_TARGET) {
    throw new AwsServiceError(
      "LimitExceededException",
      `The number of attached policies to the target cannot exceed ${MAX_POLICIES_PER_TARGET}.`,
      { status: 410 },
    );
  }
  state.commit({ op: "attach", policyName: name, target });
  return empty();
};

const detachPolicy: IotOperation = (state, [policyName], _query, body) => {
  const name = policyName!;
  const target = requireTarget(body);
  state.requirePolicy(name);
  if (state.attachments.get(target)?.has(name))
    state.commit({ op: "detach", policyName: name, target });
  return empty();
};

const listAttachedPolicies: IotOperation = (state, [target], query) => {
  const names = [...(state.attachments.get(target!) ?? [])];
  return listed(
    query,
    names.map((n) => summary(state.policies.get(n)!)),
    "policies",
    true,
    false,
  );
};

const listTargetsForPolicy: IotOperation = (state, [policyName], query) => {
  state.requirePolicy(policyName!);
  return listed(query, state.targetsOf(policyName!), "targets", true, false);
};

export const targetOperations = {
  AttachPolicy: attachPolicy,
  DetachPolicy: detachPolicy,
  ListAttachedPolicies: listAttachedPolicies,
  ListTargetsForPolicy: listTargetsForPolicy,
} satisfies Record<string, IotOperation>;

/** Cognito identity ids (`us-east-1:<uuid>`) or principal ARNs (certificates, thing groups). */
const TARGET =
  /^(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:[0-9a-f-]{36}|arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:[\w/:.-]+)$/;

function requireTarget(body: Record<string, unknown>): string {
  const target = body.target;
  if (typeof target !== "string" || target === "") throw invalid("target is required");
  if (target.length > 2048 || !TARGET.test(target)) {
    throw invalid(`Invalid target: ${target.slice(0, 100)}`);
  }
  return target;
}
