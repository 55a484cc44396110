import { AttachPolicyCommand, CreatePolicyCommand } from "@aws-sdk/client-iot";
import { DynamoIdentityGraph } from "@boarding-pass/core/adapters/dynamodb";
import { IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { identityLinkedEventId } from "@boarding-pass/core/events";
import { MAX_DOCUMENT_BYTES, releaseUserIdentities } from "@boarding-pass/core/identity";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminGetUserHandler } from "../../src/api/handlers/admin-get-user";
import { createEnsureIotHandler } from "../../src/api/handlers/ensure-iot";
import { createGetProfileHandler } from "../../src/api/handlers/get-profile";
import { createPreferencesHandler } from "../../src/api/handlers/preferences";
import {
  ADMIN_ROLE_ARN,
  bodyOf,
  type Caller,
  iamEvent,
  MEMBER_ROLE_ARN,
  newIdentityId,
  newSub,
  type Plane,
  signedWithRole,
  startPlane,
} from "./harness";

let plane: Plane;

beforeAll(async () => {
  plane = await startPlane();
});
afterAll(async () => {
  await plane?.stop();
});

const ensureIot = (caller: Caller, deps = plane.deps()) =>
  createEnsureIotHandler(deps)(
    iamEvent(caller, plane.identityPoolId, { method: "POST", path: "/identity/iot" }),
  );

const preferences = (caller: Caller, method: string, body?: unknown) =>
  createPreferencesHandler({ ...plane.deps(), identityPoolId: plane.identityPoolId })(
    iamEvent(caller, plane.identityPoolId, { method, path: "/identity/preferences", body }),
  );

describe("POST /identity/iot", () => {
  it("attaches the policy to the caller's identity id, records it, and is idempotent", async () => {
    // Prepare
    const caller = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(caller.sub);

    // Act
    const first = await ensureIot(caller);
    const second = await ensureIot(caller);

    // Assess
    expect(first.statusCode).toBe(200);
    expect(bodyOf(first)).toMatchObject({ identityId: caller.identityId, newlyLinked: true });
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toMatchObject({ newlyLinked: false });
    expect(plane.iot.attachedPolicies(caller.identityId).map((p) => p.policyName)).toEqual([
      plane.policyName,
    ]);
    const graph = new DynamoIdentityGraph(plane.dynamo, plane.tableName);
    expect(await graph.get(caller.identityId)).toMatchObject({
      userSub: caller.sub,
      iotPolicies: [plane.policyName],
    });
    // identity.linked waits in the item's outbox for the relay (this route publishes nothing).
    expect(
      await graph.pendingEvent({ pk: `IDENTITY#${caller.identityId}`, sk: "IDENTITY" }),
    ).toMatchObject({ id: identityLinkedEventId(caller.sub, caller.identityId) });
  });

  it("answers 409 with a clear error when the identity already holds 10 policies", async () => {
    // Prepare
    const caller = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(caller.sub);
    for (let n = 0; n < 10; n++) {
      const policyName = `other-${n}-${caller.sub.slice(0, 8)}`;
      await plane.iotClient.send(
        new CreatePolicyCommand({
          policyName,
          policyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
          }),
        }),
      );
      await plane.iotClient.send(
        new AttachPolicyCommand({ policyName, target: caller.identityId }),
      );
    }

    // Act
    const result = await ensureIot(caller);

    // Assess
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({ error: "IotPolicyLimit" });
    expect(bodyOf<{ message: string }>(result).message).toMatch(/maximum of 10/);
  });

  it("backs off on throttling and succeeds when IoT recovers", async () => {
    // Prepare: a mock wrapping the real client throttles the first two AttachPolicy calls.
    const caller = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(caller.sub);
    let throttled = 0;
    const throttling = new IotClientPolicyAttachments({
      send: ((command: { constructor: { name: string } }) => {
        if (command.constructor.name === "AttachPolicyCommand" && throttled < 2) {
          throttled++;
          return Promise.reject(
            Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }),
          );
        }
        return plane.iotClient.send(command as never);
      }) as typeof plane.iotClient.send,
    });

    // Act
    const result = await ensureIot(caller, plane.deps({ iot: throttling }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(throttled).toBe(2);
    expect(plane.iot.attachedPolicies(caller.identityId)).toHaveLength(1);
  });

  it("answers 503 when IoT stays throttled through every attempt", async () => {
    const caller = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(caller.sub);
    const alwaysThrottled = new IotClientPolicyAttachments({
      send: (() =>
        Promise.reject(
          Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }),
        )) as typeof plane.iotClient.send,
    });
    const result = await ensureIot(caller, plane.deps({ iot: alwaysThrottled }));
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ "retry-after": "1" });
  });

  it("refuses a guest caller: guests get IoT from the unauthenticated role only", async () => {
    const result = await ensureIot({ identityId: newIdentityId() });
    expect(result.statusCode).toBe(403);
  });

  it("refuses a caller from another identity pool", async () => {
    const event = iamEvent({ identityId: newIdentityId(), sub: newSub() }, newIdentityId(), {
      method: "POST",
      path: "/identity/iot",
    });
    const result = await createEnsureIotHandler(plane.deps())(event);
    expect(result.statusCode).toBe(403);
  });
});

describe("releaseUserIdentities (user deletion)", () => {
  it("detaches the IoT policy from every identity of the user, idempotently", async () => {
    // Prepare: one user signed in on two devices.
    const sub = newSub();
    await plane.createProfile(sub);
    const devices = [newIdentityId(), newIdentityId()];
    for (const identityId of devices) await ensureIot({ identityId, sub });

    // Act
    const first = await releaseUserIdentities(sub, plane.deps());
    const again = await releaseUserIdentities(sub, plane.deps());

    // Assess
    expect(first.released.map((entry) => entry.identityId).sort()).toEqual([...devices].sort());
    for (const identityId of devices) expect(plane.iot.attachedPolicies(identityId)).toEqual([]);
    expect(again.released.every((entry) => entry.policies.length === 0)).toBe(true);
  });
});

describe("GET|PUT /identity/preferences", () => {
  it("starts empty, stores a document and reads it back", async () => {
    const guest = { identityId: newIdentityId() };
    expect(bodyOf(await preferences(guest, "GET"))).toEqual({ preferences: {} });
    const put = await preferences(guest, "PUT", { preferences: { theme: "dark", volume: 3 } });
    expect(put.statusCode).toBe(200);
    expect(bodyOf(await preferences(guest, "GET"))).toMatchObject({
      preferences: { theme: "dark", volume: 3 },
    });
  });

  it.each([
    ["a non-object", { preferences: [1, 2] }],
    ["a bad key", { preferences: { "bad key": 1 } }],
    [
      "a document over the size bound",
      {
        preferences: {
          big: "x".repeat(1000),
          more: "y".repeat(1000),
          a: "z".repeat(1000),
          b: "w".repeat(1000),
          c: "v".repeat(1000),
        },
      },
    ],
  ])("refuses %s with 400", async (_case, body) => {
    const result = await preferences({ identityId: newIdentityId() }, "PUT", body);
    expect(result.statusCode).toBe(400);
  });

  it("refuses a body far over the bound before parsing it (413)", async () => {
    const result = await preferences({ identityId: newIdentityId() }, "PUT", {
      preferences: { big: "x".repeat(3 * MAX_DOCUMENT_BYTES) },
    });
    expect(result.statusCode).toBe(413);
  });

  it("answers 400 to a malformed body and 405 to another method", async () => {
    expect((await preferences({ identityId: newIdentityId() }, "PUT", "{")).statusCode).toBe(400);
    expect((await preferences({ identityId: newIdentityId() }, "DELETE")).statusCode).toBe(405);
  });
});

describe("GET /admin/users/{sub}", () => {
  const admin = { identityId: newIdentityId(), sub: newSub() };
  const get = (sub: string, roleArn = ADMIN_ROLE_ARN) =>
    createAdminGetUserHandler({ ...plane.deps(), adminRoleArn: ADMIN_ROLE_ARN })(
      signedWithRole(
        iamEvent(admin, plane.identityPoolId, {
          method: "GET",
          path: `/admin/users/${sub}`,
          pathParameters: { sub },
        }),
        roleArn,
      ),
    );

  it("returns the profile and identity links of a user", async () => {
    // Prepare
    const user = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(user.sub);
    await ensureIot(user);

    // Act
    const result = await get(user.sub);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      sub: user.sub,
      profile: { sub: user.sub, tenant: "acme" },
      identities: [{ identityId: user.identityId, userSub: user.sub }],
    });
  });

  it("answers 404 for an unknown user and 400 for a malformed sub", async () => {
    expect((await get(newSub())).statusCode).toBe(404);
    expect((await get("not-a-uuid")).statusCode).toBe(400);
  });

  it("refuses a session of another role, even one IAM let through (403 AdminRoleRequired)", async () => {
    const user = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(user.sub);
    const result = await get(user.sub, MEMBER_ROLE_ARN);
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toEqual({
      error: "AdminRoleRequired",
      message: "Only the admin role may call this route.",
    });
  });
});

describe("GET /profile", () => {
  const event = (sub: unknown) =>
    ({
      requestContext: { authorizer: { jwt: { claims: { sub }, scopes: null } } },
    }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
  const getProfile = (sub: unknown) => createGetProfileHandler(plane.deps())(event(sub));

  it("returns the caller's own profile by the token's sub", async () => {
    const sub = newSub();
    await plane.createProfile(sub, "globex");
    const result = await getProfile(sub);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ profile: { sub, tenant: "globex" } });
  });

  it("answers 404 before the profile exists and 401 without a sub", async () => {
    expect((await getProfile(newSub())).statusCode).toBe(404);
    expect((await getProfile(undefined)).statusCode).toBe(401);
  });
});
