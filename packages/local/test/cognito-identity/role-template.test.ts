import { describe, expect, it } from "vitest";
import { type CloudFormationTemplate, placeholderLookup } from "../../src/cloud/intrinsics";
import { resolveRole } from "../../src/services/cognito-identity/role-resolution";
import {
  identityPoolRoleConfigFromTemplate,
  RoleTemplateError,
} from "../../src/services/cognito-identity/role-template";

/**
 * Hand-written in the shape `cdk synth` produces for CfnIdentityPoolRoleAttachment: the provider
 * key as nested Fn::Join over pseudo parameters and Refs, roles as Fn::GetAtt. The Auth stack's
 * owner adds a test against the real synthesized stack.
 */
const providerName = {
  "Fn::Join": [
    "",
    [
      "cognito-idp.",
      { Ref: "AWS::Region" },
      ".",
      { Ref: "AWS::URLSuffix" },
      "/",
      { Ref: "UserPool6BA7E5F2" },
    ],
  ],
};

function authTemplate(): CloudFormationTemplate {
  return {
    Resources: {
      UserPool6BA7E5F2: { Type: "AWS::Cognito::UserPool", Properties: {} },
      UserPoolClient2F5918F7: {
        Type: "AWS::Cognito::UserPoolClient",
        Properties: { UserPoolId: { Ref: "UserPool6BA7E5F2" } },
      },
      MemberRole5D0C5D2A: { Type: "AWS::IAM::Role", Properties: {} },
      GuestRoleB1C3A9E4: { Type: "AWS::IAM::Role", Properties: {} },
      AdminRole38563C57: { Type: "AWS::IAM::Role", Properties: {} },
      IdentityPool: {
        Type: "AWS::Cognito::IdentityPool",
        Properties: { AllowUnauthenticatedIdentities: true, AllowClassicFlow: false },
      },
      IdentityPoolRoles: {
        Type: "AWS::Cognito::IdentityPoolRoleAttachment",
        Properties: {
          IdentityPoolId: { Ref: "IdentityPool" },
          Roles: {
            authenticated: { "Fn::GetAtt": ["MemberRole5D0C5D2A", "Arn"] },
            unauthenticated: { "Fn::GetAtt": ["GuestRoleB1C3A9E4", "Arn"] },
          },
          RoleMappings: {
            userPool: {
              IdentityProvider: {
                "Fn::Join": [":", [providerName, { Ref: "UserPoolClient2F5918F7" }]],
              },
              Type: "Token",
              AmbiguousRoleResolution: "Deny",
            },
            "accounts.google.com": {
              Type: "Rules",
              AmbiguousRoleResolution: "AuthenticatedRole",
              RulesConfiguration: {
                Rules: [
                  {
                    Claim: "hd",
                    MatchType: "Equals",
                    Value: "example.com",
                    RoleARN: { "Fn::GetAtt": ["AdminRole38563C57", "Arn"] },
                  },
                ],
              },
            },
          },
        },
      },
    },
  };
}

/** The parts of the fixture's attachment properties that the rejection cases edit. */
interface FixtureProperties {
  RoleMappings: Record<
    string,
    { RulesConfiguration?: { Rules: { MatchType: string }[] } } & Record<string, unknown>
  >;
}

const USER_POOL_KEY =
  "cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool6BA7E5F2:UserPoolClient2F5918F7";

describe("identityPoolRoleConfigFromTemplate", () => {
  it("reads roles and role mappings with AWS-shaped placeholders", () => {
    // Prepare
    const template = authTemplate();

    // Act
    const attachments = identityPoolRoleConfigFromTemplate(template);

    // Assess
    expect(attachments).toEqual([
      {
        logicalId: "IdentityPoolRoles",
        identityPoolId: "us-east-1:IdentityPool",
        config: {
          roles: {
            authenticated: "arn:aws:iam::000000000000:role/MemberRole5D0C5D2A",
            unauthenticated: "arn:aws:iam::000000000000:role/GuestRoleB1C3A9E4",
          },
          roleMappings: {
            [USER_POOL_KEY]: { type: "Token", ambiguousRoleResolution: "Deny" },
            "accounts.google.com": {
              type: "Rules",
              ambiguousRoleResolution: "AuthenticatedRole",
              rulesConfiguration: {
                rules: [
                  {
                    claim: "hd",
                    matchType: "Equals",
                    value: "example.com",
                    roleArn: "arn:aws:iam::000000000000:role/AdminRole38563C57",
                  },
                ],
              },
            },
          },
          allowUnauthenticatedIdentities: true,
        },
      },
    ]);
  });

  it("uses known values, such as deployed ids, instead of placeholders", () => {
    // Prepare
    const template = authTemplate();
    const lookup = placeholderLookup(template, {
      "AWS::Region": "eu-west-1",
      UserPool6BA7E5F2: "eu-west-1_AbCdEf123",
      UserPoolClient2F5918F7: "client1234",
    });

    // Act
    const [attachment] = identityPoolRoleConfigFromTemplate(template, lookup);

    // Assess
    expect(Object.keys(attachment?.config.roleMappings ?? {})).toContain(
      "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123:client1234",
    );
  });

  it("feeds resolveRole: Token with Deny refuses an ambiguous token", () => {
    // Prepare
    const [attachment] = identityPoolRoleConfigFromTemplate(authTemplate());
    const claims = { "cognito:roles": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"] };

    // Act
    const result = resolveRole({ config: attachment!.config, providerKey: USER_POOL_KEY, claims });

    // Assess
    expect(result).toMatchObject({ decision: "deny", error: "NotAuthorizedException" });
  });

  it("returns nothing for a template without role attachments", () => {
    // Act
    const attachments = identityPoolRoleConfigFromTemplate({
      Resources: { Bucket: { Type: "AWS::S3::Bucket" } },
    });

    // Assess
    expect(attachments).toEqual([]);
  });

  it.each([
    {
      name: "a Rules mapping with 26 rules",
      mutate: (properties: FixtureProperties) => {
        properties.RoleMappings["accounts.google.com"]!.RulesConfiguration!.Rules = Array.from(
          { length: 26 },
          (_, i) => ({
            Claim: "hd",
            MatchType: "Equals",
            Value: `${i}`,
            RoleARN: "arn:aws:iam::1:role/abcdefgh",
          }),
        );
      },
      message: /IdentityPoolRoles/,
    },
    {
      name: "an unknown MatchType",
      mutate: (properties: FixtureProperties) => {
        const [firstRule] =
          properties.RoleMappings["accounts.google.com"]?.RulesConfiguration?.Rules ?? [];
        if (firstRule) firstRule.MatchType = "Like";
      },
      message: /matchType/,
    },
    {
      name: "two mappings for one provider",
      mutate: (properties: FixtureProperties) => {
        properties.RoleMappings.again = { ...properties.RoleMappings.userPool };
      },
      message: /two role mappings/,
    },
  ])("rejects $name", ({ mutate, message }) => {
    // Prepare
    const template = authTemplate();
    mutate(template.Resources.IdentityPoolRoles?.Properties as FixtureProperties);

    // Act
    const attempt = () => identityPoolRoleConfigFromTemplate(template);

    // Assess
    expect(attempt).toThrow(RoleTemplateError);
    expect(attempt).toThrow(message);
  });

  it("refuses something that is not a template", () => {
    // Act
    const attempt = () =>
      identityPoolRoleConfigFromTemplate({ Outputs: {} } as unknown as CloudFormationTemplate);

    // Assess
    expect(attempt).toThrow(RoleTemplateError);
  });

  it("names the attachment when one of its intrinsics cannot be resolved offline", () => {
    // Prepare: a role from another stack's export, which a template alone cannot know.
    const template = authTemplate();
    const properties = template.Resources.IdentityPoolRoles?.Properties as {
      Roles: Record<string, unknown>;
    };
    properties.Roles.authenticated = { "Fn::ImportValue": "Shared-MemberRoleArn" };

    // Act
    const attempt = () => identityPoolRoleConfigFromTemplate(template);

    // Assess
    expect(attempt).toThrow(RoleTemplateError);
    expect(attempt).toThrow(/^IdentityPoolRoles: Fn::ImportValue needs the exporting stack/);
  });
});
