import { functionEnvironment } from "@boarding-pass/contracts/env";
import { Duration, Fn, RemovalPolicy, type Stack } from "aws-cdk-lib";
import {
  AccountRecovery,
  CfnIdentityPool,
  CfnIdentityPoolRoleAttachment,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  LambdaVersion,
  Mfa,
  type UserPool,
  UserPoolOperation,
} from "aws-cdk-lib/aws-cognito";
import { Effect, FederatedPrincipal, Policy, PolicyStatement, Role } from "aws-cdk-lib/aws-iam";
import { CfnPermission } from "aws-cdk-lib/aws-lambda";
import { NagSuppressions } from "cdk-nag";
import { Cognito, Function as SstFunction, type StackContext, use } from "sst/constructs";
import {
  IDENTITY_ID_VARIABLE,
  IOT_TOPIC_ROOT,
  stageConfig,
  TRIGGER_TIMEOUT_SECONDS,
} from "./config";
import { Data } from "./Data";
import { Events } from "./Events";
import { grantTableAccess } from "./table-access";

/** The app roles a profile can hold, each an IAM role reached through a user-pool group. */
export const APP_ROLES = {
  admin: { group: "admin", precedence: 0 },
  member: { group: "member", precedence: 10 },
} as const;
export type AppRole = keyof typeof APP_ROLES;

const COGNITO_IDENTITY = "cognito-identity.amazonaws.com";

/**
 * Role names are fixed per app, stage and region so the pre token generation trigger can name the
 * ARNs it puts in tokens without a CloudFormation reference to the roles (the roles trust the
 * identity pool, which references the user pool, which references the trigger: a reference back
 * would be a cycle).
 */
function roleName(stack: Stack, stage: string, role: string): string {
  return `${stage}-boarding-pass-${role}-${stack.region}`;
}

function roleArn(stack: Stack, stage: string, role: string): string {
  return `arn:${stack.partition}:iam::${stack.account}:role/${roleName(stack, stage, role)}`;
}

/**
 * Passport office and boarding-pass counter: the user pool (sign-up, sign-in, triggers), the
 * identity pool (guests and signed-in users get AWS credentials), the IAM roles they receive and
 * the groups that map profiles to roles.
 */
export function Auth({ stack, app }: StackContext) {
  const config = stageConfig(app.stage);
  const { table } = use(Data);
  const { topic, stream, eventsEnvironment } = use(Events);

  const triggerDefaults = {
    timeout: TRIGGER_TIMEOUT_SECONDS,
    // What every trigger is told (each adds its own: packages/contracts/env.ts lists them).
    environment: {
      TABLE_NAME: table.tableName,
      DEFAULT_TENANT: config.defaultTenant,
      DEFAULT_PLAN: config.defaultPlan,
    },
  } as const;

  // The shape packages/core's RoleCatalog parses: what pre token generation may put in tokens.
  const roleCatalog = {
    defaultRole: config.defaultGroup,
    roles: Object.fromEntries(
      Object.entries(APP_ROLES).map(([name, { precedence }]) => [
        name,
        { iamRoleArn: roleArn(stack, app.stage, name), precedence },
      ]),
    ),
  };

  const auth = new Cognito(stack, "Auth", {
    login: ["email"],
    identityPoolFederation: false,
    triggers: {
      preSignUp: {
        ...triggerDefaults,
        handler: "packages/functions/src/cognito/pre-sign-up.handler",
        description: "Sign-up policy, canonical email uniqueness, safe federated linking",
        environment: functionEnvironment("preSignUp", {
          ...triggerDefaults.environment,
          // A federated link's event goes out inline; the outbox relay covers failures.
          ...eventsEnvironment,
          SIGNUP_POLICY: JSON.stringify(config.signUpPolicy),
        }),
      },
      postConfirmation: {
        ...triggerDefaults,
        handler: "packages/functions/src/cognito/post-confirmation.handler",
        description: "Creates the profile exactly once and emits user.confirmed",
        environment: functionEnvironment("postConfirmation", {
          ...triggerDefaults.environment,
          ...eventsEnvironment,
          DEFAULT_GROUP: config.defaultGroup,
        }),
      },
    },
    cdk: {
      userPool: {
        selfSignUpEnabled: true,
        signInCaseSensitive: false,
        featurePlan: FeaturePlan.ESSENTIALS,
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        autoVerify: { email: true },
        keepOriginal: { email: true },
        standardAttributes: {
          email: { required: true, mutable: true },
          fullname: { required: false, mutable: true },
        },
        deletionProtection: config.isProduction,
        removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      },
      userPoolClient: {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
        // Explicit lists: CDK's default makes every attribute user-writable. Nothing that feeds
        // claims or roles is here; those come from the server-owned profile.
        readAttributes: new ClientAttributes().withStandardAttributes({
          email: true,
          emailVerified: true,
          fullname: true,
          locale: true,
          timezone: true,
        }),
        // Email must be writable: SignUp sets it, and Cognito refuses attributes the client may
        // not write. A changed email stays unverified (and the old one active) until verified.
        writeAttributes: new ClientAttributes().withStandardAttributes({
          email: true,
          fullname: true,
          locale: true,
          timezone: true,
        }),
      },
    },
  });

  // The pool is created here (not imported), so it is the concrete UserPool with addTrigger.
  const userPool = auth.cdk.userPool as UserPool;
  NagSuppressions.addResourceSuppressions(userPool, [
    {
      id: "AwsSolutions-COG3",
      reason:
        "Threat protection (AdvancedSecurityMode ENFORCED) needs the Plus feature plan; the " +
        "Essentials plan is the documented baseline (it enables V2 pre token generation). Teams " +
        "that need adaptive authentication switch the plan per stage.",
    },
  ]);
  const userPoolClient = auth.cdk.userPoolClient;

  // Pre token generation as V2_0 (ID and access tokens) through the CDK escape hatch: SST's
  // `triggers.preTokenGeneration` would wire V1_0.
  const preTokenGeneration = new SstFunction(stack, "PreTokenGeneration", {
    ...triggerDefaults,
    memorySize: "1024 MB",
    handler: "packages/functions/src/cognito/pre-token-generation.handler",
    description: "Claims and IAM roles from the server-owned profile",
    // No event destinations: the hot path only reads. A repaired profile's event is written
    // to the outbox with the profile and published by the relay.
    environment: functionEnvironment("preTokenGeneration", {
      ...triggerDefaults.environment,
      ROLE_CATALOG: stack.toJsonString(roleCatalog),
      // Email claims follow the verified email (claim addresses as pre sign-up makes them).
      FOLD_MAILBOX_ALIASES: String(config.signUpPolicy.foldMailboxAliases),
    }),
  });
  userPool.addTrigger(
    UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
    preTokenGeneration,
    LambdaVersion.V2_0,
  );

  // CDK scopes the invoke permissions to this pool's ARN; pin the account too, so the permission
  // can never match a same-named pool elsewhere (confused deputy).
  for (const node of stack.node.findAll()) {
    if (node instanceof CfnPermission && node.principal === "cognito-idp.amazonaws.com") {
      node.sourceAccount = stack.account;
    }
  }

  const preSignUp = auth.getFunction("preSignUp")!;
  const postConfirmation = auth.getFunction("postConfirmation")!;
  grantTableAccess(table, preSignUp, "preSignUp");
  grantTableAccess(table, postConfirmation, "postConfirmation");
  grantTableAccess(table, preTokenGeneration, "preTokenGeneration");
  for (const publisher of [preSignUp, postConfirmation]) {
    topic.cdk.topic.grantPublish(publisher);
    stream.cdk.stream.grantWrite(publisher);
  }
  // Separate policies, not the functions' default ones: the user pool references the functions,
  // so a function that depended on a policy naming the pool would be a cycle.
  new Policy(stack, "PreSignUpUserPoolAccess", {
    roles: [preSignUp.role!],
    statements: [
      new PolicyStatement({
        // AdminGetUser: whether the owner of a stale email claim ever confirmed (takeover rule).
        actions: [
          "cognito-idp:ListUsers",
          "cognito-idp:AdminLinkProviderForUser",
          "cognito-idp:AdminGetUser",
        ],
        resources: [userPool.userPoolArn],
      }),
    ],
  });
  new Policy(stack, "PostConfirmationUserPoolAccess", {
    roles: [postConfirmation.role!],
    statements: [
      new PolicyStatement({
        actions: ["cognito-idp:AdminAddUserToGroup"],
        resources: [userPool.userPoolArn],
      }),
    ],
  });

  // Identity pool: enhanced flow only, guests allowed with a least-privilege role.
  const providerName = Fn.join("", [
    "cognito-idp.",
    stack.region,
    ".",
    stack.urlSuffix,
    "/",
    userPool.userPoolId,
  ]);
  const identityPool = new CfnIdentityPool(stack, "IdentityPool", {
    identityPoolName: app.logicalPrefixedName("identities").replace(/-/g, "_"),
    allowUnauthenticatedIdentities: true,
    allowClassicFlow: false,
    cognitoIdentityProviders: [
      {
        providerName,
        clientId: userPoolClient.userPoolClientId,
        // Tokens revoked by GlobalSignOut or RevokeToken stop working here too.
        serverSideTokenCheck: true,
      },
    ],
  });

  NagSuppressions.addResourceSuppressions(identityPool, [
    {
      id: "AwsSolutions-COG7",
      reason:
        "Guests are a product requirement (use before sign-up, then link or merge); their role " +
        "allows only the guest-data routes, and classic flow is off so the enhanced flow's " +
        "scope-down policy applies.",
    },
  ]);

  const trustedByIdentityPool = (amr: "authenticated" | "unauthenticated") =>
    new FederatedPrincipal(
      COGNITO_IDENTITY,
      {
        StringEquals: { [`${COGNITO_IDENTITY}:aud`]: identityPool.ref },
        "ForAnyValue:StringLike": { [`${COGNITO_IDENTITY}:amr`]: amr },
      },
      "sts:AssumeRoleWithWebIdentity",
    );

  const guestRole = new Role(stack, "GuestRole", {
    roleName: roleName(stack, app.stage, "guest"),
    description: "Unauthenticated identities: guest data routes only",
    assumedBy: trustedByIdentityPool("unauthenticated"),
    maxSessionDuration: Duration.hours(1),
  });

  const appRoles = Object.fromEntries(
    Object.keys(APP_ROLES).map((name) => {
      const role = new Role(stack, `${name[0]!.toUpperCase()}${name.slice(1)}Role`, {
        roleName: roleName(stack, app.stage, name),
        description: `Signed-in users with the ${name} app role`,
        assumedBy: trustedByIdentityPool("authenticated"),
        maxSessionDuration: Duration.hours(1),
      });
      role.addToPolicy(iotStatementForOwnIdentity(stack));
      NagSuppressions.addResourceSuppressions(
        role,
        [
          {
            id: "AwsSolutions-IAM5",
            reason:
              "IoT topics are confined to the caller's own identity id by the " +
              "${cognito-identity.amazonaws.com:sub} policy variable; the wildcard is below it.",
            appliesTo: [{ regex: "/^Resource::arn:<AWS::Partition>:iot:.*$/" }],
          },
        ],
        true,
      );
      return [name, role];
    }),
  ) as Record<AppRole, Role>;

  for (const [name, { group, precedence }] of Object.entries(APP_ROLES)) {
    new CfnUserPoolGroup(stack, `Group${group}`, {
      userPoolId: userPool.userPoolId,
      groupName: group,
      description: `Users with the ${name} app role`,
      precedence,
      roleArn: appRoles[name as AppRole].roleArn,
    });
  }

  const providerKey = Fn.join(":", [providerName, userPoolClient.userPoolClientId]);
  new CfnIdentityPoolRoleAttachment(stack, "IdentityPoolRoles", {
    identityPoolId: identityPool.ref,
    roles: {
      authenticated: appRoles.member.roleArn,
      unauthenticated: guestRole.roleArn,
    },
    roleMappings: {
      userPool: {
        identityProvider: providerKey,
        type: "Token",
        // No preferred role and several roles is a configuration error, never a silent default.
        ambiguousRoleResolution: "Deny",
      },
    },
  });

  stack.addOutputs({
    Region: stack.region,
    UserPoolId: userPool.userPoolId,
    UserPoolClientId: userPoolClient.userPoolClientId,
    IdentityPoolId: identityPool.ref,
  });

  return { userPool, userPoolClient, identityPool, guestRole, appRoles };
}

/**
 * IAM half of IoT authorization (the IoT policy attached to the identity is the other half):
 * connect only as one's own identity id, publish and subscribe only under one's own topics.
 */
function iotStatementForOwnIdentity(stack: Stack): PolicyStatement {
  const iotArn = (resource: string) =>
    `arn:${stack.partition}:iot:${stack.region}:${stack.account}:${resource}`;
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: ["iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"],
    resources: [
      iotArn(`client/${IDENTITY_ID_VARIABLE}`),
      iotArn(`topic/${IOT_TOPIC_ROOT}/${IDENTITY_ID_VARIABLE}/*`),
      iotArn(`topicfilter/${IOT_TOPIC_ROOT}/${IDENTITY_ID_VARIABLE}/*`),
    ],
  });
}
