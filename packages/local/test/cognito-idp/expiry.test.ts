/**
 * Time-dependent behaviour with an injected clock: expired access and refresh tokens, expired
 * codes and temporary passwords fail with Cognito's classes and messages; a token for another
 * client fails audience verification.
 */
import {
  AdminCreateUserCommand,
  ConfirmSignUpCommand,
  ExpiredCodeException,
  GetUserCommand,
  InitiateAuthCommand,
  NotAuthorizedException,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtRsaVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CognitoHarness, emailPool, freshEmail, PASSWORD, startCognito } from "./harness";

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
let clock = Date.parse("2026-06-01T00:00:00Z");
let h: CognitoHarness;
let poolId: string;
let clientId: string;

beforeAll(async () => {
  h = await startCognito({ now: () => clock });
  ({ poolId, clientId } = emailPool(h.cognito));
});
afterAll(async () => {
  await h.stop();
});

async function confirmed() {
  const email = freshEmail();
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

async function signIn(email: string, password = PASSWORD) {
  return h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
}

function refresh(token: string) {
  return h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: token },
    }),
  );
}

describe("expiry", () => {
  it("an access token expires after an hour; the refresh token after 30 days", async () => {
    const email = await confirmed();
    const tokens = (await signIn(email)).AuthenticationResult!;
    clock += HOUR + 1000;
    const expired = h.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken! }));
    await expect(expired).rejects.toBeInstanceOf(NotAuthorizedException);
    await expect(expired).rejects.toThrow("Access Token has expired");
    const renewed = await refresh(tokens.RefreshToken!);
    await h.client.send(
      new GetUserCommand({ AccessToken: renewed.AuthenticationResult!.AccessToken! }),
    );
    clock += 30 * DAY;
    await expect(refresh(tokens.RefreshToken!)).rejects.toThrow("Refresh Token has expired");
  });

  it("a confirmation code expires after 24 hours", async () => {
    const email = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    const code = await h.latestCode(email);
    clock += DAY + 1000;
    const late = h.client.send(
      new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
    );
    await expect(late).rejects.toBeInstanceOf(ExpiredCodeException);
    await expect(late).rejects.toThrow("Invalid code provided, please request a code again.");
  });

  it("a temporary password expires after TemporaryPasswordValidityDays", async () => {
    const email = freshEmail();
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        TemporaryPassword: "Temp-pass-1!",
        MessageAction: "SUPPRESS",
      }),
    );
    clock += 7 * DAY + 1000;
    await expect(signIn(email, "Temp-pass-1!")).rejects.toThrow(
      "Temporary password has expired and must be reset by an administrator.",
    );
  });

  it("locks a user out after five wrong passwords, for a doubling time", async () => {
    const email = await confirmed();
    for (let i = 0; i < 5; i++) {
      await expect(signIn(email, "Wr0ng-password!")).rejects.toThrow(
        "Incorrect username or password.",
      );
    }
    const locked = signIn(email);
    await expect(locked).rejects.toBeInstanceOf(NotAuthorizedException);
    await expect(locked).rejects.toThrow("Password attempts exceeded");
    clock += 1500;
    await expect(signIn(email, "Wr0ng-password!")).rejects.toThrow(
      "Incorrect username or password.",
    );
    clock += 1500;
    await expect(signIn(email)).rejects.toThrow("Password attempts exceeded");
    clock += 1000;
    await signIn(email);
    await expect(signIn(email, "Wr0ng-password!")).rejects.toThrow(
      "Incorrect username or password.",
    );
  });

  it("an ID token for one client fails verification for another", async () => {
    const email = await confirmed();
    const { IdToken } = (await signIn(email)).AuthenticationResult!;
    const issuer = `${h.endpoint}/${poolId}`;
    const jwksUri = `${issuer}/.well-known/jwks.json`;
    const verifier = JwtRsaVerifier.create({ issuer, audience: "another-client", jwksUri });
    verifier.cacheJwks((await (await fetch(jwksUri)).json()) as Jwks);
    // aws-jwt-verify checks exp against the real clock: verify only the audience here.
    await expect(verifier.verify(IdToken!, { graceSeconds: 10 * 365 * 86_400 })).rejects.toThrow(
      /audience/i,
    );
  });
});
