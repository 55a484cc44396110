import { AdminRoleRequiredError } from "@boarding-pass/core/errors";
import { describe, expect, it } from "vitest";
import { adminActorOf } from "../../src/api/admin-caller";

const ADMIN_ROLE = "arn:aws:iam::123456789012:role/prod-boarding-pass-admin-us-east-1";
const SUB = "11111111-2222-4333-8444-555555555555";
const IDENTITY = "us-east-1:00000000-0000-4000-8000-000000000001";
const POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123";

/** `requestContext.authorizer.iam` as API Gateway fills it for an identity-pool session. */
const eventFrom = (userArn: unknown, cognitoIdentity: unknown = null) => ({
  requestContext: { authorizer: { iam: { userArn, cognitoIdentity } } },
});

describe("adminActorOf", () => {
  it("names an admin-role session: role, session, identity and the user-pool sub from amr", () => {
    const event = eventFrom(
      "arn:aws:sts::123456789012:assumed-role/prod-boarding-pass-admin-us-east-1/CognitoIdentityCredentials",
      { identityId: IDENTITY, amr: ["authenticated", POOL, `${POOL}:CognitoSignIn:${SUB}`] },
    );
    expect(adminActorOf(event, ADMIN_ROLE)).toEqual({
      kind: "admin",
      roleName: "prod-boarding-pass-admin-us-east-1",
      roleSessionName: "CognitoIdentityCredentials",
      identityId: IDENTITY,
      sub: SUB,
    });
  });

  it("accepts an operator's own session of the admin role, and a role ARN with a path", () => {
    const actor = adminActorOf(
      eventFrom("arn:aws:sts::123456789012:assumed-role/Ops-Admin/alice@example.org"),
      "arn:aws:iam::123456789012:role/team/ops/Ops-Admin",
    );
    expect(actor).toEqual({
      kind: "admin",
      roleName: "Ops-Admin",
      roleSessionName: "alice@example.org",
    });
  });

  it.each([
    [
      "the member role",
      "arn:aws:sts::123456789012:assumed-role/prod-boarding-pass-member-us-east-1/CognitoIdentityCredentials",
    ],
    [
      "the admin role's name in another account",
      "arn:aws:sts::999999999999:assumed-role/prod-boarding-pass-admin-us-east-1/x1",
    ],
    [
      "another partition",
      "arn:aws-cn:sts::123456789012:assumed-role/prod-boarding-pass-admin-us-east-1/x1",
    ],
    [
      "a name that only starts like the admin role",
      "arn:aws:sts::123456789012:assumed-role/prod-boarding-pass-admin-us-east-1-copy/x1",
    ],
    ["an IAM user", "arn:aws:iam::123456789012:user/prod-boarding-pass-admin-us-east-1"],
    ["the role ARN itself (no session)", ADMIN_ROLE],
    ["no userArn", undefined],
    ["a non-string userArn", { arn: ADMIN_ROLE }],
  ])("refuses %s with AdminRoleRequiredError", (_, userArn) => {
    expect(() => adminActorOf(eventFrom(userArn), ADMIN_ROLE)).toThrow(AdminRoleRequiredError);
  });

  it("refuses everyone when the configured admin role is not a role ARN", () => {
    const event = eventFrom(
      "arn:aws:sts::123456789012:assumed-role/prod-boarding-pass-admin-us-east-1/x1",
    );
    expect(() => adminActorOf(event, "prod-boarding-pass-admin-us-east-1")).toThrow(
      AdminRoleRequiredError,
    );
  });

  it("leaves out an identity id or sub that is not one (they would break the event's schema)", () => {
    const event = eventFrom(
      "arn:aws:sts::123456789012:assumed-role/prod-boarding-pass-admin-us-east-1/CognitoIdentityCredentials",
      { identityId: "not-an-identity", amr: [`${POOL}:CognitoSignIn:not-a-uuid`, 42] },
    );
    expect(adminActorOf(event, ADMIN_ROLE)).toEqual({
      kind: "admin",
      roleName: "prod-boarding-pass-admin-us-east-1",
      roleSessionName: "CognitoIdentityCredentials",
    });
  });
});
