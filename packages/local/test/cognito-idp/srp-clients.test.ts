/**
 * USER_SRP_AUTH with the unmodified browser clients: amazon-cognito-identity-js and Amplify v6
 * compute SRP-6a on their side; sign-in only succeeds if the server's arithmetic matches theirs.
 */
import { AdminConfirmSignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";
import { Amplify } from "aws-amplify";
import { confirmSignUp, fetchAuthSession, signIn, signOut, signUp } from "aws-amplify/auth";
import { JwtRsaVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

async function verifier(tokenUse: "id" | "access") {
  const issuer = `${h.endpoint}/${poolId}`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const verify = JwtRsaVerifier.create({
    issuer,
    audience: tokenUse === "id" ? clientId : null,
    jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload.token_use !== tokenUse) throw new Error(`expected a ${tokenUse} token`);
    },
  });
  verify.cacheJwks((await (await fetch(jwksUri)).json()) as Jwks);
  return verify;
}

function authenticate(pool: CognitoUserPool, username: string, password: string) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise<{ idToken: string; accessToken: string; refresh: string }>(
    (resolve, reject) => {
      user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
        onSuccess: (session) =>
          resolve({
            idToken: session.getIdToken().getJwtToken(),
            accessToken: session.getAccessToken().getJwtToken(),
            refresh: session.getRefreshToken().getToken(),
          }),
        onFailure: reject,
      });
    },
  );
}

describe("amazon-cognito-identity-js", () => {
  it("signs up, confirms and signs in with SRP; the tokens verify", async () => {
    const pool = new CognitoUserPool({
      UserPoolId: poolId,
      ClientId: clientId,
      endpoint: h.endpoint,
    });
    const email = freshEmail("srp");
    await new Promise<void>((resolve, reject) =>
      pool.signUp(email, PASSWORD, [], [], (error) => (error ? reject(error) : resolve())),
    );
    const code = await h.latestCode(email);
    const user = new CognitoUser({ Username: email, Pool: pool });
    await new Promise<void>((resolve, reject) =>
      user.confirmRegistration(code, true, (error) => (error ? reject(error) : resolve())),
    );

    const tokens = await authenticate(pool, email, PASSWORD);
    const id = await (await verifier("id")).verify(tokens.idToken);
    expect(id.email).toBe(email);
    // Email-as-username pool: the client hashed with the UUID it got as USER_ID_FOR_SRP.
    expect(id["cognito:username"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    const access = await (await verifier("access")).verify(tokens.accessToken);
    expect(access.client_id).toBe(clientId);
  });

  it("fails a wrong SRP password with NotAuthorizedException", async () => {
    const pool = new CognitoUserPool({
      UserPoolId: poolId,
      ClientId: clientId,
      endpoint: h.endpoint,
    });
    const email = freshEmail("srp-wrong");
    await new Promise<void>((resolve, reject) =>
      pool.signUp(email, PASSWORD, [], [], (error) => (error ? reject(error) : resolve())),
    );
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    await expect(authenticate(pool, email, "Not-the-password-1")).rejects.toMatchObject({
      code: "NotAuthorizedException",
      message: "Incorrect username or password.",
    });
  });

  it("uses the internal username (USER_ID_FOR_SRP) of an alias pool", async () => {
    const aliasPool = h.cognito.createUserPool({
      UserPoolName: "alias",
      AliasAttributes: ["email"],
      AutoVerifiedAttributes: ["email"],
    });
    const { ClientId } = h.cognito.createUserPoolClient(aliasPool.Id, {});
    const pool = new CognitoUserPool({ UserPoolId: aliasPool.Id, ClientId, endpoint: h.endpoint });
    const email = freshEmail("alias");
    const username = `pilot_${crypto.randomUUID().slice(0, 6)}`;
    await new Promise<void>((resolve, reject) =>
      pool.signUp(username, PASSWORD, [{ Name: "email", Value: email } as never], [], (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    const user = new CognitoUser({ Username: username, Pool: pool });
    const code = await h.latestCode(email);
    await new Promise<void>((resolve, reject) =>
      user.confirmRegistration(code, true, (error) => (error ? reject(error) : resolve())),
    );
    // Signing in with the verified email alias: the client must hash with the real username.
    const tokens = await authenticate(pool, email, PASSWORD);
    const claims = JSON.parse(Buffer.from(tokens.idToken.split(".")[1]!, "base64url").toString());
    expect(claims["cognito:username"]).toBe(username);
  });
});

describe("aws-amplify v6", () => {
  it("signUp, confirmSignUp and signIn with its default SRP flow", async () => {
    Amplify.configure({
      Auth: {
        Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: h.endpoint },
      },
    });
    const email = freshEmail("amplify");
    const signedUp = await signUp({ username: email, password: PASSWORD });
    expect(signedUp.nextStep.signUpStep).toBe("CONFIRM_SIGN_UP");
    const confirmed = await confirmSignUp({
      username: email,
      confirmationCode: await h.latestCode(email),
    });
    expect(confirmed.isSignUpComplete).toBe(true);

    const signedIn = await signIn({ username: email, password: PASSWORD });
    expect(signedIn.isSignedIn).toBe(true);
    const session = await fetchAuthSession();
    const idToken = session.tokens?.idToken?.toString();
    expect(idToken).toBeDefined();
    const id = await (await verifier("id")).verify(idToken!);
    expect(id.email).toBe(email);
    await signOut();
  });
});
