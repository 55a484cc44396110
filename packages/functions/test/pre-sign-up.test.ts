import { randomUUID } from "node:crypto";
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { eventId } from "@boarding-pass/core/events";
import { SIGN_UP_DENIED_MESSAGE, SIGN_UP_MESSAGES } from "@boarding-pass/core/sign-up";
import { fakeContext } from "@boarding-pass/testing";
import { type Plane, startPlane } from "@boarding-pass/testing/trigger-plane";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDeps } from "./support/deps";
import { stallingClient } from "./support/faults";
import { fixture, freshEmail } from "./support/fixtures";

let plane: Plane;
let handler: typeof import("../src/cognito/pre-sign-up").handler;
let createPreSignUpHandler: typeof import("../src/cognito/handlers/pre-sign-up").createPreSignUpHandler;
let UNAVAILABLE_MESSAGE: string;

beforeAll(async () => {
  plane = await startPlane();
  ({ handler } = await import("../src/cognito/pre-sign-up"));
  ({ createPreSignUpHandler, UNAVAILABLE_MESSAGE } = await import(
    "../src/cognito/handlers/pre-sign-up"
  ));
});
afterAll(async () => {
  await plane?.stop();
});

function signUpEvent(email: unknown, userName: string = randomUUID()): PreSignUpTriggerEvent {
  const event = fixture<PreSignUpTriggerEvent>("pre-sign-up-sign-up");
  event.userPoolId = plane.userPoolId;
  event.userName = userName;
  (event.request.userAttributes as Record<string, unknown>).email = email;
  return event;
}

function externalEvent(
  email: string,
  options: { provider?: string; verified?: string; providerUserId?: string } = {},
): PreSignUpTriggerEvent {
  const event = fixture<PreSignUpTriggerEvent>("pre-sign-up-external-provider");
  event.userPoolId = plane.userPoolId;
  event.userName = `${options.provider ?? "google"}_${options.providerUserId ?? String(Date.now()) + Math.floor(Math.random() * 1e6)}`;
  event.request.userAttributes.email = email;
  event.request.userAttributes.email_verified = options.verified ?? "true";
  return event;
}

async function claimOf(canonical: string) {
  const { Item } = await plane.dynamodb.send(
    new GetCommand({
      TableName: plane.tableName,
      Key: { pk: `EMAIL#${canonical}`, sk: "EMAIL" },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** A lowercase ASCII prefix, so table cases never collide with other runs or cases. */
const freshLocal = () =>
  randomUUID()
    .replace(/[^a-f]/g, "")
    .slice(0, 8)
    .padEnd(8, "a");

describe("native sign-up", () => {
  it("claims the canonical email for the user and lets the sign-up through", async () => {
    const local = freshLocal();
    const event = signUpEvent(`${local.toUpperCase()}@Example.COM`);
    const result = await handler(structuredClone(event), fakeContext());
    expect(result.response).toEqual({
      autoConfirmUser: false,
      autoVerifyEmail: false,
      autoVerifyPhone: false,
    });
    const claim = await claimOf(`${local}@example.com`);
    expect(claim).toMatchObject({ owner: event.userName });
    expect(typeof claim?.expiresAt).toBe("number");
  });

  it("a retry of the same sign-up is not a conflict; another user with a case variant is refused", async () => {
    const local = freshLocal();
    const event = signUpEvent(`${local}@example.com`);
    await handler(structuredClone(event), fakeContext());
    await expect(handler(structuredClone(event), fakeContext())).resolves.toBeDefined();
    await expect(
      handler(signUpEvent(`${local.toUpperCase()}@EXAMPLE.com`), fakeContext()),
    ).rejects.toThrow(SIGN_UP_MESSAGES.emailTaken);
  });

  // [first address, second address, same mailbox?]
  const unicodeCases: Array<[string, (p: string) => [string, string], boolean]> = [
    ["ß folds to ss", (p) => [`${p}strasse@example.com`, `${p}STRAßE@example.com`], true],
    ["capital ẞ folds to ss", (p) => [`${p}strasse@example.com`, `${p}STRAẞE@example.com`], true],
    ["long s ſ is s", (p) => [`${p}sam@example.com`, `${p}ſam@example.com`], true],
    ["Kelvin sign is k", (p) => [`${p}kelvin@example.com`, `${p}\u212Aelvin@example.com`], true],
    ["fullwidth letters are ASCII", (p) => [`${p}ada@example.com`, `${p}ａｄａ@example.com`], true],
    [
      "IDN domain equals its punycode",
      (p) => [`${p}@bücher.example`, `${p}@XN--BCHER-KVA.example`],
      true,
    ],
    ["dotless ı is not i", (p) => [`${p}idil@example.com`, `${p}ıdil@example.com`], false],
    ["dotted İ is not plain i", (p) => [`${p}irem@example.com`, `${p}İrem@example.com`], false],
    ["straße.de is not strasse.de", (p) => [`${p}@strasse.example`, `${p}@straße.example`], false],
    // Whole-Cyrillic and whole-Latin local parts are different mailboxes (a mix is refused below).
    ["Cyrillic ада is not Latin ada", (p) => [`ada@${p}.example`, `ада@${p}.example`], false],
  ];
  it.each(unicodeCases)("%s", async (_name, addresses, sameMailbox) => {
    const [first, second] = addresses(freshLocal());
    await handler(signUpEvent(first), fakeContext());
    const other = handler(signUpEvent(second), fakeContext());
    if (sameMailbox) await expect(other).rejects.toThrow(SIGN_UP_MESSAGES.emailTaken);
    else await expect(other).resolves.toBeDefined();
  });

  it("a Cyrillic а inside a Latin local part is refused as mixed-script, never folded or claimed", async () => {
    const local = freshLocal();
    await expect(handler(signUpEvent(`${local}\u0430@example.com`), fakeContext())).rejects.toThrow(
      SIGN_UP_MESSAGES.mixedScript,
    );
    expect(await claimOf(`${local}\u0430@example.com`)).toBeUndefined();
  });

  it("applies the stage policy: denied domains refused, auto-confirm domains confirmed but not verified", async () => {
    await expect(
      handler(signUpEvent(freshEmail("blocked.example")), fakeContext()),
    ).rejects.toThrow(SIGN_UP_DENIED_MESSAGE);
    const result = await handler(signUpEvent(freshEmail("autoconfirm.example")), fakeContext());
    expect(result.response).toMatchObject({ autoConfirmUser: true, autoVerifyEmail: false });
  });

  it("AdminCreateUser: claims without expiry, flags left false", async () => {
    const event = fixture<PreSignUpTriggerEvent>("pre-sign-up-admin-create-user");
    const email = freshEmail();
    event.userName = randomUUID();
    event.request.userAttributes.email = email;
    const result = await handler(event, fakeContext());
    expect(result.response).toMatchObject({ autoConfirmUser: false, autoVerifyEmail: false });
    const claim = await claimOf(email);
    expect(claim).toMatchObject({ owner: event.userName });
    expect(claim?.expiresAt).toBeUndefined();
  });
});

describe("external providers", () => {
  const providerIdentities = async (username: string) => {
    const idp = new CognitoIdentityProviderClient({
      ...plane.sdk,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const { UserAttributes } = await idp.send(
      new AdminGetUserCommand({ UserPoolId: plane.userPoolId, Username: username }),
    );
    idp.destroy();
    return UserAttributes?.find((attribute) => attribute.Name === "identities")?.Value ?? "";
  };

  it("links a trusted, verified federated email to the verified native user and emits federated-linked", async () => {
    const email = freshEmail();
    const native = await plane.createNativeUser(email, true);
    const event = externalEvent(email.toUpperCase());
    const result = await handler(structuredClone(event), fakeContext());
    expect(result.response).toMatchObject({ autoConfirmUser: false, autoVerifyEmail: true });
    expect(await providerIdentities(native.username)).toContain(
      event.userName.slice("google_".length),
    );
    const id = eventId("boardingpass.user.federated-linked.v1", native.sub, "Google");
    const sns = await plane.snsEventsFor(native.sub);
    expect(sns.map((d) => d.event.id)).toEqual([id]);
    expect(sns[0]?.event.data).toEqual({
      sub: native.sub,
      tenant: "default",
      providerName: "Google",
    });
    expect((await plane.kinesisEventsFor(native.sub)).map((r) => r.event.id)).toEqual([id]);

    // Cognito's retry of the same sign-in: already linked by us, same single event
    await expect(handler(structuredClone(event), fakeContext())).resolves.toBeDefined();
    expect((await plane.snsEventsFor(native.sub)).map((d) => d.event.id)).toEqual([id]);
  });

  it.each([
    ["the native email is unverified", { nativeVerified: false }],
    ["the IdP did not verify the email", { federatedVerified: "false" }],
    ["the provider is not trusted", { provider: "facebook" }],
  ])("never links when %s: a separate user, no event", async (_name, variant) => {
    const options = variant as {
      nativeVerified?: boolean;
      federatedVerified?: string;
      provider?: string;
    };
    const email = freshEmail();
    const native = await plane.createNativeUser(email, options.nativeVerified ?? true);
    const event = externalEvent(email, {
      ...(options.provider ? { provider: options.provider } : {}),
      ...(options.federatedVerified ? { verified: options.federatedVerified } : {}),
    });
    const result = await handler(structuredClone(event), fakeContext());
    expect(result.response).toMatchObject({ autoConfirmUser: false });
    expect(await providerIdentities(native.username)).toBe("");
    expect(await plane.snsEventsFor(native.sub)).toEqual([]);
  });

  it("finds the native user through the email claim when the addresses differ only in case folding", async () => {
    const local = freshLocal();
    const native = await plane.createNativeUser(`${local}STRAẞE@example.com`, true);
    // The native sign-up claimed the canonical address for its username
    await handler(signUpEvent(`${local}STRAẞE@example.com`, native.username), fakeContext());
    const event = externalEvent(`${local}strasse@example.com`);
    await handler(structuredClone(event), fakeContext());
    expect(await providerIdentities(native.username)).toContain(
      event.userName.slice("google_".length),
    );
    expect((await plane.snsEventsFor(native.sub)).map((d) => d.event.type)).toEqual([
      "boardingpass.user.federated-linked.v1",
    ]);
  });

  it("with no native user, the federated user signs up separately without claiming the email", async () => {
    const email = freshEmail();
    const result = await handler(externalEvent(email), fakeContext());
    expect(result.response).toMatchObject({ autoVerifyEmail: true });
    expect(await claimOf(email)).toBeUndefined();
  });
});

/** An event as a test may bend it: any field, any type. */
type OddEvent = Record<string, unknown> & { request: { userAttributes: Record<string, unknown> } };

describe("odd input never crashes", () => {
  const safeMessages = [...Object.values(SIGN_UP_MESSAGES), SIGN_UP_DENIED_MESSAGE];
  const corpus: Array<[string, (event: OddEvent) => void]> = [
    ["missing email", (e) => Reflect.deleteProperty(e.request.userAttributes, "email")],
    ["email is a number", (e) => (e.request.userAttributes.email = 42)],
    ["email is an object", (e) => (e.request.userAttributes.email = { toString: "x" })],
    ["empty email", (e) => (e.request.userAttributes.email = "")],
    ["no @", (e) => (e.request.userAttributes.email = "not-an-email")],
    [
      "oversized email",
      (e) => (e.request.userAttributes.email = `${"a".repeat(100_000)}@example.com`),
    ],
    ["control characters", (e) => (e.request.userAttributes.email = "a\u0000b@example.com")],
    ["zero-width joiner", (e) => (e.request.userAttributes.email = "a\u200db@example.com")],
    ["quoted local part", (e) => (e.request.userAttributes.email = '"a@b"@example.com')],
    ["IPv4 domain", (e) => (e.request.userAttributes.email = "a@127.0.0.1")],
    ["no userAttributes", (e) => Reflect.deleteProperty(e.request, "userAttributes")],
    ["request is null", (e) => Reflect.set(e, "request", null)],
    ["no request", (e) => Reflect.deleteProperty(e, "request")],
    ["userName missing", (e) => Reflect.deleteProperty(e, "userName")],
  ];
  it.each(corpus)("%s: refused with a user-safe message", async (_name, mutate) => {
    const event = signUpEvent(freshEmail()) as unknown as OddEvent;
    mutate(event);
    const outcome = await handler(event as unknown as PreSignUpTriggerEvent, fakeContext()).then(
      () => "allowed",
      (error: Error) => error.message,
    );
    expect(safeMessages).toContain(outcome);
  });

  it("unknown trigger sources and extra fields pass through unchanged", async () => {
    const event = signUpEvent(freshEmail()) as unknown as OddEvent;
    event.triggerSource = "PreSignUp_SomethingNew";
    event.extra = { nested: [1, 2, 3] };
    const before = structuredClone(event);
    expect(await handler(event as unknown as PreSignUpTriggerEvent, fakeContext())).toEqual(before);
  });

  it("an external-provider event without an email passes through", async () => {
    const event = externalEvent(freshEmail()) as unknown as OddEvent;
    Reflect.deleteProperty(event.request.userAttributes, "email");
    const before = structuredClone(event);
    expect(await handler(event as unknown as PreSignUpTriggerEvent, fakeContext())).toEqual(before);
  });
});

describe("faults", () => {
  it("DynamoDB stalling: a generic retryable message, answered before the deadline", async () => {
    const deps = realDeps(plane, { dynamodb: stallingClient(plane.dynamodb, ["UpdateCommand"]) });
    const stalled = createPreSignUpHandler({
      ...deps,
      publisher: deps.publisher(),
      directory: deps.admin,
      defaults: { tenant: "default", plan: "free", roles: [] },
      source: deps.source("pre-sign-up"),
    });
    const context = fakeContext(5000);
    await expect(stalled(signUpEvent(freshEmail()), context)).rejects.toThrow(UNAVAILABLE_MESSAGE);
    expect(context.answeredInTime()).toBe(true);
  });
});
