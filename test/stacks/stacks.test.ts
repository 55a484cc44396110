import fs from "node:fs";
import path from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  FUNCTION_ENVIRONMENTS,
  type FunctionName,
  requiredVariables,
} from "@boarding-pass/contracts/env";
import {
  buildClaimsResponse,
  type ClaimsResponseV2,
  parseRoleCatalog,
  type RoleCatalog,
} from "@boarding-pass/core/token-claims";
import {
  type CloudFormationTemplate,
  placeholderLookup,
  resolveIntrinsic,
} from "@boarding-pass/local/cloud/intrinsics";
import { tableDefinitionsFromTemplate } from "@boarding-pass/local/cloud/tables";
import {
  type IdentityPoolRoleConfig,
  resolveRole,
} from "@boarding-pass/local/services/cognito-identity/role-resolution";
import { identityPoolRoleConfigFromTemplate } from "@boarding-pass/local/services/cognito-identity/role-template";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { Match } from "aws-cdk-lib/assertions";
import fc from "fast-check";
import { beforeAll, describe, expect, inject, test } from "vitest";
import { stageConfig } from "../../stacks/config";
import { type SynthesizedForTest, synthesize } from "./synth";
import {
  allStatements,
  asArray,
  attachedRoleRefs,
  type FoundResource,
  identityPoolRoles,
  resourcesOfType,
  statementsOf,
} from "./template-helpers";

let synthesized: SynthesizedForTest;
const ACCOUNT = "123456789012";
const templates = () => synthesized.templates;
const one = (type: string, stack: string): FoundResource => {
  const found = resourcesOfType({ [stack]: templates()[stack]! }, type);
  expect(found, `${type} in ${stack}`).toHaveLength(1);
  return found[0]!;
};

/** The role catalog pre token generation is configured with, resolved as CloudFormation would. */
let catalogCache: RoleCatalog | undefined;
function preTokenRoleCatalog(): RoleCatalog {
  if (catalogCache) return catalogCache;
  const preToken = resourcesOfType(templates(), "AWS::Lambda::Function").find(
    (fn) =>
      fn.Properties?.Handler === "packages/functions/src/cognito/pre-token-generation.handler",
  );
  // A Join over the partition pseudo parameter.
  const raw = preToken!.Properties!.Environment.Variables.ROLE_CATALOG;
  catalogCache = parseRoleCatalog(
    resolveIntrinsic(raw, { known: { "AWS::Partition": "aws" } }) as string,
  );
  return catalogCache;
}

beforeAll(async () => {
  synthesized = await synthesize("test");
}, 480_000);

describe("the app", () => {
  test("has one stack per concern", () => {
    expect(Object.keys(templates()).sort()).toEqual(
      ["Api", "Auth", "Consumers", "Data", "Events", "Iot"].sort(),
    );
  });

  test("passes cdk-nag's AwsSolutions pack with no unsuppressed error", () => {
    expect(synthesized.nagErrors).toEqual([]);
  });

  test("runs every function on nodejs22.x, arm64, as a bundled ES module", () => {
    const functions = resourcesOfType(templates(), "AWS::Lambda::Function").filter(
      (fn) =>
        typeof fn.Properties?.Handler === "string" &&
        fn.Properties.Handler.includes("packages/functions"),
    );
    expect(functions.length).toBeGreaterThanOrEqual(12);
    for (const fn of functions) {
      expect(fn.Properties?.Runtime, fn.logicalId).toBe("nodejs22.x");
      expect(fn.Properties?.Architectures, fn.logicalId).toEqual(["arm64"]);
      expect(fn.Properties?.TracingConfig, fn.logicalId).toEqual({ Mode: "Active" });
      // SST names ESM bundles .mjs and the handler export after the dot.
      expect(fn.Properties?.Handler, fn.logicalId).toMatch(
        /^packages\/functions\/src\/.+\.handler$/,
      );
      expect(fn.Properties?.Code?.S3Key, fn.logicalId).toMatch(/\.zip$/);
    }
  });

  test("bundles are minified ES modules shipped with their source map, which Node applies", () => {
    const artifacts = path.resolve(__dirname, "../..", ".sst", "artifacts");
    const functions = resourcesOfType(templates(), "AWS::Lambda::Function").filter((fn) =>
      String(fn.Properties?.Handler).startsWith("packages/functions/"),
    );
    for (const fn of functions) {
      const file = `${String(fn.Properties?.Handler).replace(/\.handler$/, "")}.mjs`;
      const bundle = fs
        .readdirSync(artifacts)
        .map((dir) => path.join(artifacts, dir, file))
        .find((candidate) => fs.existsSync(candidate));
      expect(bundle, file).toBeDefined();
      // `nodejs.sourcemap: true` keeps the map beside the bundle, inside the function's asset.
      expect(fs.existsSync(`${bundle}.map`), `${file}.map`).toBe(true);
      const code = fs.readFileSync(bundle!, "utf8");
      // SST's ESM banner, then one minified module: lines average thousands of characters
      // (unminified code averages a few dozen; the remaining breaks are in template literals).
      expect(code.startsWith("import { createRequire as topLevelCreateRequire }"), file).toBe(true);
      expect(code.length / code.split("\n").length, file).toBeGreaterThan(1000);
      expect(fn.Properties?.Environment?.Variables?.NODE_OPTIONS, file).toContain(
        "--enable-source-maps",
      );
    }
  });

  test("exports everything an app or a consumer needs", () => {
    const outputs = Object.values(templates()).flatMap((t) =>
      Object.keys(t.toJSON().Outputs ?? {}),
    );
    for (const key of [
      "Region",
      "UserPoolId",
      "UserPoolClientId",
      "IdentityPoolId",
      "ApiUrl",
      "EventsTopicArn",
      "EventsStreamName",
      "IotPolicyName",
      "TableName",
    ]) {
      expect(outputs, key).toContain(key);
    }
  });
});

describe("Data", () => {
  test("one on-demand, encrypted table with point-in-time recovery, TTL and its indexes", () => {
    const table = one("AWS::DynamoDB::Table", "Data");
    const p = table.Properties!;
    expect(p.BillingMode).toBe("PAY_PER_REQUEST");
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: "expiresAt", Enabled: true });
    expect(p.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(p.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName).sort()).toEqual([
      "gsi1",
      "outbox",
    ]);
  });

  test("is disposable outside production (the production test file pins retain)", () => {
    const table = one("AWS::DynamoDB::Table", "Data");
    expect(table.DeletionPolicy).toBe("Delete");
    expect(table.Properties?.DeletionProtectionEnabled).toBe(false);
  });
});

describe("Data on the local DynamoDB", () => {
  test("the table the stack declares is created locally with its keys, indexes and TTL", async () => {
    // Given the table definition read from the synthesized template, under a fresh name
    const name = `identity-${crypto.randomUUID()}`;
    const [definition] = tableDefinitionsFromTemplate(
      templates().Data!.toJSON() as CloudFormationTemplate,
      () => name,
    );
    const aws = new DynamoDBClient({
      endpoint: inject("localAwsEndpoint"),
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });

    // When it is created on the embedded DynamoDB
    await aws.send(new CreateTableCommand(definition!));
    await aws.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: definition!.TimeToLiveSpecification!,
      }),
    );

    // Then the local table has exactly the declared keys and indexes
    const { Table } = await aws.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.KeySchema).toEqual(definition!.KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      "gsi1",
      "outbox",
    ]);
    const ttl = await aws.send(new DescribeTimeToLiveCommand({ TableName: name }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe("expiresAt");
  });
});

describe("Events", () => {
  test("the topic is encrypted and refuses non-TLS publishers", () => {
    const topic = one("AWS::SNS::Topic", "Events");
    expect(topic.Properties?.KmsMasterKeyId).toBeDefined();
    const policy = one("AWS::SNS::TopicPolicy", "Events");
    const deny = statementsOf(policy.Properties?.PolicyDocument).find((s) => s.Effect === "Deny");
    expect(deny?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
  });

  test("the stream is on-demand and encrypted", () => {
    const stream = one("AWS::Kinesis::Stream", "Events");
    expect(stream.Properties?.StreamModeDetails).toEqual({ StreamMode: "ON_DEMAND" });
    expect(stream.Properties?.StreamEncryption).toEqual({
      EncryptionType: "KMS",
      KeyId: "alias/aws/kinesis",
    });
  });

  test("an outbox relay runs on a schedule", () => {
    const rule = one("AWS::Events::Rule", "Events");
    expect(rule.Properties?.ScheduleExpression).toBe("rate(1 minute)");
  });
});

describe("Auth: the user pool", () => {
  test("signs in by email, case-insensitively, on the Essentials plan, with a real password policy", () => {
    const pool = one("AWS::Cognito::UserPool", "Auth").Properties!;
    expect(pool.UsernameAttributes).toEqual(["email"]);
    expect(pool.UsernameConfiguration).toEqual({ CaseSensitive: false });
    expect(pool.UserPoolTier).toBe("ESSENTIALS");
    expect(pool.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  test("wires the three triggers, pre token generation as V2_0", () => {
    const template = templates().Auth!;
    const pool = one("AWS::Cognito::UserPool", "Auth").Properties!;
    const functionIdOf = (arn: unknown) =>
      (arn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const handlerOf = (logicalId: string) =>
      (template.toJSON().Resources[logicalId].Properties as { Handler: string }).Handler;

    expect(handlerOf(functionIdOf(pool.LambdaConfig.PreSignUp))).toBe(
      "packages/functions/src/cognito/pre-sign-up.handler",
    );
    expect(handlerOf(functionIdOf(pool.LambdaConfig.PostConfirmation))).toBe(
      "packages/functions/src/cognito/post-confirmation.handler",
    );
    expect(pool.LambdaConfig.PreTokenGenerationConfig.LambdaVersion).toBe("V2_0");
    expect(handlerOf(functionIdOf(pool.LambdaConfig.PreTokenGenerationConfig.LambdaArn))).toBe(
      "packages/functions/src/cognito/pre-token-generation.handler",
    );
    // The V1 field would make Cognito call the trigger with the V1 event.
    expect(pool.LambdaConfig.PreTokenGeneration).toBeUndefined();
  });

  test("trigger functions time out inside Cognito's 5 second window", () => {
    const pool = one("AWS::Cognito::UserPool", "Auth").Properties!;
    const arns = [
      pool.LambdaConfig.PreSignUp,
      pool.LambdaConfig.PostConfirmation,
      pool.LambdaConfig.PreTokenGenerationConfig.LambdaArn,
    ];
    const resources = templates().Auth!.toJSON().Resources;
    for (const arn of arns) {
      const id = arn["Fn::GetAtt"][0];
      expect(resources[id].Properties.Timeout, id).toBeLessThanOrEqual(5);
    }
  });

  test("only Cognito, from this pool and account, may invoke the triggers", () => {
    const permissions = resourcesOfType(templates(), "AWS::Lambda::Permission").filter(
      (p) => p.Properties?.Principal === "cognito-idp.amazonaws.com",
    );
    expect(permissions).toHaveLength(3);
    for (const permission of permissions) {
      expect(permission.Properties?.SourceArn, permission.logicalId).toEqual({
        "Fn::GetAtt": [expect.stringMatching(/^AuthUserPool/), "Arn"],
      });
      expect(permission.Properties?.SourceAccount, permission.logicalId).toBe("123456789012");
    }
  });

  test("the app client lists its attributes explicitly; nothing that feeds claims is writable", () => {
    const client = one("AWS::Cognito::UserPoolClient", "Auth").Properties!;
    expect(client.GenerateSecret).toBe(false);
    expect(client.PreventUserExistenceErrors).toBe("ENABLED");
    expect(client.EnableTokenRevocation).toBe(true);
    expect(client.ExplicitAuthFlows.sort()).toEqual(
      ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"].sort(),
    );
    expect(client.ReadAttributes.sort()).toEqual(
      ["email", "email_verified", "locale", "name", "zoneinfo"].sort(),
    );
    expect(client.WriteAttributes.sort()).toEqual(["email", "locale", "name", "zoneinfo"].sort());
    // Nothing a token's claims or roles are built from; email_verified stays Cognito's own.
    for (const attribute of client.WriteAttributes as string[]) {
      expect(attribute).not.toMatch(/^custom:|^email_verified$|^phone_number_verified$/);
    }
  });

  test("groups carry their IAM role and precedence", () => {
    const groups = resourcesOfType(templates(), "AWS::Cognito::UserPoolGroup");
    const byName = Object.fromEntries(groups.map((g) => [g.Properties?.GroupName, g.Properties]));
    expect(byName.admin).toMatchObject({
      Precedence: 0,
      RoleArn: { "Fn::GetAtt": [expect.stringMatching(/^AdminRole/), "Arn"] },
    });
    expect(byName.member).toMatchObject({
      Precedence: 10,
      RoleArn: { "Fn::GetAtt": [expect.stringMatching(/^MemberRole/), "Arn"] },
    });
  });
});

describe("Auth: email claims (docs/sign-up-policy.md)", () => {
  const triggerEnvironment = (handler: string) =>
    resourcesOfType(templates(), "AWS::Lambda::Function").find(
      (fn) => fn.Properties?.Handler === `packages/functions/src/cognito/${handler}.handler`,
    )!.Properties!.Environment.Variables as Record<string, unknown>;

  test("mailbox aliases fold by default, and pre sign-up and pre token generation agree on it", () => {
    const policy = JSON.parse(String(triggerEnvironment("pre-sign-up").SIGNUP_POLICY));
    expect(policy.foldMailboxAliases).toBe(true);
    expect(triggerEnvironment("pre-token-generation").FOLD_MAILBOX_ALIASES).toBe("true");
  });

  test("pre sign-up may read a stale claim's owner (AdminGetUser) on the pool's ARN only", () => {
    const holders = allStatements(templates()).filter(({ statement }) =>
      asArray(statement.Action).includes("cognito-idp:AdminGetUser"),
    );
    expect(holders.map(({ logicalId }) => logicalId)).toEqual([
      expect.stringMatching(/^PreSignUpUserPoolAccess/),
    ]);
    const resources = asArray(holders[0]!.statement.Resource as never);
    expect(resources).toHaveLength(1);
    expect(JSON.stringify(resources[0])).toMatch(/UserPool/);
  });

  test("claims are found by owner: gsi1 projects the claim's owner and expiry", () => {
    const table = one("AWS::DynamoDB::Table", "Data");
    const gsi1 = table.Properties!.GlobalSecondaryIndexes.find(
      (index: { IndexName: string }) => index.IndexName === "gsi1",
    );
    expect(gsi1.Projection).toEqual({ ProjectionType: "ALL" });
  });
});

describe("Auth: the identity pool", () => {
  test("classic flow off, guests on, revoked tokens checked", () => {
    const pool = one("AWS::Cognito::IdentityPool", "Auth").Properties!;
    expect(pool.AllowClassicFlow).toBe(false);
    expect(pool.AllowUnauthenticatedIdentities).toBe(true);
    expect(pool.CognitoIdentityProviders).toHaveLength(1);
    expect(pool.CognitoIdentityProviders[0].ServerSideTokenCheck).toBe(true);
  });

  test("every role it hands out trusts only this pool, with aud and amr conditions", () => {
    const roles = identityPoolRoles(templates());
    expect(roles.map((r) => r.logicalId.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual(
      ["AdminRole", "GuestRole", "MemberRole"].sort(),
    );
    const poolId = one("AWS::Cognito::IdentityPool", "Auth").logicalId;
    for (const role of roles) {
      const [trust, ...others] = statementsOf(role.Properties?.AssumeRolePolicyDocument);
      expect(others, role.logicalId).toEqual([]);
      expect(trust!.Action).toBe("sts:AssumeRoleWithWebIdentity");
      expect(trust!.Condition?.StringEquals).toEqual({
        "cognito-identity.amazonaws.com:aud": { Ref: poolId },
      });
      const expectedAmr = role.logicalId.startsWith("Guest") ? "unauthenticated" : "authenticated";
      expect(trust!.Condition?.["ForAnyValue:StringLike"]).toEqual({
        "cognito-identity.amazonaws.com:amr": expectedAmr,
      });
    }
  });

  test("role mapping is Token based for the user pool and denies ambiguity", () => {
    const attachment = one("AWS::Cognito::IdentityPoolRoleAttachment", "Auth").Properties!;
    expect(attachment.Roles).toEqual({
      authenticated: { "Fn::GetAtt": [expect.stringMatching(/^MemberRole/), "Arn"] },
      unauthenticated: { "Fn::GetAtt": [expect.stringMatching(/^GuestRole/), "Arn"] },
    });
    const mappings = Object.values(attachment.RoleMappings) as Record<string, unknown>[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ Type: "Token", AmbiguousRoleResolution: "Deny" });
    // The provider key is `cognito-idp.<region>.amazonaws.com/<poolId>:<clientId>`.
    expect(JSON.stringify(mappings[0]!.IdentityProvider)).toMatch(/cognito-idp\..*UserPoolClient/);
  });

  test("the role catalog given to pre token generation names the real role ARNs", () => {
    const catalog = preTokenRoleCatalog();
    const appRoles = identityPoolRoles(templates()).filter((r) => !r.logicalId.startsWith("Guest"));
    expect(
      Object.values(catalog.roles)
        .map((r) => r.iamRoleArn)
        .sort(),
    ).toEqual(
      appRoles.map((r) => `arn:aws:iam::123456789012:role/${r.Properties?.RoleName}`).sort(),
    );
    expect(catalog.defaultRole).toBe("member");
    expect(catalog.roles.admin!.precedence).toBeLessThan(catalog.roles.member!.precedence);
  });
});

describe("least privilege", () => {
  test("nobody gets cognito-identity:*, cognito-sync:*, iam:*, sts:* or a bare *", () => {
    for (const { logicalId, statement } of allStatements(templates())) {
      if (statement.Effect !== "Allow") continue;
      for (const action of asArray(statement.Action)) {
        expect(action, logicalId).not.toMatch(/^(cognito-identity|cognito-sync|iam|sts):\*$|^\*$/);
      }
    }
  });

  test("no app role may attach IoT policies or touch IAM and STS", () => {
    const appRoleIds = identityPoolRoles(templates()).map((r) => r.logicalId);
    const attachedToAppRole = (roles: string[]) =>
      roles.some((ref) => appRoleIds.some((id) => ref.includes(id)));
    const policies = resourcesOfType(templates(), "AWS::IAM::Policy").filter((p) =>
      attachedToAppRole(attachedRoleRefs(p)),
    );
    expect(policies.length).toBeGreaterThanOrEqual(4);
    for (const policy of policies) {
      for (const statement of statementsOf(policy.Properties?.PolicyDocument)) {
        for (const action of asArray(statement.Action)) {
          expect(action, policy.logicalId).not.toMatch(
            /^iot:(AttachPolicy|AttachPrincipalPolicy|\*)$|^iam:|^sts:/,
          );
        }
      }
    }
  });

  test("iot:AttachPolicy is held only by the two server-side identity functions", () => {
    const holders = allStatements(templates()).filter(({ statement }) =>
      asArray(statement.Action).includes("iot:AttachPolicy"),
    );
    expect(holders.map((h) => h.logicalId)).toEqual([
      expect.stringMatching(/^IotPolicyAttachment/),
    ]);
    const policy = templates().Api!.toJSON().Resources[holders[0]!.logicalId];
    const roleRefs = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    expect(roleRefs).toHaveLength(2);
    for (const ref of roleRefs) {
      expect(ref).toMatch(/^ApiLambdaPOSTidentity(link|iot)ServiceRole/);
    }
  });

  test("pre token generation cannot publish: its repaired-profile events leave through the outbox", () => {
    const auth = templates().Auth!.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: { Roles?: { Ref: string }[]; PolicyDocument?: unknown } }
    >;
    const policies = Object.entries(auth).filter(
      ([, r]) =>
        r.Type === "AWS::IAM::Policy" &&
        (r.Properties?.Roles ?? []).some((role) => role.Ref?.startsWith("PreTokenGeneration")),
    );
    expect(policies.length).toBeGreaterThan(0);
    const actions = policies.flatMap(([, r]) =>
      statementsOf(r.Properties?.PolicyDocument).flatMap((st) => asArray(st.Action)),
    );
    expect(actions).toContain("dynamodb:GetItem");
    expect(actions.filter((a) => /^(sns|kinesis):/.test(a))).toEqual([]);
  });

  test("guests may call only the guest-data routes", () => {
    const guestPolicy = resourcesOfType(templates(), "AWS::IAM::Policy").find((p) =>
      p.logicalId.startsWith("GuestApiAccess"),
    )!;
    const resources = JSON.stringify(statementsOf(guestPolicy.Properties?.PolicyDocument));
    expect(resources).toContain("/POST/identity/guest-proof");
    expect(resources).toContain("/GET/identity/preferences");
    expect(resources).toContain("/PUT/identity/preferences");
    expect(resources).not.toContain("/identity/link");
    expect(resources).not.toContain("/admin/");
  });
});

describe("Iot", () => {
  test("the identity policy confines a connection to its own client id and topics", () => {
    const policy = one("AWS::IoT::Policy", "Iot");
    const statements = statementsOf(policy.Properties?.PolicyDocument);
    const text = JSON.stringify(statements);
    expect(text).toContain("client/${cognito-identity.amazonaws.com:sub}");
    expect(text).toContain("topic/boardingpass/identities/${cognito-identity.amazonaws.com:sub}/*");
    expect(text).toContain(
      "topicfilter/boardingpass/identities/${cognito-identity.amazonaws.com:sub}/*",
    );
    for (const statement of statements) {
      expect(JSON.stringify(statement.Resource)).toContain("${cognito-identity.amazonaws.com:sub}");
    }
  });
});

describe("Api", () => {
  test("identity routes use IAM authorization, profile routes the user-pool JWT authorizer", () => {
    const routes = resourcesOfType(templates(), "AWS::ApiGatewayV2::Route");
    const byKey = Object.fromEntries(routes.map((r) => [r.Properties?.RouteKey, r.Properties]));
    for (const key of [
      "POST /identity/guest-proof",
      "POST /identity/link",
      "POST /identity/iot",
      "GET /identity/preferences",
      "PUT /identity/preferences",
      "GET /admin/users/{sub}",
    ]) {
      expect(byKey[key]?.AuthorizationType, key).toBe("AWS_IAM");
    }
    expect(byKey["GET /profile"]?.AuthorizationType).toBe("JWT");
    const authorizer = one("AWS::ApiGatewayV2::Authorizer", "Api").Properties!;
    expect(authorizer.AuthorizerType).toBe("JWT");
    expect(JSON.stringify(authorizer.JwtConfiguration.Issuer)).toContain("cognito-idp");
    expect(authorizer.JwtConfiguration.Audience).toHaveLength(1);
  });
});

describe("Api: throttling", () => {
  const throttling = stageConfig("test").apiThrottling;
  const limits = (limit: { rateLimit: number; burstLimit: number }) => ({
    ThrottlingRateLimit: limit.rateLimit,
    ThrottlingBurstLimit: limit.burstLimit,
  });

  test("the stage throttles every route, and the guest routes tighter, with the configured rates", () => {
    const stage = one("AWS::ApiGatewayV2::Stage", "Api");
    expect(stage.Properties?.DefaultRouteSettings).toEqual(
      expect.objectContaining(limits(throttling.stage)),
    );
    expect(stage.Properties?.RouteSettings).toEqual({
      "POST /identity/guest-proof": limits(throttling.guestProof),
      "GET /identity/preferences": limits(throttling.guestData),
      "PUT /identity/preferences": limits(throttling.guestData),
    });
    expect(throttling.guestProof.rateLimit).toBeLessThan(throttling.stage.rateLimit);
  });

  test("the stage waits for the routes its RouteSettings name (CloudFormation refuses unknown keys)", () => {
    const stage = one("AWS::ApiGatewayV2::Stage", "Api");
    const routes = resourcesOfType(templates(), "AWS::ApiGatewayV2::Route");
    const named = Object.keys(stage.Properties?.RouteSettings ?? {}).map(
      (key) => routes.find((route) => route.Properties?.RouteKey === key)!.logicalId,
    );
    expect(named).toHaveLength(3);
    expect(asArray(stage.DependsOn)).toEqual(expect.arrayContaining(named));
  });
});

describe("Api: who may act (issue 12)", () => {
  const environmentOf = (handler: string) =>
    resourcesOfType(templates(), "AWS::Lambda::Function").find(
      (fn) => fn.Properties?.Handler === `packages/functions/src/api/${handler}.handler`,
    )?.Properties?.Environment?.Variables;

  test("the admin routes are told the admin role, to check the caller's session against", () => {
    for (const handler of ["admin-get-user", "admin-delete-user"]) {
      const adminRole = JSON.stringify(environmentOf(handler)?.ADMIN_ROLE_ARN);
      expect(adminRole, handler).toMatch(/AdminRole/);
    }
    expect(environmentOf("delete-me")?.ADMIN_ROLE_ARN).toBeUndefined();
  });

  test("account deletion is told the recent-session window of the stage", () => {
    expect(environmentOf("delete-me")?.RECENT_SESSION_MAX_AGE_SECONDS).toBe(
      String(stageConfig("test").recentSessionMaxAgeSeconds),
    );
    expect(stageConfig("test").recentSessionMaxAgeSeconds).toBe(900);
  });
});

describe("Api: guest proofs", () => {
  test("an asymmetric signing key, usable only by the proof issuer (sign) and the link (verify)", () => {
    const key = one("AWS::KMS::Key", "Api").Properties!;
    expect(key.KeySpec).toBe("RSA_2048");
    expect(key.KeyUsage).toBe("SIGN_VERIFY");
    const kmsGrants = allStatements(templates())
      .filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith("kms:")))
      .map(({ logicalId, statement }) => ({ logicalId, actions: asArray(statement.Action) }));
    expect(kmsGrants).toEqual(
      expect.arrayContaining([
        {
          logicalId: expect.stringMatching(/^ApiLambdaPOSTidentityguestproof/),
          actions: ["kms:Sign"],
        },
        {
          logicalId: expect.stringMatching(/^ApiLambdaPOSTidentitylink/),
          actions: ["kms:GetPublicKey"],
        },
      ]),
    );
    expect(kmsGrants).toHaveLength(2);
  });
});

describe("Api: who is still a guest (ADR 0006)", () => {
  test("DescribeIdentity, held to this identity pool, only by the proof issuer and the link", () => {
    const holders = allStatements(templates()).filter(({ statement }) =>
      asArray(statement.Action).some((a) => /^cognito-identity:(DescribeIdentity|\*)$/.test(a)),
    );
    expect(holders.map((h) => h.logicalId)).toEqual([
      expect.stringMatching(/^IdentityPoolDescribe/),
    ]);
    const { statement } = holders[0]!;
    expect(statement.Effect).toBe("Allow");
    expect(asArray(statement.Action)).toEqual(["cognito-identity:DescribeIdentity"]);
    // No resource type exists for DescribeIdentity: `*`, narrowed by the pool's ARN condition.
    expect(statement.Resource).toBe("*");
    const poolArn = JSON.stringify(
      statement.Condition?.ArnEquals?.["cognito-identity:IdentityPoolArn"],
    );
    expect(poolArn).toContain(":cognito-identity:");
    expect(poolArn).toContain(":identitypool/");
    expect(poolArn).toMatch(/IdentityPool/);
    const policy = templates().Api!.toJSON().Resources[holders[0]!.logicalId];
    const roleRefs = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref).sort();
    expect(roleRefs).toEqual([
      expect.stringMatching(/^ApiLambdaPOSTidentityguestproofServiceRole/),
      expect.stringMatching(/^ApiLambdaPOSTidentitylinkServiceRole/),
    ]);
  });

  test("the policy simulator allows DescribeIdentity on identities of this pool only", async () => {
    const { statement } = allStatements(templates()).find(({ logicalId }) =>
      logicalId.startsWith("IdentityPoolDescribe"),
    )!;
    // The pool id comes from the Auth stack (an import here): one fixed id stands for it.
    const poolId = "us-east-1:00000000-0000-4000-8000-00000000c0de";
    const policy = {
      Version: "2012-10-17",
      Statement: [
        resolveIntrinsic(statement, {
          known: { "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT },
          fallback: () => poolId,
          importValue: () => poolId,
        }),
      ],
    };
    const simulate = (action: string, poolArn: string) =>
      runSimulation(
        {
          request: {
            principal: `arn:aws:sts::${ACCOUNT}:assumed-role/guest-proof/fn`,
            action,
            resource: { resource: "*", accountId: ACCOUNT },
            contextVariables: { "cognito-identity:IdentityPoolArn": poolArn },
          },
          identityPolicies: [{ name: "describe", policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
    const ours = `arn:aws:cognito-identity:us-east-1:${ACCOUNT}:identitypool/${poolId}`;
    const another = `arn:aws:cognito-identity:us-east-1:${ACCOUNT}:identitypool/us-east-1:00000000-0000-4000-8000-000000000bad`;
    const verdict = async (action: string, poolArn: string) => {
      const result = await simulate(action, poolArn);
      return result.resultType === "error" ? result.errors.message : result.overallResult;
    };
    expect(await verdict("cognito-identity:DescribeIdentity", ours)).toBe("Allowed");
    expect(await verdict("cognito-identity:DescribeIdentity", another)).toBe("ImplicitlyDenied");
    expect(await verdict("cognito-identity:DeleteIdentities", ours)).toBe("ImplicitlyDenied");
  });

  test("the proof issuer may update items (its per-identity counter), never delete them", () => {
    const actions = allStatements(templates())
      .filter(({ logicalId }) => logicalId.startsWith("ApiLambdaPOSTidentityguestproof"))
      // The explicit Deny on profile writes names PutItem too: only what is allowed counts.
      .filter(({ statement }) => statement.Effect === "Allow")
      .flatMap(({ statement }) => asArray(statement.Action));
    expect(actions).toContain("dynamodb:UpdateItem");
    expect(actions).not.toContain("dynamodb:DeleteItem");
    expect(actions).not.toContain("dynamodb:PutItem");
  });
});

describe("Api: account deletion (ADR 0007)", () => {
  const DELETERS = /^(ApiLambdaDELETEidentityme|ApiLambdaDELETEadminuserssub)/;

  test("DELETE /identity/me takes the user-pool JWT, DELETE /admin/users/{sub} IAM", () => {
    const routes = resourcesOfType(templates(), "AWS::ApiGatewayV2::Route");
    const byKey = Object.fromEntries(routes.map((r) => [r.Properties?.RouteKey, r.Properties]));
    expect(byKey["DELETE /identity/me"]?.AuthorizationType).toBe("JWT");
    expect(byKey["DELETE /admin/users/{sub}"]?.AuthorizationType).toBe("AWS_IAM");
  });

  test("only the admin role may invoke the admin deletion route", () => {
    const policies = resourcesOfType(templates(), "AWS::IAM::Policy").filter((p) =>
      /^(Guest|Member|Admin)ApiAccess/.test(p.logicalId),
    );
    expect(policies).toHaveLength(3);
    for (const policy of policies) {
      const text = JSON.stringify(statementsOf(policy.Properties?.PolicyDocument));
      expect(text.includes("/DELETE/admin/users/"), policy.logicalId).toBe(
        policy.logicalId.startsWith("AdminApiAccess"),
      );
      // The self-service route is JWT-authorized: no IAM role needs (or gets) it.
      expect(text, policy.logicalId).not.toContain("/DELETE/identity/me");
    }
  });

  test("AdminDeleteUser and ListUsers only on the user pool's ARN, only for the two deleters", () => {
    const holders = allStatements(templates()).filter(({ statement }) =>
      asArray(statement.Action).some((a) => /^cognito-idp:(AdminDeleteUser|ListUsers|\*)$/.test(a)),
    );
    const deleters = holders.filter(({ logicalId }) => DELETERS.test(logicalId));
    expect(deleters).toHaveLength(2);
    for (const { logicalId, statement } of deleters) {
      expect(statement.Effect, logicalId).toBe("Allow");
      expect(asArray(statement.Action).sort()).toEqual([
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:ListUsers",
      ]);
      const resources = asArray(statement.Resource as never);
      expect(resources, logicalId).toHaveLength(1);
      expect(JSON.stringify(resources[0]), logicalId).not.toContain('"*"');
      expect(JSON.stringify(resources[0]), logicalId).toMatch(/UserPool/);
    }
    // Nobody else in the app may delete users.
    expect(
      holders
        .filter(({ logicalId }) => !DELETERS.test(logicalId))
        .flatMap(({ statement }) => asArray(statement.Action))
        .filter((a) => a === "cognito-idp:AdminDeleteUser"),
    ).toEqual([]);
  });

  test("the deleters may detach IoT policies but never attach them", () => {
    const detach = resourcesOfType(templates(), "AWS::IAM::Policy").find((p) =>
      p.logicalId.startsWith("IotPolicyDetachment"),
    )!;
    expect(statementsOf(detach.Properties?.PolicyDocument).map((st) => st.Action)).toEqual([
      "iot:DetachPolicy",
    ]);
    const roleRefs = attachedRoleRefs(detach);
    expect(roleRefs).toHaveLength(2);
    for (const ref of roleRefs) expect(ref).toMatch(/ApiLambdaDELETE(identityme|adminuserssub)/);
    const deleterPolicies = allStatements(templates()).filter(({ logicalId }) =>
      DELETERS.test(logicalId),
    );
    const actions = deleterPolicies.flatMap(({ statement }) => asArray(statement.Action));
    expect(actions.filter((a) => a.startsWith("iot:"))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(["dynamodb:DeleteItem", "dynamodb:Query"]));
    expect(actions.some((a) => a.startsWith("sns:Publish"))).toBe(true);
    expect(actions.some((a) => a.startsWith("kinesis:PutRecord"))).toBe(true);
  });
});

describe("Consumers", () => {
  test("the SNS subscriber is an SQS queue with a filter, raw delivery and a dead-letter queue", () => {
    const subscription = one("AWS::SNS::Subscription", "Consumers").Properties!;
    expect(subscription.Protocol).toBe("sqs");
    expect(subscription.RawMessageDelivery).toBe(true);
    expect(subscription.FilterPolicy).toEqual({ eventType: ["boardingpass.user.confirmed.v1"] });
    const queues = resourcesOfType(templates(), "AWS::SQS::Queue");
    for (const queue of queues) {
      expect(queue.Properties?.SqsManagedSseEnabled, queue.logicalId).toBe(true);
    }
    const withRedrive = queues.filter((q) => q.Properties?.RedrivePolicy);
    expect(withRedrive).toHaveLength(1);
    expect(withRedrive[0]!.Properties?.RedrivePolicy.maxReceiveCount).toBe(5);
  });

  test("the Kinesis consumer cannot block its shard", () => {
    templates().Consumers!.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: Match.objectLike({
        "Fn::ImportValue": Match.stringLikeRegexp("IdentityEventStream"),
      }),
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 6 * 3600,
      StartingPosition: "TRIM_HORIZON",
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  test("the SQS consumer reports per-message failures", () => {
    const mappings = resourcesOfType(templates(), "AWS::Lambda::EventSourceMapping");
    const sqs = mappings.filter((m) =>
      JSON.stringify(m.Properties?.EventSourceArn).includes("WelcomeQueue"),
    );
    expect(sqs).toHaveLength(1);
    expect(sqs[0]!.Properties?.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
  });
});

describe("role resolution over the synthesized role mapping", () => {
  const profile = (roles: string[]) => ({
    sub: "8f0b3c1e-4a5d-4d1b-9f3e-2c7a6b5d4e3f",
    tenant: "acme",
    plan: "pro",
    roles,
    createdAt: "2026-11-26T00:00:00.000Z",
    version: 1,
  });

  /** The deployed role mapping with the real role ARNs, read once from the Auth template. */
  let mapping: { config: IdentityPoolRoleConfig; providerKey: string } | undefined;
  function roleMapping() {
    if (mapping) return mapping;
    const auth = templates().Auth!.toJSON() as CloudFormationTemplate;
    const roleArns = Object.fromEntries(
      identityPoolRoles(templates()).map((role) => [
        `${role.logicalId}.Arn`,
        `arn:aws:iam::123456789012:role/${role.Properties?.RoleName}`,
      ]),
    );
    const [attachment] = identityPoolRoleConfigFromTemplate(
      auth,
      placeholderLookup(auth, roleArns),
    );
    const config = attachment!.config;
    mapping = { config, providerKey: Object.keys(config.roleMappings)[0]! };
    return mapping;
  }

  /** What the identity pool does with a token the pre token trigger shaped for this profile. */
  function roleFor(profileRoles: string[] | null) {
    const { config, providerKey } = roleMapping();
    const catalog = preTokenRoleCatalog();
    const response = buildClaimsResponse(
      { version: "2", request: { groupConfiguration: { groupsToOverride: ["member"] } } },
      profileRoles === null ? null : profile(profileRoles),
      catalog,
    ) as ClaimsResponseV2;
    const groups = response.claimsAndScopeOverrideDetails.groupOverrideDetails!;
    const claims = {
      "cognito:roles": groups.iamRolesToOverride,
      "cognito:preferred_role": groups.preferredRole,
    };
    return { resolution: resolveRole({ config, providerKey, claims }), config, providerKey };
  }

  const roleNamed = (name: string) =>
    `arn:aws:iam::123456789012:role/test-boarding-pass-${name}-us-east-1`;

  test.each([
    { roles: ["member"], expected: "member" },
    { roles: ["admin"], expected: "admin" },
    { roles: ["member", "admin"], expected: "admin" },
    { roles: [], expected: "member" },
    { roles: ["unknown-role"], expected: "member" },
    { roles: null, expected: "member" },
  ])("profile roles $roles get the $expected role", ({ roles, expected }) => {
    const { resolution } = roleFor(roles);
    expect(resolution).toMatchObject({ decision: "allow", roleArn: roleNamed(expected) });
  });

  test("guests get the guest role", () => {
    const { config } = roleFor(["member"]);
    expect(resolveRole({ config, providerKey: "", claims: null })).toMatchObject({
      decision: "allow",
      roleArn: roleNamed("guest"),
    });
  });

  test("two roles and no preferred role is denied, not defaulted", () => {
    const { config, providerKey } = roleFor(["member"]);
    const claims = { "cognito:roles": [roleNamed("admin"), roleNamed("member")] };
    expect(resolveRole({ config, providerKey, claims })).toMatchObject({
      decision: "deny",
      error: "NotAuthorizedException",
    });
  });

  test("no profile state yields the admin role unless the profile holds it", () => {
    fc.assert(
      fc.property(
        fc.option(
          fc.array(fc.constantFrom("admin", "member", "guest", "owner", "x"), { maxLength: 4 }),
        ),
        (roles) => {
          const { resolution } = roleFor(roles);
          expect(resolution.decision).toBe("allow");
          const isAdmin =
            resolution.decision === "allow" && resolution.roleArn === roleNamed("admin");
          expect(isAdmin).toBe(roles?.includes("admin") ?? false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("function environments (packages/contracts/env.ts)", () => {
  const CONTRACT_OF: Record<string, FunctionName> = {
    "cognito/pre-sign-up": "preSignUp",
    "cognito/post-confirmation": "postConfirmation",
    "cognito/pre-token-generation": "preTokenGeneration",
    "events/outbox-relay": "outboxRelay",
    "api/issue-guest-proof": "issueGuestProof",
    "api/link-identity": "linkIdentity",
    "api/ensure-iot": "ensureIot",
    "api/preferences": "preferences",
    "api/admin-get-user": "adminGetUser",
    "api/delete-me": "deleteMe",
    "api/admin-delete-user": "adminDeleteUser",
    "api/get-profile": "getProfile",
  };
  const functions = () =>
    resourcesOfType(templates(), "AWS::Lambda::Function").flatMap((fn) => {
      const match = /^packages\/functions\/src\/(.+)\.handler$/.exec(
        String(fn.Properties?.Handler),
      );
      return match ? [{ source: match[1]!, fn }] : [];
    });

  test("every function that reads its environment has a contract", () => {
    const sources = functions().map(({ source }) => source);
    const withoutContract = sources.filter(
      (source) => CONTRACT_OF[source] === undefined && !source.startsWith("consumers/"),
    );
    expect(withoutContract).toEqual([]);
    expect(new Set(sources)).toEqual(new Set([...Object.keys(CONTRACT_OF), ...sources]));
  });

  test("each function is given every variable its contract requires, and none it does not read", () => {
    // Set on every function by sst.config.ts and the stacks' defaults, not a function's own.
    const APP_WIDE = /^(POWERTOOLS_|AWS_|NODE_OPTIONS$|SST_)/;
    for (const { source, fn } of functions()) {
      const contract = CONTRACT_OF[source];
      if (contract === undefined) continue;
      const variables = Object.keys(fn.Properties?.Environment?.Variables ?? {});
      // STAGE comes from sst.config.ts's app-wide defaults, outside these stacks.
      const missing = requiredVariables(contract).filter(
        (key) => key !== "STAGE" && !variables.includes(key),
      );
      expect(missing, source).toEqual([]);
      const unknown = variables.filter(
        (key) =>
          !APP_WIDE.test(key) &&
          key !== "STAGE" &&
          !Object.hasOwn(FUNCTION_ENVIRONMENTS[contract], key),
      );
      // The route defaults give every route the identity pool; only get-profile does not read it.
      expect(
        unknown.filter((key) => !(source === "api/get-profile" && key === "IDENTITY_POOL_ID")),
        source,
      ).toEqual([]);
    }
  });
});
