import { functionEnvironment } from "@boarding-pass/contracts/env";
import { ROUTE_KEYS } from "@boarding-pass/contracts/routes";
import { RemovalPolicy } from "aws-cdk-lib";
import { CfnRoute, type CfnStage, type IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import { NagSuppressions } from "cdk-nag";
import type { IConstruct, Node } from "constructs";
import { Api as HttpApi, type StackContext, use } from "sst/constructs";
import { Auth } from "./Auth";
import { type StageConfig, stageConfig, type ThrottleLimits } from "./config";
import { Data } from "./Data";
import { Events } from "./Events";
import { Iot } from "./Iot";
import { grantTableAccess } from "./table-access";

/**
 * Route keys, shared by the API definition, the role policies that may invoke them and the
 * handlers and client that speak them (packages/contracts/routes.ts).
 */
const ROUTES = ROUTE_KEYS;

/**
 * The HTTP API apps call. Identity routes use IAM authorization: the caller is the identity-pool
 * identity whose credentials signed the request, never something the body claims. Profile routes
 * use the user pool's JWT authorizer.
 */
export function Api({ stack, app }: StackContext) {
  const config = stageConfig(app.stage);
  const { table } = use(Data);
  const { topic, stream, eventsEnvironment } = use(Events);
  const { userPool, userPoolClient, identityPool, guestRole, appRoles } = use(Auth);
  const { iotPolicyName } = use(Iot);

  // Signs guest proofs: a guest's evidence, before sign-in, that it holds its identity id. The
  // identity pool's own GetOpenIdToken is refused with classic flow off (ADR 0006).
  const guestProofKey = new Key(stack, "GuestProofKey", {
    description: "Signs guest-identity proofs for the guest-to-user link and merge",
    keySpec: KeySpec.RSA_2048,
    keyUsage: KeyUsage.SIGN_VERIFY,
    // Proofs live ten minutes: losing the key invalidates only proofs in flight.
    removalPolicy: RemovalPolicy.DESTROY,
  });

  const deletionEnvironment = {
    ...eventsEnvironment,
    IOT_POLICY_NAME: iotPolicyName,
    USER_POOL_ID: userPool.userPoolId,
  };

  const api = new HttpApi(stack, "Api", {
    authorizers: {
      userPool: {
        type: "user_pool",
        userPool: { id: userPool.userPoolId, clientIds: [userPoolClient.userPoolClientId] },
      },
    },
    defaults: {
      authorizer: "iam",
      function: {
        // Every route's; each route adds its own below (packages/contracts/env.ts lists them).
        environment: functionEnvironment("preferences", {
          TABLE_NAME: table.tableName,
          IDENTITY_POOL_ID: identityPool.ref,
        }),
      },
    },
    routes: {
      [ROUTES.issueGuestProof]: {
        function: {
          handler: "packages/functions/src/api/issue-guest-proof.handler",
          description: "Signs a short-lived proof that the calling guest holds its identity",
          environment: functionEnvironment("issueGuestProof", {
            GUEST_PROOF_KEY_ID: guestProofKey.keyId,
          }),
        },
      },
      [ROUTES.linkIdentity]: {
        function: {
          handler: "packages/functions/src/api/link-identity.handler",
          description: "Links or merges a guest identity into the caller's identity",
          environment: functionEnvironment("linkIdentity", {
            ...eventsEnvironment,
            IOT_POLICY_NAME: iotPolicyName,
            GUEST_PROOF_KEY_ID: guestProofKey.keyId,
          }),
        },
      },
      [ROUTES.ensureIot]: {
        function: {
          handler: "packages/functions/src/api/ensure-iot.handler",
          description: "Attaches the per-identity IoT policy to the caller's identity",
          environment: functionEnvironment("ensureIot", { IOT_POLICY_NAME: iotPolicyName }),
        },
      },
      [ROUTES.getPreferences]: "packages/functions/src/api/preferences.handler",
      [ROUTES.putPreferences]: "packages/functions/src/api/preferences.handler",
      [ROUTES.adminGetUser]: {
        function: {
          handler: "packages/functions/src/api/admin-get-user.handler",
          environment: functionEnvironment("adminGetUser", {
            ADMIN_ROLE_ARN: appRoles.admin.roleArn,
          }),
        },
      },
      // Account deletion (ADR 0007): the backend owns it, Cognito has no deletion trigger.
      [ROUTES.deleteMe]: {
        authorizer: "userPool",
        function: {
          handler: "packages/functions/src/api/delete-me.handler",
          description: "Deletes the caller's own account (access token): identities, user, profile",
          environment: functionEnvironment("deleteMe", {
            ...deletionEnvironment,
            RECENT_SESSION_MAX_AGE_SECONDS: String(config.recentSessionMaxAgeSeconds),
          }),
        },
      },
      [ROUTES.adminDeleteUser]: {
        function: {
          handler: "packages/functions/src/api/admin-delete-user.handler",
          description: "Deletes a user's account on an admin's request",
          // The handler checks the caller's assumed role is this one, whatever IAM allowed.
          environment: functionEnvironment("adminDeleteUser", {
            ...deletionEnvironment,
            ADMIN_ROLE_ARN: appRoles.admin.roleArn,
          }),
        },
      },
      [ROUTES.getProfile]: {
        authorizer: "userPool",
        function: "packages/functions/src/api/get-profile.handler",
      },
    },
  });

  throttle(api, config.apiThrottling);

  // Least privilege per route: each function gets only the table access stacks/table-access.ts
  // declares for it (key prefixes, attributes; ADR 0010).
  const fn = (route: string) => api.getFunction(route)!;
  for (const name of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
    grantTableAccess(table, fn(ROUTES[name]), name);
  }
  guestProofKey.grant(fn(ROUTES.issueGuestProof), "kms:Sign");
  guestProofKey.grant(fn(ROUTES.linkIdentity), "kms:GetPublicKey");
  topic.cdk.topic.grantPublish(fn(ROUTES.linkIdentity));
  stream.cdk.stream.grantWrite(fn(ROUTES.linkIdentity));
  // AttachPolicy to a Cognito identity cannot be scoped by resource: AWS evaluates it against
  // `*`. Only these two server-side functions hold it; no app role does.
  const iotAttach = new Policy(stack, "IotPolicyAttachment", {
    roles: [fn(ROUTES.linkIdentity).role!, fn(ROUTES.ensureIot).role!],
    statements: [
      new PolicyStatement({
        actions: ["iot:AttachPolicy", "iot:DetachPolicy", "iot:ListAttachedPolicies"],
        resources: ["*"],
      }),
    ],
  });
  // Who is still a guest is the identity pool's to say (ADR 0006): the proof issuer and the merge
  // ask DescribeIdentity. It has no resource type ("Actions, resources, and condition keys for
  // Amazon Cognito Identity"), so the statement names `*` and is held to this pool by the
  // `cognito-identity:IdentityPoolArn` condition key.
  const identityPoolArn = stack.formatArn({
    service: "cognito-identity",
    resource: "identitypool",
    resourceName: identityPool.ref,
  });
  const describeIdentity = new Policy(stack, "IdentityPoolDescribe", {
    roles: [fn(ROUTES.issueGuestProof).role!, fn(ROUTES.linkIdentity).role!],
    statements: [
      new PolicyStatement({
        actions: ["cognito-identity:DescribeIdentity"],
        resources: ["*"],
        conditions: { ArnEquals: { "cognito-identity:IdentityPoolArn": identityPoolArn } },
      }),
    ],
  });
  NagSuppressions.addResourceSuppressions(describeIdentity, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "cognito-identity:DescribeIdentity has no resource type; the statement is limited to this " +
        "identity pool by the cognito-identity:IdentityPoolArn condition key.",
      appliesTo: ["Resource::*"],
    },
  ]);
  // Account deletion: the table (as stacks/table-access.ts declares), events,
  // the user pool's ListUsers (find the account by sub) and AdminDeleteUser on this pool only,
  // and DetachPolicy, never AttachPolicy.
  const deleters = [fn(ROUTES.deleteMe), fn(ROUTES.adminDeleteUser)];
  for (const deleter of deleters) {
    topic.cdk.topic.grantPublish(deleter);
    stream.cdk.stream.grantWrite(deleter);
    deleter.addToRolePolicy(
      new PolicyStatement({
        actions: ["cognito-idp:AdminDeleteUser", "cognito-idp:ListUsers"],
        resources: [userPool.userPoolArn],
      }),
    );
  }
  const iotDetach = new Policy(stack, "IotPolicyDetachment", {
    roles: deleters.map((deleter) => deleter.role!),
    statements: [new PolicyStatement({ actions: ["iot:DetachPolicy"], resources: ["*"] })],
  });
  NagSuppressions.addResourceSuppressions(iotDetach, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "iot:DetachPolicy with a Cognito identity id as target has no resource-level scoping; " +
        "held only by the two account-deletion functions, which detach and never attach.",
      appliesTo: ["Resource::*"],
    },
  ]);
  NagSuppressions.addResourceSuppressions(iotAttach, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "iot:AttachPolicy with a Cognito identity id as target has no resource-level scoping; " +
        "held only by the two server-side functions that attach the per-identity policy.",
      appliesTo: ["Resource::*"],
    },
  ]);

  // Which identity-pool role may invoke which route. Attached here, not in Auth, because the
  // route ARNs need the API and the API needs the user pool.
  const invoke = (...routes: string[]) =>
    new PolicyStatement({
      actions: ["execute-api:Invoke"],
      resources: routes.map((route) => {
        const [method, path] = route.split(" ") as [string, string];
        return api.cdk.httpApi.arnForExecuteApi(method, path.replace(/\{[^}]+\}/g, "*"));
      }),
    });
  const guestRoutes = [ROUTES.issueGuestProof, ROUTES.getPreferences, ROUTES.putPreferences];
  const memberRoutes = [...guestRoutes, ROUTES.linkIdentity, ROUTES.ensureIot];
  const apiAccess = [
    new Policy(stack, "GuestApiAccess", {
      roles: [guestRole],
      statements: [invoke(...guestRoutes)],
    }),
    new Policy(stack, "MemberApiAccess", {
      roles: [appRoles.member],
      statements: [invoke(...memberRoutes)],
    }),
    new Policy(stack, "AdminApiAccess", {
      roles: [appRoles.admin],
      statements: [invoke(...memberRoutes, ROUTES.adminGetUser, ROUTES.adminDeleteUser)],
    }),
  ];
  for (const policy of apiAccess) {
    NagSuppressions.addResourceSuppressions(policy, [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Each statement names one method and path of this API; the wildcard is the API stage " +
          "(and a path parameter), not other APIs or routes.",
        appliesTo: [{ regex: "/^Resource::arn:<AWS::Partition>:execute-api:.*$/" }],
      },
    ]);
  }

  stack.addOutputs({ ApiUrl: api.url });
  return { api };
}

/**
 * Stage and route throttling (API Gateway's token bucket, "Throttling requests to your HTTP API"):
 * the stage default for every route, and tighter limits on the routes anyone can call as a guest.
 * A stage's RouteSettings must name routes that already exist, so the stage waits for them.
 */
function throttle(
  api: { cdk: { httpApi: IHttpApi & { defaultStage?: IConstruct } }; node: Node },
  limits: StageConfig["apiThrottling"],
) {
  const settings = (limit: ThrottleLimits) => ({
    ThrottlingRateLimit: limit.rateLimit,
    ThrottlingBurstLimit: limit.burstLimit,
  });
  const perRoute: Record<string, ThrottleLimits> = {
    [ROUTES.issueGuestProof]: limits.guestProof,
    [ROUTES.getPreferences]: limits.guestData,
    [ROUTES.putPreferences]: limits.guestData,
  };
  const stage = api.cdk.httpApi.defaultStage!.node.defaultChild as CfnStage;
  stage.defaultRouteSettings = {
    throttlingRateLimit: limits.stage.rateLimit,
    throttlingBurstLimit: limits.stage.burstLimit,
  };
  stage.routeSettings = Object.fromEntries(
    Object.entries(perRoute).map(([routeKey, limit]) => [routeKey, settings(limit)]),
  );
  for (const child of api.node.findAll()) {
    if (child instanceof CfnRoute && Object.hasOwn(perRoute, child.routeKey)) {
      stage.addDependency(child);
    }
  }
}
