/**
 * Attacks on sessions and roles, end to end against the local cloud booted from the real stacks
 * (issue 12, section 3), each with unmodified clients (AWS SDK v3, amazon-cognito-identity-js,
 * packages/client):
 *
 * - a signed-out (or revoked) session's access token, which API Gateway's JWT authorizer still
 *   accepts (it verifies offline), must not delete the account; nor a sign-in older than the
 *   window (15 minutes). The old sign-in is made with the user pool's clock set back
 *   (`userPoolClock`): its tokens are exactly those of a sign-in made then, nothing is forged, and
 *   the function's window stays the stage's;
 * - a role other than the admin role, even one a stray policy lets invoke the admin routes, must
 *   not act as an admin; an admin's deletion names the admin in `user.deleted.v1` and the logs;
 * - an admin whose profile cannot be read (a corrupt profile item) gets the member role only;
 * - the HTTP API the local cloud serves carries the stage's throttles (their token buckets are
 *   tested with an injected clock in packages/local/test/apigateway/throttle.test.ts).
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminAddUserToGroupCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  SignUpCommand,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AwsCredentials,
  deleteAccount,
  ReauthenticationRequiredError,
  signedFetch,
} from "@boarding-pass/client";
import { eventId } from "@boarding-pass/core/events";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import { BOOT_TIMEOUT_MS, bootCloud, STEP_TIMEOUT_MS } from "@boarding-pass/testing/cloud";
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageConfig } from "../../stacks/config";

const PASSWORD = "Corr3ct-Horse-Battery!";
const ANY_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
/** The stage's window (stacks/config.ts). */
const WINDOW_SECONDS = 15 * 60;

let cloud: LocalCloud;
let idp: CognitoIdentityProviderClient;
let identity: CognitoIdentityClient;
let dynamo: DynamoDBDocumentClient;
/** How far back the user pool's clock is set (0: now). */
let userPoolOffsetMs = 0;
const functionLogs: string[] = [];

beforeAll(async () => {
  cloud = await bootCloud({
    userPoolClock: () => Date.now() + userPoolOffsetMs,
    functionLog: (line) => functionLogs.push(line),
  });
  const config = { endpoint: cloud.endpoint, region: cloud.region, credentials: ANY_CREDENTIALS };
  idp = new CognitoIdentityProviderClient(config);
  identity = new CognitoIdentityClient(config);
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config));
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  idp?.destroy();
  identity?.destroy();
  dynamo?.destroy();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

const out = (key: string) => cloud.output(key);
const roleName = (role: string) => `${cloud.plan.stage}-boarding-pass-${role}-${cloud.region}`;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const profileOf = async (sub: string) =>
  (
    await dynamo.send(
      new GetCommand({
        TableName: out("TableName"),
        Key: { pk: `USER#${sub}`, sk: "PROFILE" },
        ConsistentRead: true,
      }),
    )
  ).Item;

/** A confirmed user with a profile (post confirmation ran). */
async function confirmedUser(label: string) {
  const email = `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const { UserSub } = await idp.send(
    new SignUpCommand({
      ClientId: out("UserPoolClientId"),
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  const code = await until(
    "the confirmation code",
    async () => cloud.aws.cognitoIdp!.outbox({ email }).at(-1)?.code,
  );
  await idp.send(
    new ConfirmSignUpCommand({
      ClientId: out("UserPoolClientId"),
      Username: email,
      ConfirmationCode: code,
    }),
  );
  await until("the profile", () => profileOf(UserSub!));
  return { email, sub: UserSub! };
}

/** SRP sign-in with amazon-cognito-identity-js, the app client's flow. */
function signIn(email: string) {
  const pool = new CognitoUserPool({
    UserPoolId: out("UserPoolId"),
    ClientId: out("UserPoolClientId"),
    endpoint: cloud.endpoint,
  });
  const user = new CognitoUser({ Username: email, Pool: pool });
  return new Promise<{ accessToken: string; idToken: string; refreshToken: string }>(
    (resolve, reject) => {
      user.authenticateUser(new AuthenticationDetails({ Username: email, Password: PASSWORD }), {
        onSuccess: (session) =>
          resolve({
            accessToken: session.getAccessToken().getJwtToken(),
            idToken: session.getIdToken().getJwtToken(),
            refreshToken: session.getRefreshToken().getToken(),
          }),
        onFailure: reject,
      });
    },
  );
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;

/** Identity-pool credentials for a signed-in user (Token role mapping picks the role). */
async function credentialsOf(idToken: string) {
  const logins = { [`cognito-idp.${cloud.region}.amazonaws.com/${out("UserPoolId")}`]: idToken };
  const { IdentityId } = await identity.send(
    new GetIdCommand({ IdentityPoolId: out("IdentityPoolId"), Logins: logins }),
  );
  const { Credentials } = await identity.send(
    new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
  );
  return {
    identityId: IdentityId!,
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretKey!,
      sessionToken: Credentials!.SessionToken!,
    } satisfies AwsCredentials,
  };
}

async function stillInPool(email: string): Promise<boolean> {
  try {
    await idp.send(new AdminGetUserCommand({ UserPoolId: out("UserPoolId"), Username: email }));
    return true;
  } catch (error) {
    if (error instanceof UserNotFoundException) return false;
    throw error;
  }
}

const refusal = (accessToken: string) =>
  deleteAccount({ apiUrl: out("ApiUrl"), accessToken }).then(
    () => undefined,
    (error: unknown) => error,
  );

async function callApi(method: string, path: string, credentials: AwsCredentials) {
  const response = await signedFetch({
    url: new URL(path, `${out("ApiUrl")}/`).toString(),
    method,
    region: cloud.region,
    credentials,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe("DELETE /identity/me needs a live, recent session", () => {
  it(
    "refuses the access token of a session signed out with GlobalSignOut: 401, the account intact",
    async () => {
      // Prepare: the attacker kept the access token; the user signed out everywhere.
      const user = await confirmedUser("signed-out");
      const { accessToken } = await signIn(user.email);
      await idp.send(new GlobalSignOutCommand({ AccessToken: accessToken }));

      // Act
      const refused = await refusal(accessToken);

      // Assess
      expect(refused).toBeInstanceOf(ReauthenticationRequiredError);
      expect(refused).toMatchObject({ status: 401, reason: "session-revoked" });
      expect(await stillInPool(user.email)).toBe(true);
      expect(await profileOf(user.sub)).toMatchObject({ sub: user.sub, tenant: "default" });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "refuses an access token whose refresh token was revoked (RevokeToken)",
    async () => {
      const user = await confirmedUser("revoked");
      const { accessToken, refreshToken } = await signIn(user.email);
      await idp.send(
        new RevokeTokenCommand({ ClientId: out("UserPoolClientId"), Token: refreshToken }),
      );

      const refused = await refusal(accessToken);

      expect(refused).toMatchObject({ status: 401, reason: "session-revoked" });
      expect(await stillInPool(user.email)).toBe(true);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "refuses a sign-in older than the window, refreshed tokens included: 401 session-too-old",
    async () => {
      // Prepare: the user signed in 16 minutes ago (the pool's clock set back for the sign-in),
      // and the app refreshed the tokens just now: a refresh keeps `auth_time`.
      const user = await confirmedUser("old-session");
      userPoolOffsetMs = -(WINDOW_SECONDS + 60) * 1000;
      const old = await signIn(user.email).finally(() => {
        userPoolOffsetMs = 0;
      });
      const { AuthenticationResult } = await idp.send(
        new InitiateAuthCommand({
          ClientId: out("UserPoolClientId"),
          AuthFlow: "REFRESH_TOKEN_AUTH",
          AuthParameters: { REFRESH_TOKEN: old.refreshToken },
        }),
      );
      const refreshed = AuthenticationResult!.AccessToken!;
      expect(claimsOf(refreshed).auth_time).toBe(claimsOf(old.accessToken).auth_time);

      // Act
      const refusals = [await refusal(old.accessToken), await refusal(refreshed)];

      // Assess
      for (const refused of refusals) {
        expect(refused).toBeInstanceOf(ReauthenticationRequiredError);
        expect(refused).toMatchObject({
          status: 401,
          reason: "session-too-old",
          maxAgeSeconds: WINDOW_SECONDS,
        });
      }
      expect(await stillInPool(user.email)).toBe(true);
      expect(await profileOf(user.sub)).toMatchObject({ sub: user.sub });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "still deletes with a live session signed in just now",
    async () => {
      const user = await confirmedUser("recent");
      const { accessToken } = await signIn(user.email);

      const deleted = await deleteAccount({ apiUrl: out("ApiUrl"), accessToken });
      const retried = await deleteAccount({ apiUrl: out("ApiUrl"), accessToken });

      expect(deleted).toMatchObject({ sub: user.sub, outcome: "deleted" });
      // The pool no longer knows the session; the started deletion answers the retry.
      expect(retried).toMatchObject({ sub: user.sub, outcome: "already-deleted" });
      expect(await stillInPool(user.email)).toBe(false);
      expect(await profileOf(user.sub)).toBeUndefined();
    },
    STEP_TIMEOUT_MS,
  );
});

/** The stream's record of an event, by id (the audit trail every event goes to). */
async function streamedEvent(id: string) {
  const kinesis = new KinesisClient({
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: ANY_CREDENTIALS,
  });
  try {
    return await until(`event ${id} on the stream`, async () => {
      const StreamName = out("EventsStreamName");
      const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName }));
      for (const shard of Shards ?? []) {
        const { ShardIterator } = await kinesis.send(
          new GetShardIteratorCommand({
            StreamName,
            ShardId: shard.ShardId!,
            ShardIteratorType: "TRIM_HORIZON",
          }),
        );
        let iterator = ShardIterator;
        for (let page = 0; iterator && page < 50; page += 1) {
          const { Records, NextShardIterator, MillisBehindLatest } = await kinesis.send(
            new GetRecordsCommand({ ShardIterator: iterator }),
          );
          for (const record of Records ?? []) {
            const event = JSON.parse(Buffer.from(record.Data!).toString("utf8"));
            if (event.id === id) return event as { data: Record<string, unknown> };
          }
          if ((Records ?? []).length === 0 && MillisBehindLatest === 0) break;
          iterator = NextShardIterator;
        }
      }
      return undefined;
    });
  } finally {
    kinesis.destroy();
  }
}

describe("admin routes act only for the admin role, and say who acted", () => {
  it(
    "refuses a member-role session a stray policy lets invoke the admin routes (403 AdminRoleRequired)",
    async () => {
      // Prepare: a victim, and a member whose role gained execute-api:Invoke on the admin routes
      // (an operator's mistaken inline policy: IAM now lets the request through to the handler).
      const victim = await confirmedUser("victim");
      const attacker = await confirmedUser("member");
      const { credentials } = await credentialsOf((await signIn(attacker.email)).idToken);
      const member = cloud.provisioned.iam
        .roles()
        .find((role) => role.arn.endsWith(`:role/${roleName("member")}`))!;
      const original = member.policies;
      member.policies = [
        ...original,
        {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "execute-api:Invoke",
              Resource: ["GET", "DELETE"].map(
                (method) =>
                  `arn:aws:execute-api:${cloud.region}:${cloud.plan.accountId}:${cloud.provisioned.httpApis[0]!.apiId}/*/${method}/admin/users/*`,
              ),
            },
          ],
        },
      ];
      try {
        // Act
        const read = await callApi("GET", `admin/users/${victim.sub}`, credentials);
        const erase = await callApi("DELETE", `admin/users/${victim.sub}`, credentials);

        // Assess
        expect([read.status, erase.status]).toEqual([403, 403]);
        expect(erase.body).toMatchObject({ error: "AdminRoleRequired" });
        expect(await stillInPool(victim.email)).toBe(true);
        expect(await profileOf(victim.sub)).toMatchObject({ sub: victim.sub });
      } finally {
        member.policies = original;
      }
      // Without the stray grant, IAM refuses it before the handler, as before.
      expect((await callApi("DELETE", `admin/users/${victim.sub}`, credentials)).status).toBe(403);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "puts the admin who deleted a user in user.deleted.v1 and logs the admin action",
    async () => {
      // Prepare: an operator in the admin group, signed in again to get the admin role.
      const victim = await confirmedUser("victim");
      const operator = await confirmedUser("operator");
      await idp.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: out("UserPoolId"),
          Username: operator.email,
          GroupName: "admin",
        }),
      );
      const { identityId, credentials } = await credentialsOf(
        (await signIn(operator.email)).idToken,
      );

      // Act
      const erased = await callApi("DELETE", `admin/users/${victim.sub}`, credentials);

      // Assess
      expect(erased.status).toBe(200);
      const event = await streamedEvent(eventId("boardingpass.user.deleted.v1", victim.sub));
      expect(event.data).toEqual({
        sub: victim.sub,
        tenant: "default",
        actor: {
          kind: "admin",
          roleName: roleName("admin"),
          roleSessionName: "CognitoIdentityCredentials",
          identityId,
          sub: operator.sub,
        },
      });
      const logged = await until("the admin action's log line", async () =>
        functionLogs.find((line) => line.includes('"admin action"') && line.includes(victim.sub)),
      );
      expect(JSON.parse(logged.slice(logged.indexOf("{")))).toMatchObject({
        action: "delete-user",
        targetSub: victim.sub,
        actor: { kind: "admin", roleSessionName: "CognitoIdentityCredentials", identityId },
      });
      expect(logged).not.toContain(operator.email);
      expect(logged).not.toContain(credentials.sessionToken);
    },
    STEP_TIMEOUT_MS,
  );
});

describe("degraded claims never elevate", () => {
  it(
    "an admin whose profile cannot be read gets the member role only, whatever the groups",
    async () => {
      // Prepare: an operator in the admin group whose profile item is corrupt (a tenant no
      // profile may hold), which pre token generation treats like an unreadable profile.
      const operator = await confirmedUser("degraded");
      await idp.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: out("UserPoolId"),
          Username: operator.email,
          GroupName: "admin",
        }),
      );
      const profile = await profileOf(operator.sub);
      await dynamo.send(
        new PutCommand({
          TableName: out("TableName"),
          Item: { ...profile, roles: ["admin"], tenant: "Not A Tenant!" },
        }),
      );

      // Act
      const { idToken } = await signIn(operator.email);
      const { credentials } = await credentialsOf(idToken);

      // Assess: the group is in the token, the role is not; the identity pool agrees.
      const claims = claimsOf(idToken);
      expect(claims["cognito:groups"]).toEqual(expect.arrayContaining(["admin"]));
      expect(claims["cognito:preferred_role"]).toMatch(new RegExp(`:role/${roleName("member")}$`));
      expect(claims.app_roles).toBeUndefined();
      const adminRead = await callApi("GET", `admin/users/${operator.sub}`, credentials);
      expect(adminRead.status).toBe(403);
    },
    STEP_TIMEOUT_MS,
  );
});

describe("guest routes are throttled", () => {
  it("the local HTTP API applies the stage's and the guest routes' limits from the stacks", () => {
    const limits = stageConfig(cloud.plan.stage).apiThrottling;
    const asEmulated = (limit: { rateLimit: number; burstLimit: number }) => ({
      rateLimit: limit.rateLimit,
      burstLimit: limit.burstLimit,
    });
    expect(cloud.provisioned.httpApis[0]?.throttling).toEqual({
      default: asEmulated(limits.stage),
      routes: {
        "POST /identity/guest-proof": asEmulated(limits.guestProof),
        "GET /identity/preferences": asEmulated(limits.guestData),
        "PUT /identity/preferences": asEmulated(limits.guestData),
      },
    });
  });
});
