/**
 * IoT's policy rules as the broker applies them, on the real IoT control plane (policies created
 * and attached through its REST handler) and the real STS records: MQTT wildcards are literal in
 * resources, `*` and `?` are wildcards, policy variables, reserved topics, both policies required
 * for a signed-in identity, the role alone for a guest.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../src/cloud/contracts";
import { createIotService, type IotService } from "../../src/services/iot/index";
import { createIotAuthorizer, type IotAction } from "../../src/services/iot-data/authorizer";
import { isGuestRole, resolvePrincipal } from "../../src/services/iot-data/principal";
import { createStsService, type StsService } from "../../src/services/sts/index";
import {
  APP_GUEST_ROLE_POLICY,
  APP_IOT_POLICY,
  APP_ROLE_IOT_POLICY,
  identityId,
  iotArn,
  ownTopic,
  REGION,
  role,
  TestIamDirectory,
} from "./fixtures";

let iot: IotService;
let sts: StsService;
const iam = new TestIamDirectory();
const authorizer = () => createIotAuthorizer({ region: REGION, accountId: "000000000000", iot });

/** Allows every IoT data action on every resource: isolates the IoT policy under test. */
const OPEN_ROLE: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "iot:*", Resource: "*" }],
};
const openRole = iam.put(role("open", "authenticated", [OPEN_ROLE]));
const memberRole = iam.put(role("member", "authenticated", [APP_ROLE_IOT_POLICY]));
const openGuestRole = iam.put(role("open-guest", "unauthenticated", [OPEN_ROLE]));
const appGuestRole = iam.put(role("app-guest", "unauthenticated", [APP_GUEST_ROLE_POLICY]));

beforeAll(() => {
  iot = createIotService({ region: REGION });
  sts = createStsService({ region: REGION });
});

afterAll(async () => {
  await iot.close();
  await sts.close();
});

let policyCounter = 0;

/** CreatePolicy and AttachPolicy through the control plane's REST handler. */
async function attach(target: string, document: PolicyDocument): Promise<void> {
  const name = `p${++policyCounter}`;
  const call = async (method: string, path: string, body: unknown) => {
    const response = await iot.handle({
      method,
      path,
      query: new URLSearchParams(),
      headers: { "content-type": "application/json" },
      body: Buffer.from(JSON.stringify(body)),
      requestId: `req-${policyCounter}`,
      region: REGION,
    });
    expect(response.status, String(response.body)).toBe(200);
  };
  await call("POST", `/policies/${name}`, { policyDocument: JSON.stringify(document) });
  await call("PUT", `/target-policies/${name}`, { target });
}

function principal(id: string, roleArn: string) {
  const credentials = sts.issueCredentials({
    roleArn,
    sessionName: "CognitoIdentityCredentials",
    subject: id,
    identityId: id,
    durationSeconds: 3600,
  });
  return resolvePrincipal(credentials, iam, undefined);
}

function allows(document: PolicyDocument, checks: Array<[IotAction, string, boolean]>) {
  return async () => {
    const id = identityId();
    await attach(id, document);
    const who = principal(id, openRole.arn);
    const got = checks.map(([action, name]) => [
      action,
      name,
      authorizer().authorize(who, "client-1", action, name).allowed,
    ]);
    expect(got).toEqual(checks);
  };
}

const statement = (action: string, resource: string) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow" as const, Action: action, Resource: iotArn(resource) }],
});

describe("IoT policy resources", () => {
  it(
    "treats + and # as literal characters",
    allows(statement("iot:Subscribe", "topicfilter/sensors/+/temp"), [
      ["iot:Subscribe", "sensors/+/temp", true],
      ["iot:Subscribe", "sensors/kitchen/temp", false],
      ["iot:Subscribe", "sensors/#", false],
    ]),
  );

  it(
    "treats * as any characters (slashes included) and ? as one",
    allows(
      {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "iot:Publish", Resource: iotArn("topic/sensors/*") },
          { Effect: "Allow", Action: "iot:Receive", Resource: iotArn("topic/room-?/light") },
        ],
      },
      [
        ["iot:Publish", "sensors/kitchen/temp", true],
        ["iot:Publish", "sensorsX", false],
        ["iot:Receive", "room-1/light", true],
        ["iot:Receive", "room-12/light", false],
      ],
    ),
  );

  it(
    "substitutes ${iot:ClientId} and leaves ${iot:Connection.Thing.ThingName} unresolved",
    allows(
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "iot:Publish",
            Resource: [
              iotArn("topic/clients/${iot:ClientId}/*"),
              iotArn("topic/things/${iot:Connection.Thing.ThingName}/x"),
            ],
          },
        ],
      },
      [
        ["iot:Publish", "clients/client-1/status", true],
        ["iot:Publish", "clients/client-2/status", false],
        ["iot:Publish", "things//x", false],
        ["iot:Publish", "things/client-1/x", false],
      ],
    ),
  );

  it("keeps reserved $aws/ topics out unless a policy names them", async () => {
    const id = identityId();
    await attach(id, statement("iot:Publish", "topic/app/*"));
    const who = principal(id, openRole.arn);
    const shadow = "$aws/things/client-1/shadow/update";
    expect(authorizer().authorize(who, "client-1", "iot:Publish", shadow).allowed).toBe(false);
    await attach(id, statement("iot:Publish", "topic/$aws/things/${iot:ClientId}/shadow/*"));
    expect(authorizer().authorize(who, "client-1", "iot:Publish", shadow).allowed).toBe(true);
    expect(
      authorizer().authorize(who, "client-1", "iot:Publish", "$aws/things/other/shadow/update")
        .allowed,
    ).toBe(false);
  });

  it("lets an explicit Deny in an IoT policy win over an Allow", async () => {
    const id = identityId();
    await attach(id, statement("iot:Publish", "topic/*"));
    await attach(id, {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "iot:Publish", Resource: iotArn("topic/secret/*") }],
    });
    const who = principal(id, openRole.arn);
    expect(authorizer().authorize(who, "c", "iot:Publish", "public/a").allowed).toBe(true);
    expect(authorizer().authorize(who, "c", "iot:Publish", "secret/a")).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("ExplicitlyDenied"),
    });
  });
});

describe("both policies for a signed-in identity, the role alone for a guest", () => {
  it("needs the role's IAM policy as well as the IoT policy", async () => {
    const id = identityId();
    await attach(id, statement("iot:Publish", "topic/*"));
    const member = principal(id, memberRole.arn);
    // The IoT policy allows any topic; the app role only the identity's own.
    expect(authorizer().authorize(member, id, "iot:Publish", ownTopic(id)).allowed).toBe(true);
    expect(authorizer().authorize(member, id, "iot:Publish", "elsewhere/a")).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("role's policies"),
    });
  });

  it("gives the app's policies their intended meaning: own client id and topics only", async () => {
    const id = identityId();
    const other = identityId();
    await attach(id, APP_IOT_POLICY);
    const member = principal(id, memberRole.arn);
    const decide = (action: IotAction, name: string) =>
      authorizer().authorize(member, id, action, name).allowed;
    expect(decide("iot:Connect", id)).toBe(true);
    expect(decide("iot:Connect", other)).toBe(false);
    expect(decide("iot:Subscribe", `boardingpass/identities/${id}/#`)).toBe(true);
    expect(decide("iot:Subscribe", `boardingpass/identities/${other}/#`)).toBe(false);
    expect(decide("iot:Receive", ownTopic(other))).toBe(false);
  });

  it("authorizes a guest by its role alone and ignores IoT policies", async () => {
    const id = identityId();
    const guest = principal(id, openGuestRole.arn);
    expect(guest.guest).toBe(true);
    expect(authorizer().authorize(guest, id, "iot:Connect", id).allowed).toBe(true);
    const appGuest = principal(identityId(), appGuestRole.arn);
    await attach(appGuest.identityId!, statement("iot:*", "*"));
    expect(authorizer().authorize(appGuest, "c", "iot:Connect", "c").allowed).toBe(false);
  });

  it("evaluates conditions on the session's aud and amr, as issued", async () => {
    const pool = "us-east-1:11111111-2222-3333-4444-555555555555";
    const onlyThisPool = iam.put(
      role("pool-bound", "authenticated", [
        {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "iot:Connect",
              Resource: "*",
              Condition: {
                StringEquals: { "cognito-identity.amazonaws.com:aud": pool },
                "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
              },
            },
          ],
        },
      ]),
    );
    const session = async (identityPoolId: string, amr: string[]) => {
      const id = identityId();
      await attach(id, statement("iot:Connect", "client/*"));
      const credentials = sts.issueCredentials({
        roleArn: onlyThisPool.arn,
        sessionName: "CognitoIdentityCredentials",
        subject: id,
        identityId: id,
        cognitoIdentity: { identityPoolId, amr },
        durationSeconds: 3600,
      });
      return resolvePrincipal(credentials, iam, undefined);
    };
    const decide = async (identityPoolId: string, amr: string[]) => {
      const who = await session(identityPoolId, amr);
      return authorizer().authorize(who, who.identityId!, "iot:Connect", who.identityId!);
    };
    expect(await decide(pool, ["authenticated", "cognito-idp"])).toEqual({ allowed: true });
    expect(await decide("us-east-1:another", ["authenticated"])).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("role's policies"),
    });
  });

  it("allows nothing to a role missing from the IAM directory", () => {
    const who = principal(identityId(), "arn:aws:iam::000000000000:role/unknown");
    expect(authorizer().authorize(who, "c", "iot:Connect", "c")).toMatchObject({
      allowed: false,
      reason: expect.stringContaining("not in the IAM directory"),
    });
  });
});

describe("who is a guest", () => {
  it("reads the role's amr condition when the identity pool is not at hand", () => {
    expect(isGuestRole(openGuestRole)).toBe(true);
    expect(isGuestRole(memberRole)).toBe(false);
    const both = role("both", "authenticated", []);
    both.trustPolicy = {
      Version: "2012-10-17",
      Statement: [
        ...(openGuestRole.trustPolicy.Statement as never[]),
        ...(memberRole.trustPolicy.Statement as never[]),
      ],
    };
    expect(isGuestRole(both)).toBe(false);
  });

  it("asks the identity pool first: an identity without logins is a guest", () => {
    const id = identityId();
    const credentials = sts.issueCredentials({
      roleArn: memberRole.arn,
      sessionName: "CognitoIdentityCredentials",
      subject: id,
      identityId: id,
      durationSeconds: 3600,
    });
    const lookup = (logins: string[]) => ({
      identity: (asked: string) => (asked === id ? { logins } : undefined),
    });
    expect(resolvePrincipal(credentials, iam, lookup([])).guest).toBe(true);
    expect(resolvePrincipal(credentials, iam, lookup(["cognito-idp"])).guest).toBe(false);
  });

  it("takes the amr the credentials were issued with over the identity as it is now", () => {
    const id = identityId();
    const issue = (amr: string[]) =>
      sts.issueCredentials({
        roleArn: memberRole.arn,
        sessionName: "CognitoIdentityCredentials",
        subject: id,
        identityId: id,
        cognitoIdentity: { identityPoolId: "us-east-1:pool", amr },
        durationSeconds: 3600,
      });
    // The guest has signed in since: the pool now lists a login, the old session is still a guest's.
    const signedInSince = { identity: () => ({ logins: ["cognito-idp"] }) };
    expect(resolvePrincipal(issue(["unauthenticated"]), iam, signedInSince).guest).toBe(true);
    const guestNow = { identity: () => ({ logins: [] }) };
    expect(
      resolvePrincipal(
        issue(["authenticated", "cognito-idp.us-east-1.amazonaws.com/p"]),
        iam,
        guestNow,
      ).guest,
    ).toBe(false);
  });
});
