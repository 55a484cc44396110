/**
 * CDK bakes the account an app is synthesized for into ARNs as a literal (route policies, the role
 * catalog of the pre token trigger, IoT resources). The local cloud synthesizes for its own account
 * (assembly.ts), so those ARNs name roles and APIs that exist locally as they are; the plan
 * refuses an assembly synthesized for another account instead of planning ARNs that name nothing.
 */
import { describe, expect, it } from "vitest";
import type { CloudAssembly } from "../../src/cloud/assembly";
import { planCloud } from "../../src/cloud/plan";
import { LOCAL_ACCOUNT_ID } from "../../src/types";

function app(account: string = LOCAL_ACCOUNT_ID): CloudAssembly {
  const catalog = JSON.stringify({
    defaultRole: "member",
    roles: { member: { iamRoleArn: `arn:aws:iam::${account}:role/app-member`, precedence: 10 } },
  });
  return {
    stage: "test",
    appName: "app",
    region: "us-east-1",
    account: account,
    synthesized: false,
    assetDir: () => undefined,
    stacks: [
      {
        name: "Api",
        stackName: "test-app-Api",
        template: {
          Resources: {
            Api: { Type: "AWS::ApiGatewayV2::Api", Properties: { Name: "api" } },
            Role: {
              Type: "AWS::IAM::Role",
              Properties: { AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } },
            },
            Access: {
              Type: "AWS::IAM::Policy",
              Properties: {
                PolicyName: "access",
                Roles: [{ Ref: "Role" }],
                PolicyDocument: {
                  Version: "2012-10-17",
                  Statement: [
                    {
                      Effect: "Allow",
                      Action: ["execute-api:Invoke", "iot:Publish"],
                      Resource: [
                        {
                          "Fn::Join": [
                            "",
                            [
                              "arn:",
                              { Ref: "AWS::Partition" },
                              `:execute-api:us-east-1:${account}:`,
                              { Ref: "Api" },
                              "/*/GET/profile",
                            ],
                          ],
                        },
                        `arn:aws:iot:us-east-1:${account}:topic/own/\${cognito-identity.amazonaws.com:sub}/*`,
                      ],
                    },
                  ],
                },
              },
            },
            Fn: {
              Type: "AWS::Lambda::Function",
              Properties: {
                Role: { "Fn::GetAtt": ["Role", "Arn"] },
                Handler: "index.handler",
                Code: { S3Bucket: `cdk-hnb659fds-assets-${account}-us-east-1`, S3Key: "x.zip" },
                Environment: { Variables: { ROLE_CATALOG: catalog, NOTE: `order ${account}` } },
              },
            },
            Invoke: {
              Type: "AWS::Lambda::Permission",
              Properties: { SourceAccount: account, Action: "lambda:InvokeFunction" },
            },
          },
        },
      },
    ],
  };
}

describe("the account in a plan", () => {
  const options = {
    apiEndpoint: () => "http://127.0.0.1:4567",
    edgeEndpoint: "http://127.0.0.1:4566",
  };
  const plan = planCloud(app(), options);
  const resource = (logicalId: string) => plan.resources.find((r) => r.logicalId === logicalId)!;

  it("is the local account in ARNs as synthesized: route and IoT policies, the role catalog", () => {
    const apiId = resource("Api").ref;
    const document = resource("Access").properties.PolicyDocument as {
      Statement: { Resource: string[] }[];
    };
    expect(document.Statement[0]!.Resource).toEqual([
      `arn:aws:execute-api:us-east-1:${LOCAL_ACCOUNT_ID}:${apiId}/*/GET/profile`,
      `arn:aws:iot:us-east-1:${LOCAL_ACCOUNT_ID}:topic/own/\${cognito-identity.amazonaws.com:sub}/*`,
    ]);
    const variables = (
      resource("Fn").properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(JSON.parse(variables.ROLE_CATALOG!).roles.member.iamRoleArn).toBe(
      `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/app-member`,
    );
    expect(plan.resolve("Api", { SourceAccount: LOCAL_ACCOUNT_ID })).toEqual({
      SourceAccount: LOCAL_ACCOUNT_ID,
    });
  });

  it("refuses an app synthesized for another account, naming both", () => {
    expect(() => planCloud(app("123456789012"), options)).toThrow(
      /synthesized for account 123456789012, the local cloud runs as 000000000000/,
    );
  });
});
