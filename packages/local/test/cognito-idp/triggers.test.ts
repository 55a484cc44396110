/**
 * User-pool Lambda triggers through a recording `invokeTrigger`: every source's event shape,
 * Cognito's response handling, its budget with retries on timeout, and its error mapping.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateUserPoolCommand,
  FeatureUnavailableInTierException,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  InvalidLambdaResponseException,
  RespondToAuthChallengeCommand,
  SignUpCommand,
  UnexpectedLambdaException,
  UserLambdaValidationException,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { UserPoolDefinition } from "../../src/services/cognito-idp/index";
import { type CognitoHarness, freshEmail, PASSWORD, startCognito } from "./harness";

const ARN = {
  preSignUp: "arn:aws:lambda:us-east-1:000000000000:function:pre-sign-up",
  postConfirmation: "arn:aws:lambda:us-east-1:000000000000:function:post-confirmation",
  preToken: "arn:aws:lambda:us-east-1:000000000000:function:pre-token-generation",
};
const TIMEOUT_MS = 150;

type Handler = (event: Record<string, unknown>) => Promise<object | undefined>;
interface Invocation {
  arn: string;
  event: Record<string, unknown>;
  timeoutMs: number;
}

let h: CognitoHarness;
let calls: Invocation[];
let handlers: Record<string, Handler>;

beforeAll(async () => {
  h = await startCognito({
    triggerTimeoutMs: TIMEOUT_MS,
    invokeTrigger: async (arn, event, { timeoutMs }) => {
      // Record a deep copy: what Cognito sent, not what a handler later mutated.
      calls.push({ arn, event: structuredClone(event) as Record<string, unknown>, timeoutMs });
      const handler = handlers[arn];
      const result = handler ? await handler(event as Record<string, unknown>) : undefined;
      return result ?? event;
    },
  });
});
beforeEach(() => {
  calls = [];
  handlers = {};
});
afterAll(async () => {
  await h.stop();
});

function pool(
  extra: Partial<UserPoolDefinition> = {},
  lambda: UserPoolDefinition["LambdaConfig"] = {},
) {
  const created = h.cognito.createUserPool({
    UsernameAttributes: ["email"],
    AutoVerifiedAttributes: ["email"],
    LambdaConfig: { PreSignUp: ARN.preSignUp, PostConfirmation: ARN.postConfirmation, ...lambda },
    ...extra,
  });
  const { ClientId } = h.cognito.createUserPoolClient(created.Id, {
    ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  });
  return { poolId: created.Id, clientId: ClientId };
}

function eventsFor(arn: string) {
  return calls.filter((call) => call.arn === arn).map((call) => call.event);
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function signIn(clientId: string, email: string, password = PASSWORD) {
  const result = await h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  return result.AuthenticationResult!;
}

async function confirmedUser(clientId: string, email = freshEmail()) {
  await h.client.send(
    new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
  );
  await h.client.send(
    new ConfirmSignUpCommand({
      ClientId: clientId,
      Username: email,
      ConfirmationCode: await h.latestCode(email),
    }),
  );
  return email;
}

describe("pre sign-up", () => {
  it("PreSignUp_SignUp: Cognito's event shape, then post confirmation after ConfirmSignUp", async () => {
    const { poolId, clientId } = pool();
    const email = freshEmail();
    const signUp = await h.client.send(
      new SignUpCommand({
        ClientId: clientId,
        Username: email,
        Password: PASSWORD,
        ValidationData: [{ Name: "captcha", Value: "ok" }],
        ClientMetadata: { origin: "web" },
      }),
    );
    const [preSignUp] = eventsFor(ARN.preSignUp);
    expect(preSignUp).toEqual({
      version: "1",
      triggerSource: "PreSignUp_SignUp",
      region: "us-east-1",
      userPoolId: poolId,
      userName: signUp.UserSub,
      callerContext: { awsSdkVersion: expect.any(String), clientId },
      request: {
        userAttributes: { email },
        validationData: { captcha: "ok" },
        clientMetadata: { origin: "web" },
      },
      response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
    });
    expect(calls[0]?.timeoutMs).toBe(TIMEOUT_MS);
    expect(eventsFor(ARN.postConfirmation)).toHaveLength(0);

    await h.client.send(
      new ConfirmSignUpCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: await h.latestCode(email),
        ClientMetadata: { step: "confirm" },
      }),
    );
    expect(eventsFor(ARN.postConfirmation)).toEqual([
      {
        version: "1",
        triggerSource: "PostConfirmation_ConfirmSignUp",
        region: "us-east-1",
        userPoolId: poolId,
        userName: signUp.UserSub,
        callerContext: { awsSdkVersion: expect.any(String), clientId },
        request: {
          userAttributes: {
            sub: signUp.UserSub,
            email,
            email_verified: "true",
            "cognito:user_status": "CONFIRMED",
            "cognito:email_alias": email,
          },
          clientMetadata: { step: "confirm" },
        },
        response: {},
      },
    ]);
  });

  it("honours autoConfirmUser and autoVerifyEmail for SignUp", async () => {
    const { poolId, clientId } = pool();
    handlers[ARN.preSignUp] = async (event) => ({
      ...event,
      response: { autoConfirmUser: true, autoVerifyEmail: true, autoVerifyPhone: false },
    });
    const email = freshEmail();
    const signUp = await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    expect(signUp.UserConfirmed).toBe(true);
    expect(signUp.CodeDeliveryDetails).toBeUndefined();
    const user = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(user.UserStatus).toBe("CONFIRMED");
    expect(user.UserAttributes).toContainEqual({ Name: "email_verified", Value: "true" });
    await signIn(clientId, email);
  });

  it("PreSignUp_AdminCreateUser: flags ignored, no client, no post confirmation", async () => {
    const { poolId } = pool();
    handlers[ARN.preSignUp] = async (event) => ({
      ...event,
      response: { autoConfirmUser: true, autoVerifyEmail: true, autoVerifyPhone: true },
    });
    const email = freshEmail();
    const created = await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        MessageAction: "SUPPRESS",
        TemporaryPassword: "Temp-pass-1!",
        UserAttributes: [{ Name: "email", Value: email }],
        ClientMetadata: { by: "ops" },
      }),
    );
    expect(created.User?.UserStatus).toBe("FORCE_CHANGE_PASSWORD");
    expect(created.User?.Attributes).not.toContainEqual({ Name: "email_verified", Value: "true" });
    const [event] = eventsFor(ARN.preSignUp);
    expect(event).toMatchObject({
      triggerSource: "PreSignUp_AdminCreateUser",
      callerContext: { clientId: "CLIENT_ID_NOT_APPLICABLE" },
      request: { userAttributes: { email }, clientMetadata: { by: "ops" } },
    });
    expect(eventsFor(ARN.postConfirmation)).toHaveLength(0);
  });

  it("PreSignUp_ExternalProvider on a federated first sign-in, then post confirmation and HostedAuth", async () => {
    const { poolId, clientId } = pool({}, { PreTokenGeneration: ARN.preToken });
    const tokens = await h.cognito.signInWithExternalProvider(poolId, clientId, {
      providerName: "Google",
      providerUserId: "1234567890",
      attributes: { email: "federated@example.com" },
    });
    expect(calls.map((call) => (call.event as { triggerSource: string }).triggerSource)).toEqual([
      "PreSignUp_ExternalProvider",
      "PostConfirmation_ConfirmSignUp",
      "TokenGeneration_HostedAuth",
    ]);
    expect(eventsFor(ARN.preSignUp)[0]).toMatchObject({
      userName: "google_1234567890",
      request: {
        userAttributes: {
          email: "federated@example.com",
          "cognito:email_alias": "",
          "cognito:phone_number_alias": "",
        },
        validationData: {},
      },
    });
    const id = claimsOf(tokens.IdToken);
    expect(id["cognito:username"]).toBe("google_1234567890");
    expect(id.identities).toEqual([
      expect.objectContaining({ providerName: "Google", userId: "1234567890" }),
    ]);

    calls = [];
    await h.cognito.signInWithExternalProvider(poolId, clientId, {
      providerName: "Google",
      providerUserId: "1234567890",
    });
    expect(calls.map((call) => (call.event as { triggerSource: string }).triggerSource)).toEqual([
      "TokenGeneration_HostedAuth",
    ]);
  });

  it("a throwing trigger's message reaches the client, and no user is created", async () => {
    const { poolId, clientId } = pool();
    handlers[ARN.preSignUp] = async () => {
      throw new Error("Sign-ups from this domain are closed");
    };
    const email = freshEmail();
    const attempt = h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await expect(attempt).rejects.toBeInstanceOf(UserLambdaValidationException);
    await expect(attempt).rejects.toThrow(
      "PreSignUp failed with error Sign-ups from this domain are closed.",
    );
    expect(eventsFor(ARN.preSignUp)).toHaveLength(1);
    await expect(
      h.client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email })),
    ).rejects.toBeInstanceOf(UserNotFoundException);
  });
});

describe("post confirmation", () => {
  it("fires for AdminConfirmSignUp and for every ConfirmForgotPassword", async () => {
    const { poolId, clientId } = pool();
    const email = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    expect(eventsFor(ARN.postConfirmation)).toEqual([
      expect.objectContaining({
        triggerSource: "PostConfirmation_ConfirmSignUp",
        callerContext: expect.objectContaining({ clientId: "CLIENT_ID_NOT_APPLICABLE" }),
      }),
    ]);

    const verified = await confirmedUser(clientId);
    calls = [];
    await h.client.send(new ForgotPasswordCommand({ ClientId: clientId, Username: verified }));
    await h.client.send(
      new ConfirmForgotPasswordCommand({
        ClientId: clientId,
        Username: verified,
        ConfirmationCode: await h.latestCode(verified),
        Password: "N3w-password!",
      }),
    );
    expect(eventsFor(ARN.postConfirmation)).toEqual([
      expect.objectContaining({
        version: "1",
        triggerSource: "PostConfirmation_ConfirmForgotPassword",
        request: expect.objectContaining({
          userAttributes: expect.objectContaining({ email: verified }),
        }),
        response: {},
      }),
    ]);
  });

  it("a failing post confirmation fails the call but leaves the user confirmed, as Cognito does", async () => {
    const { poolId, clientId } = pool();
    handlers[ARN.postConfirmation] = async () => {
      throw new Error("profile store unavailable");
    };
    const email = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await expect(
      h.client.send(
        new ConfirmSignUpCommand({
          ClientId: clientId,
          Username: email,
          ConfirmationCode: await h.latestCode(email),
        }),
      ),
    ).rejects.toThrow("PostConfirmation failed with error profile store unavailable.");
    const user = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(user.UserStatus).toBe("CONFIRMED");
  });
});

describe("timeouts and retries", () => {
  it("retries a slow trigger, three attempts in all, then fails the operation", async () => {
    const { clientId } = pool();
    handlers[ARN.preSignUp] = async (event) => {
      await sleep(TIMEOUT_MS * 3);
      return event;
    };
    const attempt = h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: freshEmail(), Password: PASSWORD }),
    );
    await expect(attempt).rejects.toBeInstanceOf(UnexpectedLambdaException);
    await expect(attempt).rejects.toThrow(
      "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.",
    );
    expect(eventsFor(ARN.preSignUp)).toHaveLength(3);
  });

  it("a trigger slow only once succeeds on the retry", async () => {
    const { clientId } = pool();
    let attempts = 0;
    handlers[ARN.preSignUp] = async (event) => {
      attempts++;
      if (attempts === 1) await sleep(TIMEOUT_MS * 3);
      return event;
    };
    const signUp = await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: freshEmail(), Password: PASSWORD }),
    );
    expect(signUp.UserSub).toBeDefined();
    expect(eventsFor(ARN.preSignUp)).toHaveLength(2);
  });
});

describe("pre token generation V1", () => {
  it("changes the ID token only; suppress wins over add; group override replaces groups", async () => {
    const { poolId, clientId } = pool({}, { PreTokenGeneration: ARN.preToken });
    h.cognito.createGroup(poolId, {
      GroupName: "crew",
      Precedence: 5,
      RoleArn: "arn:aws:iam::000000000000:role/Crew",
    });
    const email = await confirmedUser(clientId);
    await h.client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: "crew" }),
    );
    handlers[ARN.preToken] = async (event) => ({
      ...event,
      response: {
        claimsOverrideDetails: {
          claimsToAddOrOverride: { tier: "gold", email: "override@example.com", dropped: "x" },
          claimsToSuppress: ["dropped"],
          groupOverrideDetails: {
            groupsToOverride: ["pilots"],
            iamRolesToOverride: ["arn:aws:iam::000000000000:role/Pilot"],
            preferredRole: "arn:aws:iam::000000000000:role/Pilot",
          },
        },
      },
    });
    const tokens = await signIn(clientId, email);
    const [event] = eventsFor(ARN.preToken);
    expect(event).toMatchObject({
      version: "1",
      triggerSource: "TokenGeneration_Authentication",
      userPoolId: poolId,
      callerContext: { clientId },
      request: {
        userAttributes: expect.objectContaining({ email, "cognito:user_status": "CONFIRMED" }),
        groupConfiguration: {
          groupsToOverride: ["crew"],
          iamRolesToOverride: ["arn:aws:iam::000000000000:role/Crew"],
          preferredRole: "arn:aws:iam::000000000000:role/Crew",
        },
      },
      response: { claimsOverrideDetails: null },
    });
    expect(event?.request).not.toHaveProperty("scopes");
    expect(event?.request).not.toHaveProperty("clientMetadata");

    const id = claimsOf(tokens.IdToken!);
    expect(id).toMatchObject({
      tier: "gold",
      email: "override@example.com",
      "cognito:groups": ["pilots"],
      "cognito:roles": ["arn:aws:iam::000000000000:role/Pilot"],
      "cognito:preferred_role": "arn:aws:iam::000000000000:role/Pilot",
    });
    expect(id).not.toHaveProperty("dropped");
    const access = claimsOf(tokens.AccessToken!);
    expect(access).not.toHaveProperty("tier");
    expect(access["cognito:groups"]).toEqual(["pilots"]);
    expect(access.scope).toBe("aws.cognito.signin.user.admin");

    calls = [];
    await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! },
      }),
    );
    expect(eventsFor(ARN.preToken)[0]).toMatchObject({
      triggerSource: "TokenGeneration_RefreshTokens",
    });
  });

  it("TokenGeneration_NewPasswordChallenge after NEW_PASSWORD_REQUIRED", async () => {
    const { poolId, clientId } = pool({}, { PreTokenGeneration: ARN.preToken });
    const email = freshEmail();
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        TemporaryPassword: "Temp-pass-1!",
        MessageAction: "SUPPRESS",
      }),
    );
    const challenge = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: "Temp-pass-1!" },
      }),
    );
    expect(eventsFor(ARN.preToken)).toHaveLength(0);
    await h.client.send(
      new RespondToAuthChallengeCommand({
        ClientId: clientId,
        ChallengeName: "NEW_PASSWORD_REQUIRED",
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
      }),
    );
    expect(eventsFor(ARN.preToken)[0]).toMatchObject({
      triggerSource: "TokenGeneration_NewPasswordChallenge",
    });
  });

  it("refuses a forbidden claim and maps a throwing trigger to no tokens", async () => {
    const { clientId } = pool({}, { PreTokenGeneration: ARN.preToken });
    const email = await confirmedUser(clientId);
    handlers[ARN.preToken] = async (event) => ({
      ...event,
      response: { claimsOverrideDetails: { claimsToAddOrOverride: { sub: "someone-else" } } },
    });
    await expect(signIn(clientId, email)).rejects.toBeInstanceOf(InvalidLambdaResponseException);
    handlers[ARN.preToken] = async (event) => ({
      ...event,
      response: { claimsOverrideDetails: { claimsToSuppress: ["cognito:username"] } },
    });
    await expect(signIn(clientId, email)).rejects.toBeInstanceOf(InvalidLambdaResponseException);
    handlers[ARN.preToken] = async () => {
      throw new Error("profile missing");
    };
    const attempt = signIn(clientId, email);
    await expect(attempt).rejects.toBeInstanceOf(UserLambdaValidationException);
    await expect(attempt).rejects.toThrow("PreTokenGeneration failed with error profile missing.");
  });
});

describe("pre token generation V2", () => {
  // "In user pools with the Essentials or Plus feature plan, you can generate the version two or
  // V2_0 trigger event" (user-pool-lambda-pre-token-generation.html); CreateUserPool's
  // UserPoolTier "Defaults to ESSENTIALS" (API_CreateUserPool.html).
  it("runs V2_0 and V3_0 on the default tier (Essentials); LITE refuses them", async () => {
    for (const LambdaVersion of ["V2_0", "V3_0"] as const) {
      const { clientId } = pool(
        {},
        { PreTokenGenerationConfig: { LambdaArn: ARN.preToken, LambdaVersion } },
      );
      const email = await confirmedUser(clientId);
      calls = [];
      await signIn(clientId, email);
      expect(eventsFor(ARN.preToken)[0]).toMatchObject({
        version: LambdaVersion === "V2_0" ? "2" : "3",
      });
    }
    const lite = await h.client
      .send(
        new CreateUserPoolCommand({
          PoolName: "lite",
          UserPoolTier: "LITE",
          LambdaConfig: {
            PreTokenGenerationConfig: { LambdaArn: ARN.preToken, LambdaVersion: "V2_0" },
          },
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(lite).toBeInstanceOf(FeatureUnavailableInTierException);
  });

  it("changes both tokens, scopes, and groups (an empty override removes them)", async () => {
    const { poolId, clientId } = pool(
      { UserPoolTier: "ESSENTIALS" },
      { PreTokenGenerationConfig: { LambdaArn: ARN.preToken, LambdaVersion: "V2_0" } },
    );
    h.cognito.createGroup(poolId, { GroupName: "crew", Precedence: 1 });
    const email = await confirmedUser(clientId);
    await h.client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: "crew" }),
    );
    handlers[ARN.preToken] = async (event) => ({
      ...event,
      response: {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: {
            claimsToAddOrOverride: { profile_id: "p-1", flags: ["beta"] },
            claimsToSuppress: ["email"],
          },
          accessTokenGeneration: {
            claimsToAddOrOverride: { tenant: "acme", dropped: "x" },
            claimsToSuppress: ["dropped"],
            scopesToAdd: ["boarding/read", "boarding/write"],
            scopesToSuppress: ["boarding/write", "aws.cognito.signin.user.admin"],
          },
          groupOverrideDetails: {},
        },
      },
    });
    const tokens = await signIn(clientId, email);
    const [event] = eventsFor(ARN.preToken);
    expect(event).toMatchObject({
      version: "2",
      triggerSource: "TokenGeneration_Authentication",
      request: {
        userAttributes: expect.objectContaining({ email }),
        groupConfiguration: {
          groupsToOverride: ["crew"],
          iamRolesToOverride: [],
          preferredRole: null,
        },
        scopes: ["aws.cognito.signin.user.admin"],
      },
      response: { claimsAndScopeOverrideDetails: null },
    });
    const id = claimsOf(tokens.IdToken!);
    expect(id).toMatchObject({ profile_id: "p-1", flags: ["beta"] });
    expect(id).not.toHaveProperty("email");
    expect(id).not.toHaveProperty("cognito:groups");
    expect(id).not.toHaveProperty("tenant");
    const access = claimsOf(tokens.AccessToken!);
    expect(access).toMatchObject({ tenant: "acme", scope: "boarding/read" });
    expect(access).not.toHaveProperty("dropped");
    expect(access).not.toHaveProperty("cognito:groups");
    expect(access).not.toHaveProperty("profile_id");
  });

  it("refuses a forbidden claim in the access token", async () => {
    const { clientId } = pool(
      { UserPoolTier: "PLUS" },
      { PreTokenGenerationConfig: { LambdaArn: ARN.preToken, LambdaVersion: "V2_0" } },
    );
    const email = await confirmedUser(clientId);
    handlers[ARN.preToken] = async (event) => ({
      ...event,
      response: {
        claimsAndScopeOverrideDetails: {
          accessTokenGeneration: { claimsToAddOrOverride: { origin_jti: "forged" } },
        },
      },
    });
    await expect(signIn(clientId, email)).rejects.toBeInstanceOf(InvalidLambdaResponseException);
  });
});

/**
 * The project's real-shape trigger fixtures (test/events/cognito) are what the handlers are
 * written against: the emulator's events must have the same structure, key for key and type for
 * type (values differ: ids, names, times).
 */
describe("events match the project's real-shape fixtures", () => {
  const fixtures = join(__dirname, "..", "..", "..", "..", "test", "events", "cognito");
  const fixture = (name: string) =>
    JSON.parse(readFileSync(join(fixtures, `${name}.json`), "utf8")) as Record<string, unknown>;

  /** Keys and JSON types, recursively; user attributes reduced to the `cognito:` ones. */
  function shape(value: unknown, path = ""): unknown {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value !== "object") return typeof value;
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !(path.endsWith("userAttributes") && !key.startsWith("cognito:")))
      .map(([key, entry]) => [key, shape(entry, `${path}.${key}`)] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries);
  }

  function expectSameShape(ours: unknown, name: string) {
    expect(shape(ours)).toEqual(shape(fixture(name)));
  }

  it("pre sign-up (SignUp, AdminCreateUser, ExternalProvider) and post confirmation", async () => {
    const { poolId, clientId } = pool({}, { PreTokenGeneration: ARN.preToken });
    const email = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    expectSameShape(eventsFor(ARN.preSignUp)[0], "pre-sign-up-sign-up");
    await h.client.send(
      new ConfirmSignUpCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: await h.latestCode(email),
      }),
    );
    expectSameShape(eventsFor(ARN.postConfirmation)[0], "post-confirmation-confirm-sign-up");
    await h.client.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
    await h.client.send(
      new ConfirmForgotPasswordCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: await h.latestCode(email),
        Password: "N3w-password!",
      }),
    );
    expectSameShape(
      eventsFor(ARN.postConfirmation)[1],
      "post-confirmation-confirm-forgot-password",
    );

    calls = [];
    const invited = freshEmail();
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: invited,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: invited },
          { Name: "email_verified", Value: "true" },
        ],
        ClientMetadata: { invitedBy: "support-console" },
      }),
    );
    expectSameShape(eventsFor(ARN.preSignUp)[0], "pre-sign-up-admin-create-user");

    calls = [];
    await h.cognito.signInWithExternalProvider(poolId, clientId, {
      providerName: "Google",
      providerUserId: "104938271650938475612",
      attributes: { email: "ada@example.com", email_verified: "true", name: "Ada" },
    });
    expectSameShape(eventsFor(ARN.preSignUp)[0], "pre-sign-up-external-provider");
  });

  it("pre token generation V1 and V2, sign-in and refresh", async () => {
    const v1 = pool({}, { PreTokenGeneration: ARN.preToken });
    h.cognito.createGroup(v1.poolId, {
      GroupName: "support-staff",
      Precedence: 1,
      RoleArn: "arn:aws:iam::000000000000:role/Support",
    });
    const email = await confirmedUser(v1.clientId);
    await h.client.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: v1.poolId,
        Username: email,
        GroupName: "support-staff",
      }),
    );
    calls = [];
    await signIn(v1.clientId, email);
    expectSameShape(eventsFor(ARN.preToken)[0], "pre-token-generation-v1-authentication");

    const v2 = pool(
      { UserPoolTier: "ESSENTIALS" },
      { PreTokenGenerationConfig: { LambdaArn: ARN.preToken, LambdaVersion: "V2_0" } },
    );
    const other = await confirmedUser(v2.clientId);
    calls = [];
    const tokens = await signIn(v2.clientId, other);
    expectSameShape(eventsFor(ARN.preToken)[0], "pre-token-generation-v2-authentication");

    calls = [];
    const federated = await h.cognito.signInWithExternalProvider(v2.poolId, v2.clientId, {
      providerName: "Google",
      providerUserId: "104938271650938475612",
      attributes: { email: "ada@example.com", email_verified: "false" },
    });
    calls = [];
    await h.client.send(
      new InitiateAuthCommand({
        ClientId: v2.clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: federated.RefreshToken! },
      }),
    );
    const refresh = eventsFor(ARN.preToken)[0];
    expectSameShape(refresh, "pre-token-generation-v2-refresh-tokens");
    const { userAttributes: attributes } = refresh!.request as {
      userAttributes: Record<string, string>;
    };
    expect(JSON.parse(attributes.identities!)).toEqual([
      expect.objectContaining({
        providerName: "Google",
        primary: true,
        dateCreated: expect.any(Number),
      }),
    ]);
    expect(tokens.IdToken).toBeDefined();
  });
});
