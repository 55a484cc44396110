/**
 * The whole journey against the local cloud booted from the real stacks (`startLocalCloud`), with
 * unmodified clients: Amplify v6, amazon-cognito-identity-js, AWS SDK v3, aws-jwt-verify, mqtt and
 * packages/client. The steps are the demo's (packages/testing/src/journey.ts); here each one is
 * asserted.
 */
import { SIGN_UP_DENIED_MESSAGE } from "@boarding-pass/core/sign-up";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import {
  BOOT_TIMEOUT_MS,
  bootCloud,
  journeyOn,
  STEP_TIMEOUT_MS,
} from "@boarding-pass/testing/cloud";
import type { Journey } from "@boarding-pass/testing/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let cloud: LocalCloud;
let journey: Journey;

describe("the local cloud, booted from the stacks, through the whole journey", () => {
  beforeAll(async () => {
    cloud = await bootCloud();
    journey = journeyOn(cloud);
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await journey?.close();
    await cloud?.stop();
  }, STEP_TIMEOUT_MS);

  const roleArn = (role: string) =>
    `arn:aws:iam::${cloud.plan.accountId}:role/${cloud.plan.stage}-boarding-pass-${role}-${cloud.region}`;
  const roleName = (role: string) => `${cloud.plan.stage}-boarding-pass-${role}-${cloud.region}`;

  it("outputs what a deploy prints, with local ids and URLs", () => {
    expect(cloud.output("UserPoolId")).toMatch(/^us-east-1_[A-Za-z0-9]{9}$/);
    expect(cloud.output("IdentityPoolId")).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    expect(cloud.output("ApiUrl")).toBe(Object.values(cloud.apiUrls)[0]);
    expect(cloud.mqttUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  });

  it("is synthesized for the local account: the ARNs CDK writes name it, no other", () => {
    const account = cloud.plan.accountId;
    expect(cloud.assembly.account).toBe(account);
    const templates = JSON.stringify(cloud.assembly.stacks.map((stack) => stack.template));
    // CDK writes the account as a literal in ARN pieces (`:iam::<account>:role/...` of the role
    // catalog, IoT policy resources) and asset bucket names.
    expect(templates).toContain(`:iam::${account}:role/${roleName("member")}`);
    const accounts =
      templates.match(/(?<=(?:::|:[a-z]{2}-[a-z]+-\d:|-assets-))\d{12}(?=[:-])/g) ?? [];
    expect(accounts.length).toBeGreaterThan(0);
    expect(new Set(accounts)).toEqual(new Set([account]));
  });

  it(
    "warms each HTTP API route's function in the background after ready: init only, no call",
    async () => {
      // Ready did not wait for it; bounded by the step timeout.
      await cloud.routesWarmed;
      const routeArns = new Set(
        cloud.provisioned.httpApis.flatMap((api) => api.routes.map((route) => route.functionArn)),
      );
      const routeFunctions = cloud.runtime.functions().filter((fn) => routeArns.has(fn.arn));
      expect(routeFunctions.map((fn) => fn.arn).sort()).toEqual([...routeArns].sort());
      for (const fn of routeFunctions) {
        expect({ fn: fn.name, warm: cloud.runtime.warmEnvironments(fn.arn) }).toEqual({
          fn: fn.name,
          warm: 1,
        });
      }
      // The warm-up ran the modules' init, never a handler with a made-up event (which could
      // write): no route function has been invoked yet.
      const names = new Set(routeFunctions.map((fn) => fn.name));
      expect(cloud.runtime.invocations().filter((call) => names.has(call.functionName))).toEqual(
        [],
      );
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "gives a guest an identity and credentials for the guest role (Amplify)",
    async () => {
      const guest = await journey.guestIdentity();
      expect(guest.identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
      expect(guest.signedIn).toBe(false);
      expect(guest.role).toBe(roleName("guest"));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "lets the guest store its data with SigV4-signed guest credentials",
    async () => {
      const data = await journey.guestData();
      expect(data.status).toBe(200);
      expect(data.preferences).toEqual({ theme: "dark" });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "issues the guest a proof before sign-in",
    async () => {
      await journey.guestProof();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "refuses a sign-up from a denied domain with the policy's message",
    async () => {
      const denied = await journey.signUpDenied();
      // Cognito appends its own period to the trigger's message, as AWS does.
      expect(denied.message).toBe(`PreSignUp failed with error ${SIGN_UP_DENIED_MESSAGE}.`);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "accepts a sign-up from an allowed domain and asks for the emailed code",
    async () => {
      const signedUp = await journey.signUpAllowed();
      expect(signedUp.sub).toMatch(/^[0-9a-f-]{36}$/);
      expect(signedUp.nextStep).toBe("CONFIRM_SIGN_UP");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "confirms with the code from the pool's outbox and creates the profile in DynamoDB",
    async () => {
      const confirmed = await journey.confirm();
      expect(confirmed.complete).toBe(true);
      expect(confirmed.profile).toMatchObject({
        sub: journey.member.sub,
        tenant: "default",
        plan: "free",
        roles: ["member"],
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "delivers user.confirmed to the welcome consumer (SNS → SQS) and the audit consumer (Kinesis)",
    async () => {
      const events = await journey.confirmationEvents();
      const functionOf = (handler: string) =>
        cloud.provisioned.functions.find((fn) => fn.handler.endsWith(handler))?.name;
      expect(events.welcome.functionName).toBe(functionOf("consumers/welcome.handler"));
      expect(events.welcome.ok).toBe(true);
      expect(events.welcome.event).toContain("boardingpass.user.confirmed.v1");
      expect(events.audit.functionName).toBe(functionOf("consumers/audit.handler"));
      expect(events.audit.ok).toBe(true);
      expect(events.audit.event).toContain(`"partitionKey":"${journey.member.sub}"`);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "signs in with SRP through amazon-cognito-identity-js, with the injected claims",
    async () => {
      const signedIn = await journey.srpSignInWithCognitoIdentityJs();
      expect(signedIn.claims).toMatchObject({
        sub: journey.member.sub,
        email: journey.member.email,
        token_use: "id",
        tenant: "default",
        plan: "free",
        app_roles: "member",
        "cognito:groups": ["member"],
        "cognito:roles": [roleArn("member")],
        "cognito:preferred_role": roleArn("member"),
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "traces the sign-in's pre token trigger: its segment and the profile read (X-Ray)",
    async () => {
      const traced = await journey.signInTrace();
      const preToken = cloud.provisioned.functions.find((fn) =>
        fn.handler.endsWith("pre-token-generation.handler"),
      )?.name;
      expect(traced.functionName).toBe(preToken);
      expect(traced.calls).toContainEqual(
        expect.objectContaining({ name: "DynamoDB", operation: "GetItem" }),
      );
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "signs in with SRP through Amplify and gets the profile's role for the guest's identity",
    async () => {
      const signedIn = await journey.srpSignInWithAmplify();
      expect(signedIn.sameIdentityAsGuest).toBe(true);
      expect(signedIn.claims).toMatchObject({ app_roles: "member", tenant: "default" });
      expect(signedIn.role).toBe(roleName("member"));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "links the guest through POST /identity/link with the guest proof",
    async () => {
      const { report } = await journey.linkGuest();
      expect(report).toMatchObject({
        outcome: "linked",
        identityId: journey.guestIdentityId,
        guestIdentityId: journey.guestIdentityId,
        change: "unchanged",
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "merges a second device's guest into the user's identity, data included",
    async () => {
      const merged = await journey.mergeSecondDevice();
      expect(merged.identityId).toBe(journey.member.identityId);
      expect(merged.guestIdentityId).not.toBe(journey.member.identityId);
      expect(merged.report).toMatchObject({
        outcome: "merged",
        identityId: journey.member.identityId,
        guestIdentityId: merged.guestIdentityId,
        change: "changed",
      });
      expect(merged.preferences).toEqual({ theme: "dark", lang: "fr" });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "attaches the per-identity IoT policy through POST /identity/iot",
    async () => {
      await journey.attachIot();
      const attached = cloud.aws
        .iot!.attachedPolicies(journey.member.identityId)
        .map((p) => p.policyName);
      expect(attached).toContain(cloud.output("IotPolicyName"));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "allows MQTT publish on the identity's own topic and refuses another identity's",
    async () => {
      const mqtt = await journey.mqttPublish();
      expect(mqtt.echo).toBe(JSON.stringify({ battery: 87 }));
      expect(mqtt.disconnected).toBe(true);
      const accepted = cloud.broker.messages().map((message) => message.topic);
      expect(accepted).toContain(mqtt.ownTopic);
      expect(accepted).not.toContain(mqtt.othersTopic);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "serves GET /profile behind the user pool's JWT authorizer",
    async () => {
      const profile = await journey.profileRoute();
      expect(profile.withoutToken).toBe(401);
      expect(profile.status).toBe(200);
      expect(profile.profile).toMatchObject({ sub: journey.member.sub, roles: ["member"] });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "gives an operator the admin role once an administrator adds them to the admin group",
    async () => {
      const admin = await journey.adminSignIn();
      expect(admin.before.claims["cognito:preferred_role"]).toBe(roleArn("member"));
      expect(admin.before.role).toBe(roleName("member"));
      // The group is admin-managed: the trigger grants the catalog role of the same name.
      expect(admin.claims).toMatchObject({
        app_roles: "admin member",
        "cognito:groups": expect.arrayContaining(["admin", "member"]),
        "cognito:preferred_role": roleArn("admin"),
      });
      expect(admin.role).toBe(roleName("admin"));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "lets the admin read GET /admin/users/{sub} and refuses the member with 403",
    async () => {
      const answers = await journey.adminRoute();
      expect(answers.adminStatus).toBe(200);
      expect(answers.adminBody).toMatchObject({ sub: journey.member.sub });
      expect(answers.memberStatus).toBe(403);
      expect(answers.memberBody).toEqual({ message: "Forbidden" });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "deletes the traveller's account through the client: IoT policy detached, user gone, retry harmless",
    async () => {
      const deletion = await journey.deleteAccount();
      expect(deletion.deleted).toMatchObject({ sub: journey.member.sub, outcome: "deleted" });
      expect(deletion.deleted.released.map((r) => r.identityId)).toContain(
        journey.member.identityId,
      );
      expect(deletion.attachedPolicies).toEqual([]);
      expect(deletion.inPool).toBe(false);
      // The admin view keeps the released identity records (no personal data), not the profile.
      expect(deletion.adminStatus).toBe(200);
      expect(deletion.adminBody.profile).toBeNull();
      expect(deletion.retried.outcome).toBe("already-deleted");
    },
    STEP_TIMEOUT_MS,
  );
});
