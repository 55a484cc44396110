/**
 * The template's MFA settings reach the local pool: a user pool synthesized as stacks/Auth.ts
 * declares it (`mfa: Mfa.OPTIONAL`, `mfaSecondFactor: { otp: true, sms: false }`, which CDK writes
 * as `MfaConfiguration: OPTIONAL` and `EnabledMfas: [SOFTWARE_TOKEN_MFA]`) is provisioned with TOTP
 * MFA on.
 */
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  GetUserPoolMfaConfigCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { assertLoopbackEndpoint } from "@boarding-pass/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudAssembly } from "../../src/cloud/assembly";
import { planCloud } from "../../src/cloud/plan";
import { provisionCloud } from "../../src/cloud/provision";
import { type LocalAws, startLocalAws } from "../../src/index";

function authApp(): CloudAssembly {
  return {
    stage: "mfa",
    appName: "mfa-app",
    region: "us-east-1",
    account: "000000000000",
    synthesized: false,
    assetDir: () => undefined,
    stacks: [
      {
        name: "Auth",
        stackName: "mfa-app-Auth",
        template: {
          Resources: {
            Pool: {
              Type: "AWS::Cognito::UserPool",
              Properties: {
                UserPoolName: "mfa-app-users",
                UsernameAttributes: ["email"],
                MfaConfiguration: "OPTIONAL",
                EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
              },
            },
          },
          Outputs: { UserPoolId: { Value: { Ref: "Pool" } } },
        },
      },
    ],
  };
}

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws({ port: 0, include: ["cognito-idp"] });
});
afterAll(async () => {
  await aws.stop();
});

describe("provisioning a pool with MFA", () => {
  it("carries MfaConfiguration and EnabledMfas from the template to the local pool", async () => {
    const endpoint = assertLoopbackEndpoint(aws.endpoint);
    const plan = planCloud(authApp(), {
      apiEndpoint: () => "http://127.0.0.1:1",
      edgeEndpoint: endpoint,
    });
    await provisionCloud({ plan, aws, assetDir: () => undefined, log: () => {} });
    const poolId = plan.resources.find((r) => r.type === "AWS::Cognito::UserPool")!.ref;
    const client = new CognitoIdentityProviderClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    try {
      const described = await client.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
      expect(described.UserPool?.MfaConfiguration).toBe("OPTIONAL");
      const config = await client.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
      expect(config.SoftwareTokenMfaConfiguration?.Enabled).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
