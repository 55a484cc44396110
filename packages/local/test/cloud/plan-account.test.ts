/**
 * The app is synthesized for account 123456789012 (packages/local/src/synth.ts) and CDK bakes
 * that account into ARNs as a literal; the local services name the local account. The plan
 * rewrites exactly those ARNs (and a bare account value), so route policies, the role catalog of
 * the pre token trigger and IoT resources name roles and APIs that exist locally.
 */
import { describe, expect, it } from "vitest";
import type { CloudAssembly } from "../../src/cloud/assembly";
import { planCloud, SYNTHESIZED_ACCOUNT_ID } from "../../src/cloud/plan";
import { LOCAL_ACCOUNT_ID } from "../../src/types";

const SYNTH = SYNTHESIZED_ACCOUNT_ID;

function app(): CloudAssembly {
  const catalog = JSON.stringify({
    defaultRole: "member",
    roles: { member: { iamRoleArn: `arn:aws:iam::${SYNTH}:role/app-member`, precedence: 10 } },
  });
  return {
    stage: "test",
    appName: "app",
    region: "us-east-1",
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
                              `:execute-api:us-east-1:${SYNTH}:`,
                              { Ref: "Api" },
                              "/*/GET/profile",
                            ],
                          ],
                        },
                        `arn:aws:iot:us-east-1:${SYNTH}:topic/own/\${cognito-identity.amazonaws.com:sub}/*`,
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
                Code: { S3Bucket: `cdk-hnb659fds-assets-${SYNTH}-us-east-1`, S3Key: "x.zip" },
                Environment: { Variables: { ROLE_CATALOG: catalog, NOTE: `order ${SYNTH}` } },
              },
            },
            Invoke: {
              Type: "AWS::Lambda::Permission",
              Properties: { SourceAccount: SYNTH, Action: "lambda:InvokeFunction" },
            },
          },
        },
      },
    ],
  };
}

describe("the synthesized account in a plan", () => {
  const plan = planCloud(app(), {
    apiEndpoint: () => "http://127.0.0.1:4567",
    edgeEndpoint: "http://127.0.0.1:4566",
  });
  const resource = (logicalId: string) => plan.resources.find((r) => r.logicalId === logicalId)!;

  it("becomes the local account in ARNs: route and IoT policies, the role catalog", () => {
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
  });

  it("becomes the local account as a whole value, and stays elsewhere in text", () => {
    expect(plan.resolve("Api", { SourceAccount: SYNTH })).toEqual({
      SourceAccount: LOCAL_ACCOUNT_ID,
    });
    const fn = resource("Fn").properties as {
      Code: { S3Bucket: string };
      Environment: { Variables: Record<string, string> };
    };
    expect(fn.Code.S3Bucket).toBe(`cdk-hnb659fds-assets-${SYNTH}-us-east-1`);
    expect(fn.Environment.Variables.NOTE).toBe(`order ${SYNTH}`);
  });
});
