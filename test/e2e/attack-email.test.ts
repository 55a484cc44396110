/**
 * Attacks on the one-account-per-mailbox rule (issue 12, section 3), end to end through the local
 * cloud booted from the stacks: the SDK's SignUp against the local user pool runs the real pre
 * sign-up trigger, an SRP sign-in (amazon-cognito-identity-js) runs the real pre token generation
 * trigger, and `DELETE /identity/me` runs the real deletion route.
 *
 * - an alias of an existing user's Gmail address signs up beside it;
 * - a mixed-script (Latin + Cyrillic) address signs up as a look-alike;
 * - a stale unconfirmed claim is taken over only after the code lifetime, never before;
 * - after a verified email change, the old address stays blocked and the new one unclaimed;
 * - after deletion, claims of the user other than the current address stay behind.
 *
 * Ageing a claim: the test rewrites the claim item's `claimedAt` through the table, a test
 * fixture standing in for a day passing; the triggers read the real clock.
 */
import { randomUUID } from "node:crypto";
import {
  AdminConfirmSignUpCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { deleteAccount } from "@boarding-pass/client";
import { SIGN_UP_CODE_LIFETIME_MS, SIGN_UP_MESSAGES } from "@boarding-pass/core/sign-up";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import { BOOT_TIMEOUT_MS, bootCloud, STEP_TIMEOUT_MS } from "@boarding-pass/testing/cloud";
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PASSWORD = "Corr3ct-Horse-Battery!";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

let cloud: LocalCloud;
let idp: CognitoIdentityProviderClient;
let table: DynamoDBDocumentClient;
let tableName: string;
let userPoolId: string;
let clientId: string;

beforeAll(async () => {
  cloud = await bootCloud();
  const sdk = { endpoint: cloud.endpoint, region: cloud.region, credentials };
  idp = new CognitoIdentityProviderClient(sdk);
  table = DynamoDBDocumentClient.from(new DynamoDBClient(sdk));
  tableName = cloud.output("TableName");
  userPoolId = cloud.output("UserPoolId");
  clientId = cloud.output("UserPoolClientId");
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  idp?.destroy();
  table?.destroy();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

/** A lowercase ASCII local part nobody else in this cloud uses. */
const fresh = () => `t${randomUUID().replace(/-/g, "").slice(0, 12)}`;

/** The same letters in fullwidth form: a different string to Cognito, one mailbox to NFKC. */
const fullwidth = (ascii: string) =>
  ascii.replace(/[a-z0-9]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));

async function signUp(email: string): Promise<string> {
  const { UserSub } = await idp.send(
    new SignUpCommand({
      ClientId: clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  return UserSub!;
}

/** The pre sign-up trigger's refusal, as Cognito reports it. */
async function refusal(email: string): Promise<{ name: string; message: string }> {
  try {
    await signUp(email);
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error(`SignUp of ${email} was accepted`);
}

const refusedWith = (message: string) => ({
  name: "UserLambdaValidationException",
  message: `PreSignUp failed with error ${message}.`,
});

async function confirmedUser(email: string): Promise<string> {
  const sub = await signUp(email);
  await idp.send(new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: email }));
  return sub;
}

function signIn(email: string): Promise<CognitoUserSession> {
  const pool = new CognitoUserPool({
    UserPoolId: userPoolId,
    ClientId: clientId,
    endpoint: cloud.endpoint,
  });
  const user = new CognitoUser({ Username: email, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: email, Password: PASSWORD }), {
      onSuccess: resolve,
      onFailure: reject,
    });
  });
}

/** A verified email change, as an administrator (or a confirmed attribute update) makes it. */
async function changeVerifiedEmail(username: string, email: string): Promise<void> {
  await idp.send(
    new AdminUpdateUserAttributesCommand({
      UserPoolId: userPoolId,
      Username: username,
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: "true" },
      ],
    }),
  );
}

async function claimOwner(address: string): Promise<string | undefined> {
  const { Item } = await table.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: `EMAIL#${address}`, sk: "EMAIL" },
      ConsistentRead: true,
    }),
  );
  return Item?.owner as string | undefined;
}

describe("attack: mailbox aliases make unlimited accounts", () => {
  it(
    "jo.hn+promo@googlemail.com signing up beside john@gmail.com is refused with the policy's message",
    async () => {
      const local = fresh();
      await signUp(`${local}@gmail.com`);
      const alias = `${local.slice(0, 4)}.${local.slice(4)}+promo@googlemail.com`;
      expect(await refusal(alias)).toEqual(refusedWith(SIGN_UP_MESSAGES.emailTaken));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a Latin local part with a Cyrillic а is refused as mixed-script, not accepted as a look-alike",
    async () => {
      const local = fresh();
      await signUp(`${local}a@example.com`);
      const lookAlike = `${local}\u0430@example.com`;
      expect(await refusal(lookAlike)).toEqual(refusedWith(SIGN_UP_MESSAGES.mixedScript));
      expect(await claimOwner(lookAlike)).toBeUndefined();
    },
    STEP_TIMEOUT_MS,
  );
});

describe("attack: email claims outlive their address", () => {
  it(
    "a stale UNCONFIRMED claim is taken over only after the code lifetime (Unicode variant included)",
    async () => {
      const local = fresh();
      const address = `${local}@example.com`;
      const squatter = await signUp(address);
      expect(await claimOwner(address)).toBe(squatter);
      // Inside the lifetime the squatter keeps it: the variant is the same mailbox.
      const variant = `${fullwidth(local)}@example.com`;
      expect(await refusal(variant)).toEqual(refusedWith(SIGN_UP_MESSAGES.emailTaken));

      // Fixture: the claim is 24 h and a minute old.
      const aged = new Date(Date.now() - SIGN_UP_CODE_LIFETIME_MS - 60_000).toISOString();
      await table.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: `EMAIL#${address}`, sk: "EMAIL" },
          UpdateExpression: "SET claimedAt = :aged",
          ExpressionAttributeValues: { ":aged": aged },
        }),
      );
      const taker = await signUp(variant);
      expect(await claimOwner(address)).toBe(taker);
      // And the squatter cannot renew it under yet another variant: the taker's claim is fresh.
      const another = `${fullwidth(local.slice(0, 1))}${local.slice(1)}@example.com`;
      expect(await refusal(another)).toEqual(refusedWith(SIGN_UP_MESSAGES.emailTaken));
      expect(await claimOwner(address)).toBe(taker);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "after a verified email change and a sign-in, the old address is free and the new one claimed",
    async () => {
      const old = `${fresh()}@example.com`;
      const changed = `${fresh()}@example.com`;
      const sub = await confirmedUser(old);
      await changeVerifiedEmail(old, changed);
      await signIn(changed);
      expect(await claimOwner(changed)).toBe(sub);
      expect(await claimOwner(old)).toBeUndefined();
      // Someone else may now sign up with the old address; nobody with a variant of the new one.
      const newcomer = await signUp(old);
      expect(await claimOwner(old)).toBe(newcomer);
      const changedLocal = changed.slice(0, changed.indexOf("@"));
      expect(await refusal(`${fullwidth(changedLocal)}@example.com`)).toEqual(
        refusedWith(SIGN_UP_MESSAGES.emailTaken),
      );
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a verified change to an address another user holds steals nothing: both claims stay",
    async () => {
      const local = fresh();
      const victim = await confirmedUser(`${local}@gmail.com`);
      const own = `${fresh()}@example.com`;
      const changer = await confirmedUser(own);
      // A different address to Cognito; the victim's mailbox to Gmail.
      const alias = `${local.slice(0, 3)}.${local.slice(3)}@gmail.com`;
      await changeVerifiedEmail(own, alias);
      await signIn(alias);
      expect(await claimOwner(`${local}@gmail.com`)).toBe(victim);
      expect(await claimOwner(own)).toBe(changer);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "after DELETE /identity/me every claim the user held is released, not only the current address",
    async () => {
      const first = `${fresh()}@example.com`;
      const current = `${fresh()}@example.com`;
      const leftover = `${fresh()}@example.com`;
      const sub = await confirmedUser(first);
      // Fixture: a claim an interrupted change left behind, owned by the user and indexed so.
      await table.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `EMAIL#${leftover}`,
            sk: "EMAIL",
            owner: sub,
            claimedAt: new Date().toISOString(),
            gsi1pk: `EMAILOWNER#${sub}`,
            gsi1sk: `EMAIL#${leftover}`,
          },
        }),
      );
      await changeVerifiedEmail(first, current);
      const session = await signIn(current);
      await deleteAccount({
        apiUrl: cloud.output("ApiUrl"),
        accessToken: session.getAccessToken().getJwtToken(),
      });
      for (const address of [first, current, leftover]) {
        expect(await claimOwner(address), address).toBeUndefined();
      }
      // Each address can start a new account.
      for (const address of [first, current, leftover]) await signUp(address);
    },
    STEP_TIMEOUT_MS,
  );
});
