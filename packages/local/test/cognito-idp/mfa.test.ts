/**
 * Software token (TOTP) MFA through the unmodified SDK v3 client: association, verification,
 * preferences, the SOFTWARE_TOKEN_MFA and MFA_SETUP challenges, replay and session expiry. The
 * service's clock is injected so time steps and session lifetimes are exact; codes come from the
 * tests' own RFC 6238 helper, as an authenticator app would make them.
 */
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AssociateSoftwareTokenCommand,
  CodeMismatchException,
  ConfirmSignUpCommand,
  DescribeUserPoolCommand,
  EnableSoftwareTokenMFAException,
  ExpiredCodeException,
  GetUserCommand,
  GetUserPoolMfaConfigCommand,
  InitiateAuthCommand,
  InvalidParameterException,
  NotAuthorizedException,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  SetUserPoolMfaConfigCommand,
  SignUpCommand,
  SoftwareTokenMFANotFoundException,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { UserPoolDefinition } from "../../src/services/cognito-idp/index";
import { type CognitoHarness, freshEmail, PASSWORD, startCognito } from "./harness";
import { totpCode } from "./totp-helper";

const PRE_TOKEN = "arn:aws:lambda:us-east-1:000000000000:function:pre-token";

let h: CognitoHarness;
/** The service's clock: starts mid-step and moves only when a test moves it. */
let clock = Date.UTC(2026, 0, 5, 12, 0, 10);
const preTokenCalls: Array<{ triggerSource: string; userName: string }> = [];

beforeAll(async () => {
  h = await startCognito({
    now: () => clock,
    invokeTrigger: async (_arn, event) => {
      const e = event as { triggerSource: string; userName: string };
      preTokenCalls.push({ triggerSource: e.triggerSource, userName: e.userName });
      return event;
    },
  });
});
afterAll(async () => {
  await h.stop();
});
beforeEach(() => {
  // Each test starts in a fresh 30 s step, far from the last one used.
  clock += 10 * 60_000;
  preTokenCalls.length = 0;
});

/** The next TOTP step: a code there has not been spent yet. */
function nextStep() {
  clock += 30_000;
}

function mfaPool(extra: Partial<UserPoolDefinition> = {}) {
  const pool = h.cognito.createUserPool({
    UserPoolName: "mfa",
    UsernameAttributes: ["email"],
    AutoVerifiedAttributes: ["email"],
    MfaConfiguration: "OPTIONAL",
    EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
    LambdaConfig: { PreTokenGeneration: PRE_TOKEN },
    ...extra,
  });
  const { ClientId } = h.cognito.createUserPoolClient(pool.Id, {
    ExplicitAuthFlows: [
      "ALLOW_USER_PASSWORD_AUTH",
      "ALLOW_ADMIN_USER_PASSWORD_AUTH",
      "ALLOW_USER_SRP_AUTH",
      "ALLOW_REFRESH_TOKEN_AUTH",
    ],
  });
  return { poolId: pool.Id, clientId: ClientId };
}

async function confirmedUser(clientId: string, email = freshEmail("mfa")) {
  await h.client.send(
    new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
  );
  const code = await h.latestCode(email);
  await h.client.send(
    new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
  );
  return email;
}

function passwordAuth(clientId: string, email: string) {
  return h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );
}

/** Answers a sign-in's SOFTWARE_TOKEN_MFA challenge with `code`. */
function answerTotp(clientId: string, email: string, session: string | undefined, code: string) {
  return h.client.send(
    new RespondToAuthChallengeCommand({
      ClientId: clientId,
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: session,
      ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: code },
    }),
  );
}

function answerMfaSetup(clientId: string, email: string, session: string | undefined) {
  return h.client.send(
    new RespondToAuthChallengeCommand({
      ClientId: clientId,
      ChallengeName: "MFA_SETUP",
      Session: session,
      ChallengeResponses: { USERNAME: email },
    }),
  );
}

/** An enrolled user mid sign-in: the right and a wrong code, and the challenge's answerer. */
async function challengedSignIn() {
  const { clientId } = mfaPool();
  const email = await confirmedUser(clientId);
  const { secret } = await enrol(clientId, email);
  const challenged = await passwordAuth(clientId, email);
  const right = totpCode(secret, clock);
  const wrong = right === "111111" ? "222222" : "111111";
  const respond = (code: string) => answerTotp(clientId, email, challenged.Session, code);
  return { clientId, email, secret, challenged, right, wrong, respond };
}

async function accessToken(clientId: string, email: string) {
  const result = await passwordAuth(clientId, email);
  const token = result.AuthenticationResult?.AccessToken;
  if (!token) throw new Error(`expected tokens, got challenge ${result.ChallengeName}`);
  return token;
}

/** Associates and verifies a token with an access token, then turns TOTP on. */
async function enrol(clientId: string, email: string) {
  const token = await accessToken(clientId, email);
  const { SecretCode } = await h.client.send(
    new AssociateSoftwareTokenCommand({ AccessToken: token }),
  );
  const verified = await h.client.send(
    new VerifySoftwareTokenCommand({
      AccessToken: token,
      UserCode: totpCode(SecretCode!, clock),
      FriendlyDeviceName: "phone",
    }),
  );
  expect(verified.Status).toBe("SUCCESS");
  expect(verified.Session).toBeUndefined();
  await h.client.send(
    new SetUserMFAPreferenceCommand({
      AccessToken: token,
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    }),
  );
  nextStep();
  return { secret: SecretCode!, token };
}

describe("pool MFA configuration", () => {
  it("reports MfaConfiguration and the software token setting", async () => {
    const { poolId } = mfaPool();
    const described = await h.client.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
    expect(described.UserPool?.MfaConfiguration).toBe("OPTIONAL");
    const config = await h.client.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
    expect(config.MfaConfiguration).toBe("OPTIONAL");
    expect(config.SoftwareTokenMfaConfiguration?.Enabled).toBe(true);
    const plain = h.cognito.createUserPool({ UserPoolName: "plain" });
    const off = await h.client.send(new DescribeUserPoolCommand({ UserPoolId: plain.Id }));
    expect(off.UserPool?.MfaConfiguration).toBe("OFF");
  });

  it("SetUserPoolMfaConfig turns TOTP on and refuses SMS", async () => {
    const plain = h.cognito.createUserPool({ UserPoolName: "plain" });
    const set = await h.client.send(
      new SetUserPoolMfaConfigCommand({
        UserPoolId: plain.Id,
        MfaConfiguration: "OPTIONAL",
        SoftwareTokenMfaConfiguration: { Enabled: true },
      }),
    );
    expect(set.MfaConfiguration).toBe("OPTIONAL");
    expect(set.SoftwareTokenMfaConfiguration?.Enabled).toBe(true);
    await expect(
      h.client.send(
        new SetUserPoolMfaConfigCommand({
          UserPoolId: plain.Id,
          SmsMfaConfiguration: { SmsAuthenticationMessage: "{####}" },
        }),
      ),
    ).rejects.toThrow(/SMS MFA is not emulated/);
  });

  it("refuses ON without software token MFA: no one could sign in", () => {
    expect(() =>
      h.cognito.createUserPool({ MfaConfiguration: "ON", EnabledMfas: ["SMS_MFA"] }),
    ).toThrow(/SOFTWARE_TOKEN_MFA/);
  });
});

describe("associate, verify and preferences", () => {
  it("returns a 32-character base32 secret and verifies an RFC 6238 code", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const token = await accessToken(clientId, email);
    const { SecretCode, Session } = await h.client.send(
      new AssociateSoftwareTokenCommand({ AccessToken: token }),
    );
    expect(SecretCode).toMatch(/^[A-Z2-7]{32}$/);
    expect(Session).toBeUndefined();
    const wrong = await h.client
      .send(new VerifySoftwareTokenCommand({ AccessToken: token, UserCode: "000000" }))
      .catch((error: unknown) => error);
    // (a one-in-a-million chance that 000000 is the right code is ignored)
    expect(wrong).toBeInstanceOf(EnableSoftwareTokenMFAException);
    expect((wrong as Error).message).toBe("Code mismatch and fail enable Software Token MFA");
    // The previous step's code is accepted (clock drift), as RFC 6238 advises.
    const verified = await h.client.send(
      new VerifySoftwareTokenCommand({
        AccessToken: token,
        UserCode: totpCode(SecretCode!, clock - 30_000),
      }),
    );
    expect(verified.Status).toBe("SUCCESS");
  });

  it("refuses to verify a token that was never associated", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const token = await accessToken(clientId, email);
    await expect(
      h.client.send(new VerifySoftwareTokenCommand({ AccessToken: token, UserCode: "123456" })),
    ).rejects.toBeInstanceOf(SoftwareTokenMFANotFoundException);
  });

  it("refuses to enable TOTP before a token is verified, and refuses SMS", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const token = await accessToken(clientId, email);
    await h.client.send(new AssociateSoftwareTokenCommand({ AccessToken: token }));
    const refused = await h.client
      .send(
        new SetUserMFAPreferenceCommand({
          AccessToken: token,
          SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
        }),
      )
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidParameterException);
    expect((refused as Error).message).toBe(
      "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA",
    );
    await expect(
      h.client.send(
        new SetUserMFAPreferenceCommand({
          AccessToken: token,
          SMSMfaSettings: { Enabled: true, PreferredMfa: false },
        }),
      ),
    ).rejects.toThrow(/SMS MFA is not emulated/);
  });

  it("GetUser and AdminGetUser report the settings; the secret never shows", async () => {
    const { poolId, clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const before = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(before.UserMFASettingList).toBeUndefined();
    const { secret, token } = await enrol(clientId, email);
    const self = await h.client.send(new GetUserCommand({ AccessToken: token }));
    expect(self.UserMFASettingList).toEqual(["SOFTWARE_TOKEN_MFA"]);
    expect(self.PreferredMfaSetting).toBe("SOFTWARE_TOKEN_MFA");
    const admin = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(admin.UserMFASettingList).toEqual(["SOFTWARE_TOKEN_MFA"]);
    expect(JSON.stringify(self)).not.toContain(secret);
    expect(JSON.stringify(admin)).not.toContain(secret);
  });
});

describe("the SOFTWARE_TOKEN_MFA challenge", () => {
  it("challenges after the password and issues tokens for the right code", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { secret } = await enrol(clientId, email);
    preTokenCalls.length = 0;

    const challenged = await passwordAuth(clientId, email);
    expect(challenged.ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
    expect(challenged.AuthenticationResult).toBeUndefined();
    expect(challenged.Session).toBeTruthy();
    expect(challenged.ChallengeParameters).toEqual({ FRIENDLY_DEVICE_NAME: "phone" });
    expect(preTokenCalls).toEqual([]);

    const signedIn = await answerTotp(clientId, email, challenged.Session, totpCode(secret, clock));
    expect(signedIn.AuthenticationResult?.AccessToken).toBeTruthy();
    expect(signedIn.AuthenticationResult?.RefreshToken).toBeTruthy();
    expect(preTokenCalls.map((call) => call.triggerSource)).toEqual([
      "TokenGeneration_Authentication",
    ]);
  });

  it("answers a wrong code with CodeMismatchException and lets the session retry", async () => {
    const { secret, right, wrong, respond } = await challengedSignIn();
    const refused = await respond(wrong).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CodeMismatchException);
    expect((refused as Error).message).toBe("Invalid code received for user");
    const signedIn = await respond(right);
    expect(signedIn.AuthenticationResult?.IdToken).toBeTruthy();
    // A session is good once.
    nextStep();
    const again = await respond(totpCode(secret, clock)).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(NotAuthorizedException);
    expect((again as Error).message).toBe(
      "Invalid session for the user, session can only be used once.",
    );
  });

  it("spends the session after five wrong codes; the password lockout is untouched", async () => {
    const { clientId, email, right, wrong, respond } = await challengedSignIn();
    for (let attempt = 0; attempt < 5; attempt++) {
      await expect(respond(wrong)).rejects.toBeInstanceOf(CodeMismatchException);
    }
    await expect(respond(right)).rejects.toThrow(
      "Invalid session for the user, session can only be used once.",
    );
    // The password still works: a new challenge, and the right code signs in.
    const again = await passwordAuth(clientId, email);
    expect(again.ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
    const signedIn = await answerTotp(clientId, email, again.Session, right);
    expect(signedIn.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it("refuses a code whose time step was already used (replay)", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { secret } = await enrol(clientId, email);
    const code = totpCode(secret, clock);
    const first = await passwordAuth(clientId, email);
    await answerTotp(clientId, email, first.Session, code);
    const second = await passwordAuth(clientId, email);
    const replayed = await answerTotp(clientId, email, second.Session, code).catch(
      (error: unknown) => error,
    );
    expect(replayed).toBeInstanceOf(ExpiredCodeException);
    expect((replayed as Error).message).toBe("Your software token has already been used once.");
  });

  it("expires the session after three minutes", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { secret } = await enrol(clientId, email);
    const challenged = await passwordAuth(clientId, email);
    clock += 181_000;
    const late = await answerTotp(
      clientId,
      email,
      challenged.Session,
      totpCode(secret, clock),
    ).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(NotAuthorizedException);
    expect((late as Error).message).toBe("Invalid session for the user, session is expired.");
  });

  it("challenges the admin flow too, and AdminRespondToAuthChallenge completes it", async () => {
    const { poolId, clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { secret } = await enrol(clientId, email);
    const challenged = await h.client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: poolId,
        ClientId: clientId,
        AuthFlow: "ADMIN_USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD },
      }),
    );
    expect(challenged.ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
    const signedIn = await h.client.send(
      new AdminRespondToAuthChallengeCommand({
        UserPoolId: poolId,
        ClientId: clientId,
        ChallengeName: "SOFTWARE_TOKEN_MFA",
        Session: challenged.Session,
        ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: totpCode(secret, clock) },
      }),
    );
    expect(signedIn.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it("does not challenge a refresh-token sign-in", async () => {
    const { clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { secret } = await enrol(clientId, email);
    const challenged = await passwordAuth(clientId, email);
    const signedIn = await answerTotp(clientId, email, challenged.Session, totpCode(secret, clock));
    const refreshed = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: signedIn.AuthenticationResult!.RefreshToken! },
      }),
    );
    expect(refreshed.ChallengeName).toBeUndefined();
    expect(refreshed.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it("turning TOTP off (or an admin doing so) restores plain sign-in", async () => {
    const { poolId, clientId } = mfaPool();
    const email = await confirmedUser(clientId);
    const { token } = await enrol(clientId, email);
    await h.client.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: token,
        SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
      }),
    );
    const plain = await passwordAuth(clientId, email);
    expect(plain.AuthenticationResult?.AccessToken).toBeTruthy();
    const self = await h.client.send(new GetUserCommand({ AccessToken: token }));
    expect(self.UserMFASettingList).toBeUndefined();

    await h.client.send(
      new AdminSetUserMFAPreferenceCommand({
        UserPoolId: poolId,
        Username: email,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }),
    );
    expect((await passwordAuth(clientId, email)).ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
    await h.client.send(
      new AdminSetUserMFAPreferenceCommand({
        UserPoolId: poolId,
        Username: email,
        SoftwareTokenMfaSettings: { Enabled: false },
      }),
    );
    expect((await passwordAuth(clientId, email)).AuthenticationResult).toBeTruthy();
  });
});

describe("MfaConfiguration ON: the MFA_SETUP challenge", () => {
  it("makes a user without a token set one up with the session, then signs them in", async () => {
    const { clientId } = mfaPool({ MfaConfiguration: "ON" });
    const email = await confirmedUser(clientId);
    const challenged = await passwordAuth(clientId, email);
    expect(challenged.ChallengeName).toBe("MFA_SETUP");
    expect(challenged.ChallengeParameters).toEqual({ MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' });

    const associated = await h.client.send(
      new AssociateSoftwareTokenCommand({ Session: challenged.Session }),
    );
    expect(associated.SecretCode).toMatch(/^[A-Z2-7]{32}$/);
    expect(associated.Session).toBeTruthy();
    // Responding before verifying fails.
    await expect(answerMfaSetup(clientId, email, associated.Session)).rejects.toBeInstanceOf(
      NotAuthorizedException,
    );
    const verified = await h.client.send(
      new VerifySoftwareTokenCommand({
        Session: associated.Session,
        UserCode: totpCode(associated.SecretCode!, clock),
      }),
    );
    expect(verified.Status).toBe("SUCCESS");
    expect(verified.Session).toBeTruthy();
    const signedIn = await answerMfaSetup(clientId, email, verified.Session);
    expect(signedIn.AuthenticationResult?.AccessToken).toBeTruthy();
    expect(preTokenCalls.map((call) => call.triggerSource)).toEqual([
      "TokenGeneration_Authentication",
    ]);

    // From now on the user gets the SOFTWARE_TOKEN_MFA challenge.
    nextStep();
    const next = await passwordAuth(clientId, email);
    expect(next.ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
    const done = await answerTotp(
      clientId,
      email,
      next.Session,
      totpCode(associated.SecretCode!, clock),
    );
    expect(done.AuthenticationResult?.IdToken).toBeTruthy();
  });

  it("asks an invited user for MFA_SETUP after the new password", async () => {
    const { poolId, clientId } = mfaPool({ MfaConfiguration: "ON" });
    const email = freshEmail("invited");
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        TemporaryPassword: "Temp-Passw0rd!",
        MessageAction: "SUPPRESS",
      }),
    );
    const first = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: "Temp-Passw0rd!" },
      }),
    );
    expect(first.ChallengeName).toBe("NEW_PASSWORD_REQUIRED");
    const setup = await h.client.send(
      new RespondToAuthChallengeCommand({
        ClientId: clientId,
        ChallengeName: "NEW_PASSWORD_REQUIRED",
        Session: first.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
      }),
    );
    expect(setup.ChallengeName).toBe("MFA_SETUP");
    const associated = await h.client.send(
      new AssociateSoftwareTokenCommand({ Session: setup.Session }),
    );
    const verified = await h.client.send(
      new VerifySoftwareTokenCommand({
        Session: associated.Session,
        UserCode: totpCode(associated.SecretCode!, clock),
      }),
    );
    const signedIn = await answerMfaSetup(clientId, email, verified.Session);
    expect(signedIn.AuthenticationResult?.AccessToken).toBeTruthy();
    expect(preTokenCalls.map((call) => call.triggerSource)).toEqual([
      "TokenGeneration_NewPasswordChallenge",
    ]);
  });

  it("refuses an expired setup session", async () => {
    const { clientId } = mfaPool({ MfaConfiguration: "ON" });
    const email = await confirmedUser(clientId);
    const challenged = await passwordAuth(clientId, email);
    clock += 181_000;
    const late = await h.client
      .send(new AssociateSoftwareTokenCommand({ Session: challenged.Session }))
      .catch((error: unknown) => error);
    expect(late).toBeInstanceOf(NotAuthorizedException);
    expect((late as Error).message).toBe("Invalid session for the user, session is expired.");
  });
});
