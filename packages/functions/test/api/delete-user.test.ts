/**
 * Account deletion through the real route handlers (ADR 0007), against the local plane: a user in
 * the local user pool (signed in for a real access token), an identity linked and holding the IoT
 * policy through `POST /identity/iot`, preferences and an email claim in the table. Deleting must
 * detach the policy, delete the Cognito user, erase the personal items, leave a deletion record
 * and publish `boardingpass.user.deleted.v1` once, whatever fails and is retried.
 */
import { randomUUID } from "node:crypto";
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  CognitoLiveSessions,
  CognitoUserAccounts,
} from "@boarding-pass/core/adapters/cognito-user-pool";
import {
  DynamoIdentityGraph,
  DynamoProfileStore,
  DynamoUserDeletionStore,
  emailUniquenessKey,
} from "@boarding-pass/core/adapters/dynamodb";
import { eventId } from "@boarding-pass/core/events";
import type {
  DeleteUserDeps,
  RecentSessionPolicy,
  UserAccounts,
} from "@boarding-pass/core/identity";
import { canonicalizeEmail } from "@boarding-pass/core/sign-up";
import {
  type CognitoIdpService,
  createCognitoIdpService,
} from "@boarding-pass/local/services/cognito-idp";
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAdminDeleteUserHandler,
  createDeleteMeHandler,
} from "../../src/api/handlers/delete-user";
import { createEnsureIotHandler } from "../../src/api/handlers/ensure-iot";
import { createLinkIdentityHandler } from "../../src/api/handlers/link-identity";
import { createPreferencesHandler } from "../../src/api/handlers/preferences";
import { attachedPolicies, signUpConfirmed } from "../support/user-pool";
import {
  ADMIN_ROLE_ARN,
  bodyOf,
  type Caller,
  iamEvent,
  MEMBER_ROLE_ARN,
  mintOpenIdToken,
  newIdentityId,
  type Plane,
  REGION,
  signedWithRole,
  startPlane,
} from "./harness";

const PASSWORD = "Corr3ct-Horse-Battery!";
const USER_DELETED = "boardingpass.user.deleted.v1";

let plane: Plane;
let idp: CognitoIdpService;
let cognito: CognitoIdentityProviderClient;
let userPoolId: string;
let clientId: string;

beforeAll(async () => {
  plane = await startPlane();
  idp = createCognitoIdpService({ region: REGION, endpoint: () => plane.endpoint, log: () => {} });
  plane.aws.register(idp);
  userPoolId = idp.createUserPool({
    UserPoolName: "deletion",
    UsernameAttributes: ["email"],
    UsernameConfiguration: { CaseSensitive: false },
    AutoVerifiedAttributes: ["email"],
  }).Id;
  clientId = idp.createUserPoolClient(userPoolId, {
    ClientName: "app",
    ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    ReadAttributes: ["email"],
    WriteAttributes: ["email"],
  }).ClientId;
  cognito = new CognitoIdentityProviderClient({
    endpoint: plane.endpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
}, 60_000);

afterAll(async () => {
  cognito?.destroy();
  await plane?.stop();
});

type RouteDeps = DeleteUserDeps & { session: RecentSessionPolicy; adminRoleArn: string };

function deleteDeps(overrides: Partial<RouteDeps> = {}): RouteDeps {
  const link = plane.deps();
  return {
    session: {
      sessions: new CognitoLiveSessions(cognito),
      maxAgeSeconds: 900,
      now: () => new Date(),
    },
    adminRoleArn: ADMIN_ROLE_ARN,
    graph: new DynamoIdentityGraph(plane.dynamo, plane.tableName),
    profiles: new DynamoProfileStore(plane.dynamo, plane.tableName),
    deletions: new DynamoUserDeletionStore(plane.dynamo, plane.tableName),
    accounts: new CognitoUserAccounts(cognito, userPoolId),
    publisher: link.publisher,
    outbox: link.outbox,
    iot: link.iot,
    backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    iotPolicyName: plane.policyName,
    defaultTenant: "default",
    source: "boardingpass/test/delete-user",
    now: () => new Date(),
    ...overrides,
  };
}

/** What API Gateway's JWT authorizer hands the Lambda for a verified token. */
function jwtEvent(token: string): APIGatewayProxyEventV2WithJWTAuthorizer {
  const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
  const base = iamEvent({ identityId: newIdentityId() }, plane.identityPoolId, {
    method: "DELETE",
    path: "/identity/me",
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
  // The JWT authorizer's identity source; the handler asks the pool whether the session is live.
  base.headers.authorization = `Bearer ${token}`;
  base.requestContext.authorizer = {
    principalId: "",
    integrationLatency: 0,
    jwt: { claims, scopes: null as unknown as string[] },
  };
  return base;
}

/**
 * A confirmed, signed-in user with a profile, an email claim, and a device identity that holds the
 * IoT policy (through the real ensure-iot route) and wrote preferences.
 */
async function userWithDevice() {
  const email = `delete-${randomUUID().slice(0, 8)}@example.com`;
  const sub = await signUpConfirmed({ cognito, idp, clientId }, email, PASSWORD);
  const { Username } = await cognito.send(
    new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email }),
  );
  await plane.createProfile(sub);
  const claimKey = emailUniquenessKey(canonicalizeEmail(email).canonical);
  await plane.dynamo.send(
    new PutCommand({
      TableName: plane.tableName,
      Item: { ...claimKey, owner: Username, claimedAt: new Date().toISOString() },
    }),
  );
  const { AuthenticationResult } = await cognito.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );
  const device: Caller = { identityId: newIdentityId(), sub };
  const ensured = await ensureIot(device);
  expect(ensured.statusCode).toBe(200);
  const preferences = await createPreferencesHandler({
    ...plane.deps(),
    identityPoolId: plane.identityPoolId,
  })(
    iamEvent(device, plane.identityPoolId, {
      method: "PUT",
      path: "/identity/preferences",
      body: { preferences: { nickname: "Ada" } },
    }),
  );
  expect(preferences.statusCode).toBe(200);
  expect(await attachedPolicies(plane.iotClient, device.identityId)).toEqual([plane.policyName]);
  return {
    email,
    sub,
    device,
    claimKey,
    accessToken: AuthenticationResult!.AccessToken!,
    idToken: AuthenticationResult!.IdToken!,
  };
}

const ensureIot = (caller: Caller) =>
  createEnsureIotHandler({
    ...plane.deps(),
    identityPoolId: plane.identityPoolId,
  })(
    iamEvent(caller, plane.identityPoolId, { method: "POST", path: "/identity/iot" }),
  ) as Promise<APIGatewayProxyStructuredResultV2>;

const deleteMe = (token: string, deps = deleteDeps()) =>
  createDeleteMeHandler(deps)(jwtEvent(token)) as Promise<APIGatewayProxyStructuredResultV2>;

const adminDelete = (
  sub: string,
  deps = deleteDeps(),
  admin: Caller & { roleArn?: string } = { identityId: newIdentityId(), sub: randomUUID() },
) =>
  createAdminDeleteUserHandler(deps)(
    signedWithRole(
      iamEvent(admin, plane.identityPoolId, {
        method: "DELETE",
        path: `/admin/users/${sub}`,
        pathParameters: { sub },
      }),
      admin.roleArn ?? ADMIN_ROLE_ARN,
    ),
  ) as Promise<APIGatewayProxyStructuredResultV2>;

async function cognitoUserExists(email: string) {
  try {
    await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email }));
    return true;
  } catch (error) {
    if (error instanceof UserNotFoundException) return false;
    throw error;
  }
}

const item = async (key: { pk: string; sk: string }) =>
  (
    await plane.dynamo.send(
      new GetCommand({ TableName: plane.tableName, Key: key, ConsistentRead: true }),
    )
  ).Item;

async function itemsUnder(pk: string) {
  const { Items } = await plane.dynamo.send(
    new QueryCommand({
      TableName: plane.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((found) => String(found.sk));
}

async function deletedEvents(sub: string) {
  const id = eventId(USER_DELETED, sub);
  await plane.sns.idle();
  const sns = plane.snsMessages.filter((message) => message.id === id);
  const kinesis = (await plane.kinesisEvents()).filter((event) => event.id === id);
  return { id, sns, kinesis };
}

describe("DELETE /identity/me", () => {
  it("detaches the IoT policy, deletes the Cognito user, erases the profile and publishes user.deleted once", async () => {
    // Prepare
    const user = await userWithDevice();

    // Act
    const result = await deleteMe(user.accessToken);

    // Assess: the response
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      sub: user.sub,
      outcome: "deleted",
      released: [{ identityId: user.device.identityId, policies: [plane.policyName] }],
      event: { id: eventId(USER_DELETED, user.sub), published: true },
    });
    // IoT: nothing attached to the user's identity; the map says so and is marked.
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([]);
    const identity = await new DynamoIdentityGraph(plane.dynamo, plane.tableName).get(
      user.device.identityId,
    );
    expect(identity).toMatchObject({ userSub: user.sub, iotPolicies: [] });
    expect(identity?.userDeletedAt).toEqual(expect.any(String));
    // Cognito: the user is gone.
    expect(await cognitoUserExists(user.email)).toBe(false);
    // Table: no profile, no email claim (its key is the address), no user-written data; only the
    // deletion record (its own partition, ADR 0010), with no personal data and no pending event.
    expect(await itemsUnder(`USER#${user.sub}`)).toEqual([]);
    expect(await itemsUnder(`DELETION#${user.sub}`)).toEqual(["DELETION"]);
    const record = await item({ pk: `DELETION#${user.sub}`, sk: "DELETION" });
    expect(Object.keys(record!).sort()).toEqual(
      ["finishedAt", "pk", "sk", "startedAt", "step", "sub", "tenant"].sort(),
    );
    expect(record).toMatchObject({ step: "done", tenant: "acme" });
    expect(await item(user.claimKey)).toBeUndefined();
    // The user's data: only an empty tombstone (no document), which refuses late writers.
    expect(await itemsUnder(`IDENTITY#${user.device.identityId}`)).toEqual([
      "DATA#preferences",
      "IDENTITY",
    ]);
    const erased = await item({ pk: `IDENTITY#${user.device.identityId}`, sk: "DATA#preferences" });
    expect(Object.keys(erased!).sort()).toEqual(["pk", "sk", "userDeletedAt"]);
    // Events: one user.deleted on each destination, with no personal data.
    const events = await deletedEvents(user.sub);
    expect(events.sns).toHaveLength(1);
    expect(events.kinesis).toHaveLength(1);
    expect(events.sns[0]).toMatchObject({
      type: USER_DELETED,
      subject: user.sub,
      data: { sub: user.sub, tenant: "acme" },
    });
    expect(JSON.stringify(events.sns[0])).not.toContain(user.email);
  });

  it("is safe to retry: the same answer and event id, nothing published twice", async () => {
    // Prepare
    const user = await userWithDevice();
    const first = await deleteMe(user.accessToken);

    // Act: the app retries with the same (still unexpired) access token.
    const second = await deleteMe(user.accessToken);

    // Assess
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toMatchObject({
      outcome: "already-deleted",
      event: { id: eventId(USER_DELETED, user.sub), published: true },
    });
    const events = await deletedEvents(user.sub);
    expect(events.sns).toHaveLength(1);
    expect(events.kinesis).toHaveLength(1);
  });

  it("keeps a device of the deleted user from attaching the policy again", async () => {
    // Prepare
    const user = await userWithDevice();
    await deleteMe(user.accessToken);

    // Act: the device's credentials still work for up to an hour.
    const again = await ensureIot(user.device);

    // Assess
    expect(again.statusCode).toBe(410);
    expect(bodyOf(again)).toMatchObject({ error: "UserDeleted" });
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([]);
  });

  it("gives no IoT policy to a device of the deleted user the deletion never knew (410)", async () => {
    // Prepare: a second device of the user that never called the backend before the deletion.
    const user = await userWithDevice();
    await deleteMe(user.accessToken);
    const unseen: Caller = { identityId: newIdentityId(), sub: user.sub };

    // Act
    const attach = await ensureIot(unseen);

    // Assess: refused before attaching; the identity is now recorded as the user's and marked.
    expect(attach.statusCode).toBe(410);
    expect(await attachedPolicies(plane.iotClient, unseen.identityId)).toEqual([]);
    const record = await new DynamoIdentityGraph(plane.dynamo, plane.tableName).get(
      unseen.identityId,
    );
    expect(record).toMatchObject({ userSub: user.sub, userDeletedAt: expect.any(String) });
  });

  it("never leaves a deleted user with attached policies: a failed AdminDeleteUser resumes", async () => {
    // Prepare: the Cognito deletion fails once (fault injection).
    const user = await userWithDevice();
    const real = new CognitoUserAccounts(cognito, userPoolId);
    const failing: UserAccounts = {
      findBySub: (sub) => real.findBySub(sub),
      delete: () => Promise.reject(Object.assign(new Error("injected"), { name: "InjectedFault" })),
    };

    // Act
    const failed = await deleteMe(user.accessToken, deleteDeps({ accounts: failing }));
    const stateAfterFailure = {
      userExists: await cognitoUserExists(user.email),
      policies: await attachedPolicies(plane.iotClient, user.device.identityId),
      events: (await deletedEvents(user.sub)).sns.length,
    };
    const retried = await deleteMe(user.accessToken);

    // Assess: released before the user went; the retry finished the job with one event.
    expect(failed.statusCode).toBe(500);
    expect(stateAfterFailure).toEqual({ userExists: true, policies: [], events: 0 });
    expect(retried.statusCode).toBe(200);
    expect(bodyOf(retried)).toMatchObject({ outcome: "deleted" });
    expect(await cognitoUserExists(user.email)).toBe(false);
    const events = await deletedEvents(user.sub);
    expect(events.sns).toHaveLength(1);
    expect(events.kinesis).toHaveLength(1);
  });

  it("leaves an event whose inline publish failed to the next call, with the same id", async () => {
    // Prepare
    const user = await userWithDevice();
    const unpublished = deleteDeps({
      publisher: {
        publish: async (events) => ({
          published: [],
          failed: events.map((event) => ({ id: event.id, reason: "Unavailable" })),
        }),
      },
    });

    // Act
    const first = await deleteMe(user.accessToken, unpublished);
    const second = await deleteMe(user.accessToken);

    // Assess
    expect(bodyOf(first)).toMatchObject({ outcome: "deleted", event: { published: false } });
    expect(bodyOf(second)).toMatchObject({
      outcome: "already-deleted",
      event: { published: true },
    });
    const events = await deletedEvents(user.sub);
    expect(events.sns).toHaveLength(1);
    const record = await item({ pk: `DELETION#${user.sub}`, sk: "DELETION" });
    expect(record?.pendingEvent).toBeUndefined();
  });

  it("takes back an attachment a concurrent POST /identity/iot made just before the mark", async () => {
    // Prepare: the deletion's mark lands between ensure-iot's AttachPolicy and its record write.
    const user = await userWithDevice();
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    const racing = Object.assign(Object.create(graph) as DynamoIdentityGraph, {
      recordIotPolicy: async (identityId: string, policyName: string, attached: boolean) => {
        await graph.markUserDeleted(identityId, user.sub, new Date());
        return graph.recordIotPolicy(identityId, policyName, attached);
      },
    });

    // Act
    const raced = await createEnsureIotHandler({
      ...plane.deps(),
      graph: racing,
      identityPoolId: plane.identityPoolId,
    })(iamEvent(user.device, plane.identityPoolId, { method: "POST", path: "/identity/iot" }));

    // Assess
    expect(raced.statusCode).toBe(410);
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([]);
  });

  it("deletes, through the admin route, a user already deleted in Cognito behind our back", async () => {
    // Prepare: Cognito's own deletion bypassed the backend (ADR 0007).
    const user = await userWithDevice();
    await new CognitoUserAccounts(cognito, userPoolId).delete(
      (await new CognitoUserAccounts(cognito, userPoolId).findBySub(user.sub))!.username,
    );
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([
      plane.policyName,
    ]);

    // Act
    const result = await adminDelete(user.sub);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([]);
    expect(await itemsUnder(`USER#${user.sub}`)).toEqual([]);
    expect(await itemsUnder(`DELETION#${user.sub}`)).toEqual(["DELETION"]);
    expect((await deletedEvents(user.sub)).sns).toHaveLength(1);
  });

  it("refuses a signed-out session's access token with 401 ReauthenticationRequired, deleting nothing", async () => {
    // Prepare: the user signs out everywhere; API Gateway would still pass the token (offline JWT check).
    const user = await userWithDevice();
    await cognito.send(new GlobalSignOutCommand({ AccessToken: user.accessToken }));

    // Act
    const result = await deleteMe(user.accessToken);

    // Assess
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toMatchObject({
      error: "ReauthenticationRequired",
      reason: "session-revoked",
    });
    expect(result.headers?.["www-authenticate"]).toContain('error="invalid_token"');
    expect(await cognitoUserExists(user.email)).toBe(true);
    expect(await itemsUnder(`USER#${user.sub}`)).toContain("PROFILE");
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([
      plane.policyName,
    ]);
  });

  it("refuses a sign-in older than the window with 401 session-too-old, deleting nothing", async () => {
    // Prepare: the handler's clock is 16 minutes past the sign-in (a 15-minute window).
    const user = await userWithDevice();
    const later = deleteDeps({
      session: {
        sessions: new CognitoLiveSessions(cognito),
        maxAgeSeconds: 900,
        now: () => new Date(Date.now() + 16 * 60_000),
      },
    });

    // Act
    const result = await deleteMe(user.accessToken, later);

    // Assess
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toMatchObject({
      error: "ReauthenticationRequired",
      reason: "session-too-old",
      maxAgeSeconds: 900,
    });
    expect(result.headers?.["www-authenticate"]).toContain(
      'error="insufficient_user_authentication"',
    );
    expect(await cognitoUserExists(user.email)).toBe(true);
  });

  it("names the user as the actor of their own deletion in user.deleted", async () => {
    const user = await userWithDevice();
    expect((await deleteMe(user.accessToken)).statusCode).toBe(200);
    const events = await deletedEvents(user.sub);
    expect(events.sns[0]).toMatchObject({ data: { actor: { kind: "self", sub: user.sub } } });
  });

  it("accepts only an access token", async () => {
    const user = await userWithDevice();
    const result = await deleteMe(user.idToken);
    expect(result.statusCode).toBe(403);
    expect(await cognitoUserExists(user.email)).toBe(true);
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([
      plane.policyName,
    ]);
  });
});

describe("DELETE /admin/users/{sub}", () => {
  it("deletes the user like the self-service route", async () => {
    const user = await userWithDevice();
    const result = await adminDelete(user.sub);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ outcome: "deleted" });
    expect(await attachedPolicies(plane.iotClient, user.device.identityId)).toEqual([]);
    expect(await cognitoUserExists(user.email)).toBe(false);
    expect((await deletedEvents(user.sub)).sns).toHaveLength(1);
  });

  it("refuses a caller of another role that IAM somehow let through (403 AdminRoleRequired)", async () => {
    // Prepare: a member-role session (a stray grant would let it reach the handler).
    const user = await userWithDevice();
    const member = { identityId: newIdentityId(), sub: randomUUID(), roleArn: MEMBER_ROLE_ARN };

    // Act
    const result = await adminDelete(user.sub, deleteDeps(), member);

    // Assess
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: "AdminRoleRequired" });
    expect(await cognitoUserExists(user.email)).toBe(true);
    expect(await itemsUnder(`USER#${user.sub}`)).toContain("PROFILE");
  });

  it("puts the admin who acted in user.deleted: role, session, identity and sub", async () => {
    const user = await userWithDevice();
    const admin = { identityId: newIdentityId(), sub: randomUUID() };
    expect((await adminDelete(user.sub, deleteDeps(), admin)).statusCode).toBe(200);
    const events = await deletedEvents(user.sub);
    expect(events.sns[0]).toMatchObject({
      data: {
        sub: user.sub,
        actor: {
          kind: "admin",
          roleName: "prod-boarding-pass-admin-us-east-1",
          roleSessionName: "CognitoIdentityCredentials",
          identityId: admin.identityId,
          sub: admin.sub,
        },
      },
    });
  });

  it("answers 404 for an unknown user and 400 for a malformed sub", async () => {
    expect((await adminDelete(randomUUID())).statusCode).toBe(404);
    expect((await adminDelete("not-a-uuid")).statusCode).toBe(400);
  });
});

describe("deletion records written before ADR 0010 (under USER#<sub>)", () => {
  const legacyRecord = (sub: string, step: "started" | "done") => ({
    pk: `USER#${sub}`,
    sk: "DELETION",
    sub,
    tenant: "legacy-tenant",
    step,
    startedAt: "2026-11-01T00:00:00.000Z",
    ...(step === "done" ? { finishedAt: "2026-11-01T00:00:05.000Z" } : {}),
  });

  it("a finished one still answers already-deleted and is left where it is", async () => {
    // Prepare
    const sub = randomUUID();
    await plane.dynamo.send(
      new PutCommand({ TableName: plane.tableName, Item: legacyRecord(sub, "done") }),
    );

    // Act
    const result = await adminDelete(sub);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ outcome: "already-deleted" });
    expect(await itemsUnder(`USER#${sub}`)).toEqual(["DELETION"]);
    expect(await itemsUnder(`DELETION#${sub}`)).toEqual([]);
  });

  it("one still running is carried forward, finished in the new partition, and the old erased", async () => {
    // Prepare: a deletion that stopped after step 1 under the old key; the user is still there.
    const user = await userWithDevice();
    await plane.dynamo.send(
      new PutCommand({ TableName: plane.tableName, Item: legacyRecord(user.sub, "started") }),
    );

    // Act
    const result = await deleteMe(user.accessToken);

    // Assess: the event keeps the tenant the old record holds; nothing is left under USER#.
    expect(bodyOf(result)).toMatchObject({ outcome: "deleted" });
    expect(await itemsUnder(`USER#${user.sub}`)).toEqual([]);
    expect(await item({ pk: `DELETION#${user.sub}`, sk: "DELETION" })).toMatchObject({
      step: "done",
      tenant: "legacy-tenant",
      startedAt: "2026-11-01T00:00:00.000Z",
    });
    const events = await deletedEvents(user.sub);
    expect(events.sns).toHaveLength(1);
    expect(events.sns[0]).toMatchObject({ data: { tenant: "legacy-tenant" } });
  });
});

describe("a merge still running when the user is deleted (issue 12, section 3)", () => {
  it("folds nothing into the erased identity: checked before the move, erased after it", async () => {
    // Prepare: a user with a device identity and preferences; a guest with its own data and a
    // proof. The merge pauses once it has read the guest's data, and the whole deletion runs then.
    const user = await userWithDevice();
    const guestId = newIdentityId();
    const preferences = createPreferencesHandler({
      ...plane.deps(),
      identityPoolId: plane.identityPoolId,
    });
    await preferences(
      iamEvent({ identityId: guestId }, plane.identityPoolId, {
        method: "PUT",
        path: "/identity/preferences",
        body: { preferences: { guestOnly: "x".repeat(3000) } },
      }),
    );
    await preferences(
      iamEvent(user.device, plane.identityPoolId, {
        method: "PUT",
        path: "/identity/preferences",
        body: { preferences: { nickname: "y".repeat(3000) } },
      }),
    );
    const base = plane.deps();
    let deleted: Promise<unknown> | undefined;
    const data = {
      ...base.data,
      get: base.data.get.bind(base.data),
      write: base.data.write.bind(base.data),
      tombstone: base.data.tombstone.bind(base.data),
      list: async (identityId: string) => {
        const items = await base.data.list(identityId);
        // Fault injection: the deletion runs to the end between the merge's read and its writes.
        if (identityId === guestId && deleted === undefined) {
          deleted = deleteMe(user.accessToken);
          await deleted;
        }
        return items;
      },
    };
    const proof = mintOpenIdToken(plane.key, { sub: guestId, aud: plane.identityPoolId });

    // Act
    const merge = await createLinkIdentityHandler({ ...base, data })(
      iamEvent(user.device, plane.identityPoolId, {
        method: "POST",
        path: "/identity/link",
        body: { guestProof: proof, guestIdentityId: guestId },
      }),
    );

    // Assess: the deletion ran, the merge stopped with 410 (its write met the erasure tombstone),
    // and the survivor holds no document: nothing of the guest was folded into it.
    expect(deleted).toBeDefined();
    expect((await deleted) as { statusCode?: number }).toMatchObject({ statusCode: 200 });
    expect(merge.statusCode).toBe(410);
    expect(bodyOf(merge)).toMatchObject({ error: "UserDeleted" });
    const survivorItems = (
      await plane.dynamo.send(
        new QueryCommand({
          TableName: plane.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :data)",
          ExpressionAttributeValues: {
            ":pk": `IDENTITY#${user.device.identityId}`,
            ":data": "DATA#",
          },
          ConsistentRead: true,
        }),
      )
    ).Items!;
    expect(survivorItems.length).toBeGreaterThan(0);
    for (const found of survivorItems) {
      expect(found.document, String(found.sk)).toBeUndefined();
      expect(found.userDeletedAt, String(found.sk)).toEqual(expect.any(String));
    }
  });
});
