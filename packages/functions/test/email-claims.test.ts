import { randomUUID } from "node:crypto";
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoUserDeletionStore } from "@boarding-pass/core/adapters/dynamodb";
import { SIGN_UP_CODE_LIFETIME_MS, SIGN_UP_MESSAGES } from "@boarding-pass/core/sign-up";
import { fakeContext } from "@boarding-pass/testing";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import type { PreSignUpTriggerEvent, PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDeps } from "./support/deps";
import { failingClient } from "./support/faults";
import { fixture } from "./support/fixtures";

/**
 * Email claims over their lifetime, at handler level against the real table and user pool: the
 * takeover of a stale unconfirmed claim, the claim following a verified email change, the release
 * of every claim at deletion, each run twice and concurrently (Cognito retries a trigger up to
 * three times). The end-to-end attacks are in test/e2e/attack-email.test.ts.
 */

let plane: Plane;
let idp: CognitoIdentityProviderClient;
let clientId: string;
let preSignUp: ReturnType<
  typeof import("../src/cognito/handlers/pre-sign-up").createPreSignUpHandler
>;
let createPreSignUpHandler: typeof import("../src/cognito/handlers/pre-sign-up").createPreSignUpHandler;
let createPreTokenGenerationHandler: typeof import("../src/cognito/handlers/pre-token-generation").createPreTokenGenerationHandler;

const HOUR = 60 * 60 * 1000;
const T0 = new Date("2026-03-01T10:00:00.000Z");
const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs);

beforeAll(async () => {
  plane = await startPlane();
  ({ createPreSignUpHandler } = await import("../src/cognito/handlers/pre-sign-up"));
  ({ createPreTokenGenerationHandler } = await import(
    "../src/cognito/handlers/pre-token-generation"
  ));
  idp = new CognitoIdentityProviderClient({
    ...plane.sdk,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const { UserPoolClient } = await idp.send(
    new CreateUserPoolClientCommand({ UserPoolId: plane.userPoolId, ClientName: "claims" }),
  );
  clientId = UserPoolClient!.ClientId!;
  preSignUp = signUpHandlerAt(0);
});
afterAll(async () => {
  idp?.destroy();
  await plane?.stop();
});

function signUpHandlerAt(offsetMs: number) {
  const deps = realDeps(plane);
  return createPreSignUpHandler({
    ...deps,
    publisher: deps.publisher(),
    directory: deps.admin,
    defaults: { tenant: "default", plan: "free", roles: [] },
    source: deps.source("pre-sign-up"),
    now: () => at(offsetMs),
  });
}

function tokenHandler(overrides: { dynamodb?: Plane["dynamodb"] } = {}) {
  const deps = realDeps(plane, overrides);
  return createPreTokenGenerationHandler({
    ...deps,
    publisher: deps.publisher(),
    defaults: { tenant: "default", plan: "free", roles: ["member"] },
    source: deps.source("pre-token-generation"),
  });
}

function signUpEvent(email: string, userName: string = randomUUID()): PreSignUpTriggerEvent {
  const event = fixture<PreSignUpTriggerEvent>("pre-sign-up-sign-up");
  event.userPoolId = plane.userPoolId;
  event.userName = userName;
  event.request.userAttributes.email = email;
  return event;
}

function tokenEvent(
  userName: string,
  email: string,
  attributes: Record<string, string> = {},
): PreTokenGenerationV2TriggerEvent {
  const event = fixture<PreTokenGenerationV2TriggerEvent>("pre-token-generation-v2-authentication");
  event.userPoolId = plane.userPoolId;
  event.userName = userName;
  Object.assign(event.request.userAttributes, { sub: userName, email, ...attributes });
  return event;
}

async function claimOf(address: string) {
  const { Item } = await plane.dynamodb.send(
    new GetCommand({
      TableName: plane.tableName,
      Key: { pk: `EMAIL#${address}`, sk: "EMAIL" },
      ConsistentRead: true,
    }),
  );
  return Item;
}

async function claimsOwnedBy(owner: string): Promise<string[]> {
  const { Items } = await plane.dynamodb.send(
    new QueryCommand({
      TableName: plane.tableName,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :owner",
      ExpressionAttributeValues: { ":owner": `EMAILOWNER#${owner}` },
    }),
  );
  return (Items ?? []).map((item) => String(item.pk)).sort();
}

const fresh = () => `u${randomUUID().replace(/-/g, "").slice(0, 10)}`;

/** A real user of the pool that never confirmed (SignUp without ConfirmSignUp). */
async function unconfirmedUser(email: string): Promise<string> {
  const { UserSub } = await idp.send(
    new SignUpCommand({
      ClientId: clientId,
      Username: email,
      Password: "Correct-Horse-9!",
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  return UserSub!;
}

async function adminCreatedUser(email: string): Promise<string> {
  const { User } = await idp.send(
    new AdminCreateUserCommand({
      UserPoolId: plane.userPoolId,
      Username: email,
      MessageAction: "SUPPRESS",
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  return User!.Username!;
}

describe("takeover of a stale unconfirmed claim", () => {
  it("refused inside the code lifetime, taken over after it, by one conditional write", async () => {
    const address = `${fresh()}@example.com`;
    const squatter = await unconfirmedUser(address);
    await preSignUp(signUpEvent(address, squatter), fakeContext());

    const taker = randomUUID();
    const early = signUpHandlerAt(SIGN_UP_CODE_LIFETIME_MS - HOUR);
    await expect(early(signUpEvent(address, taker), fakeContext())).rejects.toThrow(
      SIGN_UP_MESSAGES.emailTaken,
    );
    expect((await claimOf(address))?.owner).toBe(squatter);

    const late = signUpHandlerAt(SIGN_UP_CODE_LIFETIME_MS + HOUR);
    await late(signUpEvent(address, taker), fakeContext());
    const claim = await claimOf(address);
    expect(claim?.owner).toBe(taker);
    expect(claim?.claimedAt).toBe(at(SIGN_UP_CODE_LIFETIME_MS + HOUR).toISOString());
    // Cognito retries the taker's invocation: the same answer, the claim unchanged.
    await late(signUpEvent(address, taker), fakeContext());
    expect((await claimOf(address))?.claimedAt).toBe(claim?.claimedAt);
    expect(await claimsOwnedBy(squatter)).toEqual([]);
  });

  it("a Unicode variant of the address lands on the same claim: no renewal beside it", async () => {
    const local = fresh();
    const address = `${local}@example.com`;
    const squatter = await unconfirmedUser(address);
    await preSignUp(signUpEvent(address, squatter), fakeContext());
    // Fullwidth letters and an uppercase domain: the same canonical mailbox.
    const variant = `${local.replace(/[a-z]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0))}@EXAMPLE.com`;
    const renewal = signUpHandlerAt(HOUR);
    await expect(renewal(signUpEvent(variant, randomUUID()), fakeContext())).rejects.toThrow(
      SIGN_UP_MESSAGES.emailTaken,
    );
    expect((await claimOf(address))?.owner).toBe(squatter);
  });

  it("two sign-ups taking over the same stale claim at once: exactly one wins", async () => {
    const address = `${fresh()}@example.com`;
    const squatter = await unconfirmedUser(address);
    await preSignUp(signUpEvent(address, squatter), fakeContext());
    const late = signUpHandlerAt(SIGN_UP_CODE_LIFETIME_MS + HOUR);
    const takers = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.allSettled(
      takers.map((taker) => late(signUpEvent(address, taker), fakeContext())),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(String(result.reason)).toContain(SIGN_UP_MESSAGES.emailTaken);
      }
    }
    const winner = takers[results.findIndex((result) => result.status === "fulfilled")];
    expect((await claimOf(address))?.owner).toBe(winner);
  });

  it("the taker's invocation retried concurrently (Cognito's retries): every attempt succeeds", async () => {
    const address = `${fresh()}@example.com`;
    const squatter = await unconfirmedUser(address);
    await preSignUp(signUpEvent(address, squatter), fakeContext());
    const late = signUpHandlerAt(SIGN_UP_CODE_LIFETIME_MS + HOUR);
    const taker = randomUUID();
    const attempts = await Promise.allSettled(
      [1, 2, 3].map(() => late(signUpEvent(address, taker), fakeContext())),
    );
    expect(attempts.map((attempt) => attempt.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect((await claimOf(address))?.owner).toBe(taker);
  });

  it("never from a confirmed or admin-created owner, however old the claim", async () => {
    const address = `${fresh()}@example.com`;
    const owner = await adminCreatedUser(address);
    await preSignUp(
      { ...signUpEvent(address, owner), triggerSource: "PreSignUp_AdminCreateUser" },
      fakeContext(),
    );
    const muchLater = signUpHandlerAt(30 * 24 * HOUR);
    await expect(muchLater(signUpEvent(address, randomUUID()), fakeContext())).rejects.toThrow(
      SIGN_UP_MESSAGES.emailTaken,
    );
    expect((await claimOf(address))?.owner).toBe(owner);
  });

  it("an old claim whose owner no longer exists is taken over; a young one is not", async () => {
    const address = `${fresh()}@example.com`;
    const ghost = randomUUID();
    // A claim is written a moment before Cognito creates its user: a young claim without a user
    // is a sign-up in flight, not an orphan.
    await preSignUp(signUpEvent(address, ghost), fakeContext());
    await expect(
      signUpHandlerAt(HOUR)(signUpEvent(address, randomUUID()), fakeContext()),
    ).rejects.toThrow(SIGN_UP_MESSAGES.emailTaken);
    const taker = randomUUID();
    await signUpHandlerAt(SIGN_UP_CODE_LIFETIME_MS)(signUpEvent(address, taker), fakeContext());
    expect((await claimOf(address))?.owner).toBe(taker);
  });
});

describe("mailbox aliases at sign-up", () => {
  it("jo.hn+promo@googlemail.com is refused beside john@gmail.com", async () => {
    const local = fresh();
    await preSignUp(signUpEvent(`${local}@gmail.com`), fakeContext());
    const dotted = `${local.slice(0, 3)}.${local.slice(3)}+promo@googlemail.com`;
    await expect(preSignUp(signUpEvent(dotted), fakeContext())).rejects.toThrow(
      SIGN_UP_MESSAGES.emailTaken,
    );
  });

  it("with the stage's switch off, aliases are separate claims", async () => {
    const deps = realDeps(plane);
    const unfolded = createPreSignUpHandler({
      ...deps,
      policy: { ...deps.policy, foldMailboxAliases: false },
      publisher: deps.publisher(),
      directory: deps.admin,
      defaults: { tenant: "default", plan: "free", roles: [] },
      source: deps.source("pre-sign-up"),
    });
    const local = fresh();
    await unfolded(signUpEvent(`${local}@gmail.com`), fakeContext());
    await unfolded(signUpEvent(`${local}+promo@gmail.com`), fakeContext());
    expect(await claimOf(`${local}+promo@gmail.com`)).toBeDefined();
  });
});

describe("the claim follows the verified email (pre token generation)", () => {
  it("claims the new address, releases the old, and is idempotent run twice and concurrently", async () => {
    const owner = randomUUID();
    const old = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(old, owner), fakeContext());
    const changed = `${fresh()}@example.com`;
    const token = tokenHandler();
    await token(tokenEvent(owner, changed), fakeContext());
    await token(tokenEvent(owner, changed), fakeContext());
    await Promise.all([1, 2, 3].map(() => token(tokenEvent(owner, changed), fakeContext())));
    expect(await claimOf(old)).toBeUndefined();
    const claim = await claimOf(changed);
    expect(claim?.owner).toBe(owner);
    expect(claim?.expiresAt).toBeUndefined();
    expect(await claimsOwnedBy(owner)).toEqual([`EMAIL#${changed}`]);
  });

  it("an unverified email claims nothing and releases nothing", async () => {
    const owner = randomUUID();
    const old = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(old, owner), fakeContext());
    const changed = `${fresh()}@example.com`;
    await tokenHandler()(tokenEvent(owner, changed, { email_verified: "false" }), fakeContext());
    expect((await claimOf(old))?.owner).toBe(owner);
    expect(await claimOf(changed)).toBeUndefined();
  });

  it("a federated user never claims", async () => {
    const owner = `google_${Date.now()}`;
    const address = `${fresh()}@example.com`;
    await tokenHandler()(
      tokenEvent(owner, address, { "cognito:user_status": "EXTERNAL_PROVIDER" }),
      fakeContext(),
    );
    expect(await claimOf(address)).toBeUndefined();
  });

  it("an address another user holds is not stolen: the old claim is kept, the token issued", async () => {
    const victim = randomUUID();
    const local = fresh();
    await preSignUp(signUpEvent(`${local}@gmail.com`, victim), fakeContext());
    const changer = randomUUID();
    const own = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(own, changer), fakeContext());
    // Cognito sees a different address; the claim address (Gmail ignores dots) is the victim's.
    const result = await tokenHandler()(
      tokenEvent(changer, `${local.slice(0, 2)}.${local.slice(2)}@gmail.com`),
      fakeContext(),
    );
    expect(result.response.claimsAndScopeOverrideDetails).toBeDefined();
    expect((await claimOf(`${local}@gmail.com`))?.owner).toBe(victim);
    expect((await claimOf(own))?.owner).toBe(changer);
  });

  it("DynamoDB refusing the claim writes: the token is still issued, the next one finishes", async () => {
    const owner = randomUUID();
    const old = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(old, owner), fakeContext());
    const changed = `${fresh()}@example.com`;
    const broken = tokenHandler({
      dynamodb: failingClient(
        plane.dynamodb,
        ["UpdateCommand", "QueryCommand"],
        "InternalServerError",
      ),
    });
    const context = fakeContext();
    const result = await broken(tokenEvent(owner, changed), context);
    expect(context.answeredInTime()).toBe(true);
    expect(result.response.claimsAndScopeOverrideDetails).toBeDefined();
    expect((await claimOf(old))?.owner).toBe(owner);
    await tokenHandler()(tokenEvent(owner, changed), fakeContext());
    expect(await claimOf(old)).toBeUndefined();
    expect((await claimOf(changed))?.owner).toBe(owner);
  });
});

describe("deletion releases every claim by owner", () => {
  it("earlier addresses and alias forms included, run twice, nobody else's touched", async () => {
    const owner = randomUUID();
    const first = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(first, owner), fakeContext());
    // A claim left behind by an interrupted change: the user holds two addresses.
    const second = `${fresh()}@example.com`;
    await realDeps(plane).claims.claim({ canonicalEmail: second, owner, now: T0 });
    const someoneElse = randomUUID();
    const theirs = `${fresh()}@example.com`;
    await preSignUp(signUpEvent(theirs, someoneElse), fakeContext());

    const deletions = new DynamoUserDeletionStore(plane.dynamodb, plane.tableName);
    await deletions.releaseEmailClaimsOwnedBy(owner);
    await deletions.releaseEmailClaimsOwnedBy(owner);
    expect(await claimOf(first)).toBeUndefined();
    expect(await claimOf(second)).toBeUndefined();
    expect((await claimOf(theirs))?.owner).toBe(someoneElse);
  });
});
