/**
 * Every DynamoDB call the functions make in the whole journey, judged by IAM's rules against the
 * role policies the stacks synthesize (ADR 0010). The local cloud does not yet refuse a function's
 * call its role does not allow, so this file records each call at the edge (with the access key of
 * the function's role session), turns it into the request IAM would authorize and asks the policy
 * simulator: a grant the code outgrew fails here before it fails on AWS.
 */

import type { LocalService, ServiceRequest } from "@boarding-pass/local";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import type { PolicyDocument } from "@boarding-pass/local/cloud/contracts";
import {
  BOOT_TIMEOUT_MS,
  bootCloud,
  journeyOn,
  STEP_TIMEOUT_MS,
} from "@boarding-pass/testing/cloud";
import { type Journey, journeySteps } from "@boarding-pass/testing/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TableUser } from "../../stacks/table-access";
import {
  authorizedRequestsOf,
  type DynamoCall,
  evaluate,
  FUNCTION_ROLES,
} from "../stacks/dynamodb-authorization";

interface RecordedCall extends DynamoCall {
  roleArn: string;
}

let cloud: LocalCloud;
let journey: Journey;
const recorded: RecordedCall[] = [];

/** Wraps the edge's DynamoDB service: every call signed by a role session is kept, then served. */
function recordFunctionCalls(local: LocalCloud): void {
  const service = local.aws.services.get("dynamodb") as LocalService;
  const handle = service.handle.bind(service);
  service.handle = async (request: ServiceRequest) => {
    const session =
      request.accessKeyId === undefined
        ? undefined
        : local.aws.sts?.lookupCredentials(request.accessKeyId);
    const target = request.headers["x-amz-target"] ?? "";
    if (session !== undefined && target.startsWith("DynamoDB_20120810.")) {
      recorded.push({
        roleArn: session.roleArn,
        operation: target.slice("DynamoDB_20120810.".length),
        input: JSON.parse(request.body.toString("utf8") || "{}"),
      });
    }
    return handle(request);
  };
}

/** The role's identity policies as the stacks declare them, intrinsics resolved by the plan. */
function policiesOfRole(roleArn: string): { logicalId: string; policies: PolicyDocument[] } {
  const resources = cloud.plan.resources;
  const role = resources.find((r) => r.type === "AWS::IAM::Role" && r.attributes.Arn === roleArn);
  if (role === undefined) throw new Error(`no role ${roleArn} in the plan`);
  const inline =
    (role.properties.Policies as { PolicyDocument: PolicyDocument }[] | undefined) ?? [];
  const attached = resources.filter(
    (r) =>
      r.type === "AWS::IAM::Policy" &&
      ((r.properties.Roles as string[] | undefined) ?? []).includes(role.ref),
  );
  return {
    logicalId: role.logicalId,
    policies: [
      ...inline.map((policy) => policy.PolicyDocument),
      ...attached.map((policy) => policy.properties.PolicyDocument as PolicyDocument),
    ],
  };
}

const userOfRole = (logicalId: string): TableUser | undefined =>
  (Object.keys(FUNCTION_ROLES) as TableUser[]).find((user) => FUNCTION_ROLES[user].test(logicalId));

describe("the functions' DynamoDB calls in the whole journey, under their roles' policies", () => {
  beforeAll(async () => {
    cloud = await bootCloud();
    recordFunctionCalls(cloud);
    journey = journeyOn(cloud);
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await journey?.close();
    await cloud?.stop();
  }, STEP_TIMEOUT_MS);

  it(
    "are each allowed by IAM's evaluation of the synthesized policies",
    async () => {
      // Act: the journey (the demo's steps), then a relay run.
      for (const step of journeySteps(journey)) await step.run();
      const relay = cloud.plan.resources.find(
        (r) => r.type === "AWS::Lambda::Function" && r.logicalId.startsWith("OutboxRelay"),
      )!;
      await cloud.runtime.invoke(relay.ref, {});

      // Assess: every call, under the role that made it.
      const table = cloud.plan.resources.find((r) => r.type === "AWS::DynamoDB::Table")!;
      const refused: string[] = [];
      const seen = new Map<TableUser, Set<string>>();
      for (const call of recorded) {
        const { logicalId, policies } = policiesOfRole(call.roleArn);
        const user = userOfRole(logicalId);
        expect(
          user,
          `a table call from ${logicalId}, which stacks/table-access.ts lists not`,
        ).toBeDefined();
        for (const request of authorizedRequestsOf(call, table.attributes.Arn!)) {
          const verdict = await evaluate(policies, call.roleArn, request);
          expect(verdict.ignoredContextKeys).toEqual([]);
          const pattern = `${request.action} ${JSON.stringify(request.context)}`;
          if (!seen.has(user!)) seen.set(user!, new Set());
          seen.get(user!)!.add(request.action.slice("dynamodb:".length));
          if (verdict.result !== "Allowed") refused.push(`${user}: ${pattern} → ${verdict.result}`);
        }
      }
      expect(refused).toEqual([]);
      // The journey reaches every function that touches the table, with the calls they need.
      expect(
        Object.fromEntries([...seen].map(([user, actions]) => [user, [...actions].sort()])),
      ).toMatchObject({
        // A sign-up claims its address with a conditional update (a stale claim is taken with a put).
        preSignUp: expect.arrayContaining(["UpdateItem"]),
        postConfirmation: expect.arrayContaining(["PutItem", "UpdateItem"]),
        // The profile, and the claims the user owns (the owner index) to follow a verified change.
        preTokenGeneration: expect.arrayContaining(["GetItem", "Query"]),
        outboxRelay: expect.arrayContaining(["Query"]),
        issueGuestProof: expect.arrayContaining(["GetItem"]),
        linkIdentity: expect.arrayContaining(["GetItem", "PutItem", "Query", "UpdateItem"]),
        ensureIot: expect.arrayContaining(["UpdateItem"]),
        getPreferences: ["GetItem"],
        putPreferences: expect.arrayContaining(["UpdateItem"]),
        getProfile: ["GetItem"],
        adminGetUser: ["GetItem", "Query"],
        deleteMe: expect.arrayContaining(["DeleteItem", "PutItem", "Query", "UpdateItem"]),
      });
    },
    BOOT_TIMEOUT_MS,
  );
});
