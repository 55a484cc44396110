/**
 * GetTokensFromRefreshToken, the refresh Amplify v6 sends (`fetchAuthSession({ forceRefresh })`),
 * through the unmodified SDK: new ID and access tokens from the same sign-in, no new refresh
 * token (rotation is not emulated), and the refresh flow's refusals.
 */
import {
  ConfirmSignUpCommand,
  GetTokensFromRefreshTokenCommand,
  InitiateAuthCommand,
  NotAuthorizedException,
  RevokeTokenCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CognitoHarness, emailPool, freshEmail, PASSWORD, startCognito } from "./harness";

let h: CognitoHarness;
let poolId: string;
let clientId: string;

beforeAll(async () => {
  h = await startCognito();
  ({ poolId, clientId } = emailPool(h.cognito));
});
afterAll(async () => {
  await h.stop();
});

async function signedIn() {
  const email = freshEmail("refresh");
  await h.client.send(
    new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
  );
  const code = await h.latestCode(email);
  await h.client.send(
    new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
  );
  const { AuthenticationResult } = await h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );
  return AuthenticationResult!;
}

const claimsOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));

it("answers new tokens of the same sign-in, without a new refresh token", async () => {
  const tokens = await signedIn();
  const refreshed = await h.client.send(
    new GetTokensFromRefreshTokenCommand({
      ClientId: clientId,
      RefreshToken: tokens.RefreshToken!,
    }),
  );
  const result = refreshed.AuthenticationResult!;
  expect(result.TokenType).toBe("Bearer");
  expect(result.RefreshToken).toBeUndefined();
  const before = claimsOf(tokens.IdToken!);
  const after = claimsOf(result.IdToken!);
  expect(after.sub).toBe(before.sub);
  expect(after.origin_jti).toBe(before.origin_jti);
  expect(after.jti).not.toBe(before.jti);
  expect(claimsOf(result.AccessToken!).token_use).toBe("access");
});

it("refuses a revoked, a foreign-client and a malformed refresh token", async () => {
  const tokens = await signedIn();
  const other = h.cognito.createUserPoolClient(poolId, {
    ExplicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
  }).ClientId;
  const foreign = h.client.send(
    new GetTokensFromRefreshTokenCommand({ ClientId: other, RefreshToken: tokens.RefreshToken! }),
  );
  await expect(foreign).rejects.toBeInstanceOf(NotAuthorizedException);

  const malformed = h.client.send(
    new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: "not-a-token" }),
  );
  await expect(malformed).rejects.toThrow("Invalid Refresh Token");

  await h.client.send(new RevokeTokenCommand({ ClientId: clientId, Token: tokens.RefreshToken! }));
  const revoked = h.client.send(
    new GetTokensFromRefreshTokenCommand({
      ClientId: clientId,
      RefreshToken: tokens.RefreshToken!,
    }),
  );
  await expect(revoked).rejects.toThrow("Refresh Token has been revoked");
});
