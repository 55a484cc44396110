import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { eventId } from "@boarding-pass/core/events";
import {
  ALLOWED_CLAIMS,
  type ClaimsResponseV1,
  type ClaimsResponseV2,
} from "@boarding-pass/core/token-claims";
import { fakeContext } from "@boarding-pass/testing";
import { type Plane, ROLE_CATALOG, startPlane } from "@boarding-pass/testing/trigger-plane";
import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDeps } from "./support/deps";
import { failingClient, stallingClient } from "./support/faults";
import { fixture, freshSub } from "./support/fixtures";

let plane: Plane;
let handler: typeof import("../src/cognito/pre-token-generation").handler;
let createPreTokenGenerationHandler: typeof import("../src/cognito/handlers/pre-token-generation").createPreTokenGenerationHandler;
let createOutboxRelayHandler: typeof import("../src/events/outbox-relay").createOutboxRelayHandler;

beforeAll(async () => {
  plane = await startPlane();
  ({ handler } = await import("../src/cognito/pre-token-generation"));
  ({ createPreTokenGenerationHandler } = await import(
    "../src/cognito/handlers/pre-token-generation"
  ));
  ({ createOutboxRelayHandler } = await import("../src/events/outbox-relay"));
});
afterAll(async () => {
  await plane?.stop();
});

const ADMIN_ARN = ROLE_CATALOG.roles.admin.iamRoleArn;
const MEMBER_ARN = ROLE_CATALOG.roles.member.iamRoleArn;

async function storeProfile(sub: string, roles: string[], tenant = "acme", plan = "pro") {
  await plane.dynamodb.send(
    new PutCommand({
      TableName: plane.tableName,
      Item: {
        pk: `USER#${sub}`,
        sk: "PROFILE",
        sub,
        tenant,
        plan,
        roles,
        createdAt: "2026-11-26T14:00:00.000Z",
        version: 3,
      },
    }),
  );
}

async function profileItem(sub: string) {
  const { Item } = await plane.dynamodb.send(
    new GetCommand({
      TableName: plane.tableName,
      Key: { pk: `USER#${sub}`, sk: "PROFILE" },
      ConsistentRead: true,
    }),
  );
  return Item;
}

function v2Event(sub: string): PreTokenGenerationV2TriggerEvent {
  const event = fixture<PreTokenGenerationV2TriggerEvent>("pre-token-generation-v2-authentication");
  event.request.userAttributes.sub = sub;
  return event;
}

function v1Event(sub: string): PreTokenGenerationTriggerEvent {
  const event = fixture<PreTokenGenerationTriggerEvent>("pre-token-generation-v1-authentication");
  event.request.userAttributes.sub = sub;
  return event;
}

const v2 = (event: { response: unknown }) =>
  (event.response as ClaimsResponseV2).claimsAndScopeOverrideDetails;
const v1 = (event: { response: unknown }) =>
  (event.response as ClaimsResponseV1).claimsOverrideDetails;

describe("claims from the profile", () => {
  it("V2: ID and access token claims and IAM roles come from the profile, never from attributes", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["admin", "member"]);
    const result = await handler(v2Event(sub), fakeContext());
    const details = v2(result);
    const claims = { tenant: "acme", plan: "pro", app_roles: "admin member" };
    expect(details.idTokenGeneration?.claimsToAddOrOverride).toEqual(claims);
    expect(details.accessTokenGeneration?.claimsToAddOrOverride).toEqual(claims);
    expect(details.groupOverrideDetails).toEqual({
      groupsToOverride: [],
      iamRolesToOverride: [ADMIN_ARN, MEMBER_ARN],
      preferredRole: ADMIN_ARN,
    });
    // The fixture's user-writable custom:tenant did not leak in
    expect(JSON.stringify(result.response)).not.toContain("someone-elses-tenant");
  });

  it("V1 from the same code: claimsOverrideDetails, keeping Cognito's groups", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["member"]);
    const result = await handler(v1Event(sub), fakeContext());
    expect(v1(result)).toEqual({
      claimsToAddOrOverride: { tenant: "acme", plan: "pro", app_roles: "member" },
      claimsToSuppress: [],
      groupOverrideDetails: {
        groupsToOverride: ["support-staff"],
        iamRolesToOverride: [MEMBER_ARN],
        preferredRole: MEMBER_ARN,
      },
    });
  });

  it("refresh tokens of a federated user get the same treatment", async () => {
    const event = fixture<PreTokenGenerationV2TriggerEvent>(
      "pre-token-generation-v2-refresh-tokens",
    );
    const sub = freshSub();
    event.request.userAttributes.sub = sub;
    await storeProfile(sub, ["member"], "globex", "free");
    const details = v2(await handler(event, fakeContext()));
    expect(details.idTokenGeneration?.claimsToAddOrOverride).toMatchObject({ tenant: "globex" });
    expect(details.groupOverrideDetails?.groupsToOverride).toEqual(["eu-west-1_Xb7fK2pQm_Google"]);
  });
});

describe("missing profile: repair", () => {
  it("creates it with the default role; the relay publishes profile.repaired once, under concurrent sign-ins", async () => {
    const sub = freshSub();
    const results = await Promise.all([0, 1, 2].map(() => handler(v2Event(sub), fakeContext())));
    for (const result of results) {
      expect(v2(result).groupOverrideDetails?.iamRolesToOverride).toEqual([MEMBER_ARN]);
    }
    expect(await profileItem(sub)).toMatchObject({
      sub,
      roles: ["member"],
      tenant: "default",
      version: 1,
    });
    const id = eventId("boardingpass.profile.repaired.v1", sub, "1");
    expect((await profileItem(sub))?.pendingEventId).toBe(id);
    // Nothing on the sign-in path: the event waits in the outbox for the relay
    expect(await plane.snsEventsFor(sub)).toEqual([]);
    const deps = realDeps(plane);
    const relay = createOutboxRelayHandler({
      store: deps.outbox,
      publisher: deps.publisher(),
      graceMs: 30_000,
      now: () => new Date(Date.now() + 60_000),
    });
    await relay();
    await relay();
    const sns = await plane.snsEventsFor(sub);
    expect(sns.map((d) => d.event.id)).toEqual([id]);
    expect(sns[0]?.event.data).toMatchObject({ repair: "created", profileVersion: 1 });
    expect((await plane.kinesisEventsFor(sub)).map((r) => [r.event.id, r.partitionKey])).toEqual([
      [id, sub],
    ]);
  });
});

describe("DynamoDB failing: base claims, never an elevated role", () => {
  it("a stalled GetItem answers inside the deadline with base claims and the member role", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["admin"]);
    const deps = realDeps(plane, { dynamodb: stallingClient(plane.dynamodb, ["GetCommand"]) });
    const stalled = createPreTokenGenerationHandler({
      ...deps,
      publisher: deps.publisher(),
      defaults: { tenant: "default", plan: "free", roles: ["member"] },
      source: deps.source("pre-token-generation"),
    });
    const context = fakeContext(5000);
    const details = v2(await stalled(v2Event(sub), context));
    expect(context.answeredInTime()).toBe(true);
    // Well inside Cognito's window: the read budget is at most a second of it.
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(3000);
    expect(details.idTokenGeneration?.claimsToAddOrOverride).toEqual({});
    expect(details.groupOverrideDetails?.iamRolesToOverride).toEqual([MEMBER_ARN]);
    expect(details.groupOverrideDetails?.preferredRole).toBe(MEMBER_ARN);
  });

  it("throttling errors give the same degraded answer, and no repair is attempted", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["admin"]);
    const throttled = failingClient(
      plane.dynamodb,
      ["GetCommand", "PutCommand"],
      "ProvisionedThroughputExceededException",
    );
    const deps = realDeps(plane, { dynamodb: throttled });
    const degraded = createPreTokenGenerationHandler({
      ...deps,
      publisher: deps.publisher(),
      defaults: { tenant: "default", plan: "free", roles: ["member"] },
      source: deps.source("pre-token-generation"),
    });
    const details = v2(await degraded(v2Event(sub), fakeContext()));
    expect(details.groupOverrideDetails?.iamRolesToOverride).toEqual([MEMBER_ARN]);
    expect(throttled.failures()).toBe(1);
  });

  it("a user in the admin group gets the member role alone when the profile read fails", async () => {
    // Prepare: an admin (profile and group); DynamoDB throttles the read (fault injection).
    const sub = freshSub();
    await storeProfile(sub, ["admin"]);
    const throttled = failingClient(
      plane.dynamodb,
      ["GetCommand", "PutCommand"],
      "ProvisionedThroughputExceededException",
    );
    const deps = realDeps(plane, { dynamodb: throttled });
    const degraded = createPreTokenGenerationHandler({
      ...deps,
      publisher: deps.publisher(),
      defaults: { tenant: "default", plan: "free", roles: ["member"] },
      source: deps.source("pre-token-generation"),
    });
    const event = v2Event(sub);
    event.request.groupConfiguration.groupsToOverride = ["admin"];

    // Act
    const details = v2(await degraded(event, fakeContext()));

    // Assess: the group stays in the token, its role does not follow.
    expect(details.groupOverrideDetails?.groupsToOverride).toEqual(["admin"]);
    expect(details.groupOverrideDetails?.iamRolesToOverride).toEqual([MEMBER_ARN]);
    expect(details.groupOverrideDetails?.preferredRole).toBe(MEMBER_ARN);
  });

  it("a context with almost no time left does not wait for DynamoDB at all", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["admin"]);
    const context = fakeContext(1200);
    const details = v2(await handler(v2Event(sub), context));
    expect(context.answeredInTime()).toBe(true);
    expect(details.groupOverrideDetails?.iamRolesToOverride).toEqual([MEMBER_ARN]);
  });
});

describe("properties", () => {
  const attributeName = fc.oneof(
    fc.constantFrom(
      "custom:tenant",
      "custom:plan",
      "custom:roles",
      "cognito:groups",
      "cognito:roles",
      "tenant",
      "app_roles",
      "email",
      "sub",
      "__proto__",
      "constructor",
    ),
    fc.string({ maxLength: 20 }),
  );

  it("for any attributes, claims stay in the allow-list and roles come only from the profile", async () => {
    const sub = freshSub();
    await storeProfile(sub, ["member"], "acme", "pro");
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(attributeName, fc.string({ maxLength: 40 }), { maxKeys: 8 }),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
        fc.constantFrom("1", "2", "3"),
        async (attributes, groups, version) => {
          const event = v2Event(sub) as unknown as Record<string, unknown> &
            PreTokenGenerationV2TriggerEvent;
          event.version = version;
          event.request.userAttributes = { ...attributes, sub };
          event.request.groupConfiguration = {
            groupsToOverride: groups,
            iamRolesToOverride: [ADMIN_ARN],
            preferredRole: ADMIN_ARN,
          };
          const result = await handler(event, fakeContext());
          const response = result.response as unknown as ClaimsResponseV1 & ClaimsResponseV2;
          const claimSets =
            version === "1"
              ? [response.claimsOverrideDetails.claimsToAddOrOverride]
              : [
                  response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToAddOrOverride ??
                    {},
                  response.claimsAndScopeOverrideDetails.accessTokenGeneration
                    ?.claimsToAddOrOverride ?? {},
                ];
          const groupOverride =
            version === "1"
              ? response.claimsOverrideDetails.groupOverrideDetails
              : response.claimsAndScopeOverrideDetails.groupOverrideDetails;
          for (const claims of claimSets) {
            for (const name of Object.keys(claims)) expect(ALLOWED_CLAIMS).toContain(name);
            expect(claims).toEqual({ tenant: "acme", plan: "pro", app_roles: "member" });
          }
          // The request asked for admin; the profile says member: the profile wins.
          expect(groupOverride?.iamRolesToOverride).toEqual([MEMBER_ARN]);
          expect(groupOverride?.preferredRole).toBe(MEMBER_ARN);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("for any stored roles, token roles are exactly the catalog's roles among them, or the default", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom("admin", "member", "owner", "root", "constructor"), {
          maxLength: 4,
        }),
        async (roles) => {
          const sub = freshSub();
          await storeProfile(sub, roles);
          const details = v2(await handler(v2Event(sub), fakeContext()));
          const expected = [
            ...(roles.includes("admin") ? [ADMIN_ARN] : []),
            ...(roles.includes("member") ? [MEMBER_ARN] : []),
          ];
          expect(details.groupOverrideDetails?.iamRolesToOverride).toEqual(
            expected.length > 0 ? expected : [MEMBER_ARN],
          );
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("odd input never crashes", () => {
  type OddEvent = Record<string, unknown> & { request: Record<string, unknown> };
  const corpus: Array<[string, (event: OddEvent) => void]> = [
    ["no sub", (e) => Reflect.deleteProperty(e.request.userAttributes as object, "sub")],
    ["sub not a UUID", (e) => Reflect.set(e.request.userAttributes as object, "sub", "admin")],
    ["no userAttributes", (e) => Reflect.deleteProperty(e.request, "userAttributes")],
    ["groupConfiguration null", (e) => Reflect.set(e.request, "groupConfiguration", null)],
    [
      "groups not strings",
      (e) => Reflect.set(e.request, "groupConfiguration", { groupsToOverride: [1, null, "ok"] }),
    ],
    ["scopes not an array", (e) => Reflect.set(e.request, "scopes", "openid")],
    ["request is null", (e) => Reflect.set(e, "request", null)],
    [
      "oversized attribute",
      (e) => Reflect.set(e.request.userAttributes as object, "name", "x".repeat(200_000)),
    ],
  ];
  it.each(corpus)(
    "%s: tokens with base claims and the member role at most",
    async (_name, mutate) => {
      const event = v2Event(freshSub()) as unknown as OddEvent;
      mutate(event);
      const result = await handler(
        event as unknown as PreTokenGenerationV2TriggerEvent,
        fakeContext(),
      );
      const roles = v2(result).groupOverrideDetails?.iamRolesToOverride ?? [];
      expect(roles).not.toContain(ADMIN_ARN);
      for (const name of Object.keys(v2(result).idTokenGeneration?.claimsToAddOrOverride ?? {})) {
        expect(ALLOWED_CLAIMS).toContain(name);
      }
    },
  );

  it.each([["abc"], [""], ["0"], [undefined]])(
    "version %j fails loudly and changes nothing",
    async (version) => {
      const sub = freshSub();
      const event = v2Event(sub) as unknown as OddEvent;
      event.version = version;
      await expect(
        handler(event as unknown as PreTokenGenerationV2TriggerEvent, fakeContext()),
      ).rejects.toThrow("Unsupported pre token generation event version");
      expect(await profileItem(sub)).toBeUndefined();
    },
  );

  it("client credentials (V3, machine to machine) are left unchanged", async () => {
    const event = v2Event(freshSub()) as unknown as OddEvent;
    event.version = "3";
    event.triggerSource = "TokenGeneration_ClientCredentials";
    const result = await handler(
      event as unknown as PreTokenGenerationV2TriggerEvent,
      fakeContext(),
    );
    expect(result.response).toEqual({ claimsAndScopeOverrideDetails: {} });
  });
});
