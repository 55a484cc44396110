import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminLinkProviderForUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  ChangePasswordCommand,
  CodeMismatchException,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  InvalidParameterException,
  InvalidPasswordException,
  LimitExceededException,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  ListUsersCommand,
  NotAuthorizedException,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
  UserNotConfirmedException,
  UserNotFoundException,
  UsernameExistsException,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtRsaVerifier } from "aws-jwt-verify";
import { CognitoJwtVerifier } from "aws-jwt-verify/cognito-verifier";
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

async function signUpConfirmed(email = freshEmail()) {
  const signUp = await h.client.send(
    new SignUpCommand({
      ClientId: clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: "name", Value: "Ada" }],
    }),
  );
  const code = await h.latestCode(email);
  await h.client.send(
    new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
  );
  return { email, sub: signUp.UserSub! };
}

async function passwordSignIn(email: string, password = PASSWORD) {
  const result = await h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  return result.AuthenticationResult!;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

describe("sign-up and confirmation", () => {
  it("signs up unconfirmed, delivers a code to the outbox, and confirms with it", async () => {
    const email = freshEmail();
    const signUp = await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    expect(signUp.UserConfirmed).toBe(false);
    expect(signUp.UserSub).toMatch(/^[0-9a-f-]{36}$/);
    expect(signUp.CodeDeliveryDetails).toEqual({
      AttributeName: "email",
      DeliveryMedium: "EMAIL",
      Destination: expect.stringMatching(/^u\*\*\*@e\*\*\*$/),
    });

    await expect(passwordSignIn(email)).rejects.toBeInstanceOf(UserNotConfirmedException);
    await expect(
      h.client.send(
        new ConfirmSignUpCommand({
          ClientId: clientId,
          Username: email,
          ConfirmationCode: "000000x",
        }),
      ),
    ).rejects.toBeInstanceOf(CodeMismatchException);

    const code = await h.latestCode(email);
    await h.client.send(
      new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
    );
    const user = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(user.UserStatus).toBe("CONFIRMED");
    expect(user.Username).toBe(signUp.UserSub);
    expect(user.UserAttributes).toContainEqual({ Name: "email_verified", Value: "true" });
  });

  it("refuses a duplicate email, a policy violation and an unwritable attribute", async () => {
    const { email } = await signUpConfirmed();
    const duplicate = h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email.toUpperCase(), Password: PASSWORD }),
    );
    await expect(duplicate).rejects.toBeInstanceOf(UsernameExistsException);
    await expect(duplicate).rejects.toThrow("An account with the given email already exists.");

    const weak = h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: freshEmail(), Password: "short" }),
    );
    await expect(weak).rejects.toBeInstanceOf(InvalidPasswordException);
    await expect(weak).rejects.toThrow(
      "Password did not conform with policy: Password not long enough",
    );
    const noSymbol = h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: freshEmail(), Password: "Abcdefgh1" }),
    );
    await expect(noSymbol).rejects.toThrow(
      "Password did not conform with policy: Password must have symbol characters",
    );

    const unwritable = h.client.send(
      new SignUpCommand({
        ClientId: clientId,
        Username: freshEmail(),
        Password: PASSWORD,
        UserAttributes: [{ Name: "custom:tier", Value: "gold" }],
      }),
    );
    await expect(unwritable).rejects.toBeInstanceOf(NotAuthorizedException);
    await expect(unwritable).rejects.toThrow("A client attempted to write unauthorized attribute");
  });

  it("resends a code until the limit", async () => {
    const email = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    const first = await h.latestCode(email);
    await h.client.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }));
    const second = await h.latestCode(email);
    // Only the newest code works (codes are random; a rare equal pair is still "the newest").
    await h.client.send(
      new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: second }),
    );
    expect(typeof first).toBe("string");
    const other = freshEmail();
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: other, Password: PASSWORD }),
    );
    const resend = async () =>
      h.client.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: other }));
    for (let i = 0; i < 10; i++) await resend();
    await expect(resend()).rejects.toBeInstanceOf(LimitExceededException);
  });
});

describe("USER_PASSWORD_AUTH, tokens and refresh", () => {
  it("issues ID, access and refresh tokens with Cognito's claims, verifiable with aws-jwt-verify", async () => {
    const { email, sub } = await signUpConfirmed();
    const tokens = await passwordSignIn(email.toUpperCase());
    expect(tokens.TokenType).toBe("Bearer");
    expect(tokens.ExpiresIn).toBe(3600);

    const issuer = `${h.endpoint}/${poolId}`;
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as Jwks;
    const idVerifier = JwtRsaVerifier.create({
      issuer,
      audience: clientId,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== "id") throw new Error("not an id token");
      },
    });
    idVerifier.cacheJwks(jwks);
    const id = await idVerifier.verify(tokens.IdToken!);
    expect(id).toMatchObject({
      sub,
      iss: issuer,
      aud: clientId,
      token_use: "id",
      "cognito:username": sub,
      email,
      email_verified: true,
      name: "Ada",
    });
    for (const claim of ["auth_time", "origin_jti", "event_id", "jti", "exp", "iat"]) {
      expect(id).toHaveProperty(claim);
    }

    const accessVerifier = JwtRsaVerifier.create({
      issuer,
      audience: null,
      jwksUri: `${issuer}/.well-known/jwks.json`,
    });
    accessVerifier.cacheJwks(jwks);
    const access = await accessVerifier.verify(tokens.AccessToken!);
    expect(access).toMatchObject({
      sub,
      client_id: clientId,
      token_use: "access",
      scope: "aws.cognito.signin.user.admin",
      username: sub,
      origin_jti: id.origin_jti,
      event_id: id.event_id,
    });
    expect(access.exp).toBe((access.iat as number) + 3600);

    // CognitoJwtVerifier insists on the AWS issuer; with the JWKS cached, its signature and
    // claim checks still run, and the issuer check is the only thing that fails.
    const cognitoVerifier = CognitoJwtVerifier.create({
      userPoolId: poolId,
      tokenUse: "id",
      clientId,
    });
    cognitoVerifier.cacheJwks(jwks);
    await expect(cognitoVerifier.verify(tokens.IdToken!)).rejects.toThrow(/issuer not configured/);

    expect(tokens.RefreshToken!.split(".")).toHaveLength(5);
    const refreshed = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! },
      }),
    );
    expect(refreshed.AuthenticationResult?.RefreshToken).toBeUndefined();
    const again = claimsOf(refreshed.AuthenticationResult!.IdToken!);
    expect(again.origin_jti).toBe(id.origin_jti);
    expect(again.auth_time).toBe(id.auth_time);
    expect(again.jti).not.toBe(id.jti);
  });

  it("fails a wrong password, an unknown user and a disabled user with Cognito's classes", async () => {
    const { email } = await signUpConfirmed();
    const wrong = passwordSignIn(email, "Wr0ng-password!");
    await expect(wrong).rejects.toBeInstanceOf(NotAuthorizedException);
    await expect(wrong).rejects.toThrow("Incorrect username or password.");
    await expect(passwordSignIn(freshEmail("ghost"))).rejects.toBeInstanceOf(UserNotFoundException);
    await h.client.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: email }));
    await expect(passwordSignIn(email)).rejects.toThrow("User is disabled.");
  });

  it("refuses an auth flow the client does not allow", async () => {
    const { ClientId } = h.cognito.createUserPoolClient(poolId, {
      ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
    const { email } = await signUpConfirmed();
    const attempt = h.client.send(
      new InitiateAuthCommand({
        ClientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: PASSWORD },
      }),
    );
    await expect(attempt).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(attempt).rejects.toThrow("USER_PASSWORD_AUTH flow not enabled for this client");
  });

  it("hides user existence when the client asks for it", async () => {
    const { ClientId } = h.cognito.createUserPoolClient(poolId, {
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"],
      PreventUserExistenceErrors: "ENABLED",
    });
    const attempt = h.client.send(
      new InitiateAuthCommand({
        ClientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: freshEmail("ghost"), PASSWORD: PASSWORD },
      }),
    );
    await expect(attempt).rejects.toBeInstanceOf(NotAuthorizedException);
  });

  it("revokes: RevokeToken ends the refresh token and its access tokens; GlobalSignOut ends all", async () => {
    const { email } = await signUpConfirmed();
    const first = await passwordSignIn(email);
    const second = await passwordSignIn(email);
    await h.client.send(new RevokeTokenCommand({ ClientId: clientId, Token: first.RefreshToken! }));
    const refresh = h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: first.RefreshToken! },
      }),
    );
    await expect(refresh).rejects.toThrow("Refresh Token has been revoked");
    await expect(
      h.client.send(new GetUserCommand({ AccessToken: first.AccessToken! })),
    ).rejects.toThrow("Access Token has been revoked");
    await h.client.send(new GetUserCommand({ AccessToken: second.AccessToken! }));

    // What an identity pool's ServerSideTokenCheck asks of the pool.
    const issuer = `${h.endpoint}/${poolId}`;
    const active = (token: string) => h.cognito.isTokenActive({ issuer, claims: claimsOf(token) });
    expect(await active(first.IdToken!)).toBe(false);
    expect(await active(second.IdToken!)).toBe(true);
    await h.client.send(new GlobalSignOutCommand({ AccessToken: second.AccessToken! }));
    expect(await active(second.IdToken!)).toBe(false);
    await expect(
      h.client.send(new GetUserCommand({ AccessToken: second.AccessToken! })),
    ).rejects.toBeInstanceOf(NotAuthorizedException);
    const third = await passwordSignIn(email);
    await h.client.send(new GetUserCommand({ AccessToken: third.AccessToken! }));
  });
});

describe("self-service account operations", () => {
  it("GetUser returns the readable attributes; UpdateUserAttributes enforces write attributes", async () => {
    const { email } = await signUpConfirmed();
    const { AccessToken } = await passwordSignIn(email);
    await h.client.send(
      new UpdateUserAttributesCommand({
        AccessToken,
        UserAttributes: [{ Name: "name", Value: "Grace" }],
      }),
    );
    const user = await h.client.send(new GetUserCommand({ AccessToken }));
    expect(user.UserAttributes).toContainEqual({ Name: "name", Value: "Grace" });
    await expect(
      h.client.send(
        new UpdateUserAttributesCommand({
          AccessToken,
          UserAttributes: [{ Name: "custom:tier", Value: "platinum" }],
        }),
      ),
    ).rejects.toThrow("A client attempted to write unauthorized attribute");
  });

  it("ForgotPassword and ConfirmForgotPassword reset the password; ChangePassword changes it", async () => {
    const { email } = await signUpConfirmed();
    const forgot = await h.client.send(
      new ForgotPasswordCommand({ ClientId: clientId, Username: email }),
    );
    expect(forgot.CodeDeliveryDetails?.DeliveryMedium).toBe("EMAIL");
    const code = await h.latestCode(email);
    await expect(
      h.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: clientId,
          Username: email,
          ConfirmationCode: code,
          Password: "weak",
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidPasswordException);
    await h.client.send(
      new ConfirmForgotPasswordCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: code,
        Password: "N3w-password!",
      }),
    );
    await expect(passwordSignIn(email)).rejects.toBeInstanceOf(NotAuthorizedException);
    const { AccessToken } = await passwordSignIn(email, "N3w-password!");
    await expect(
      h.client.send(
        new ChangePasswordCommand({
          AccessToken,
          PreviousPassword: "Wr0ng-password!",
          ProposedPassword: "Another-1-pass!",
        }),
      ),
    ).rejects.toBeInstanceOf(NotAuthorizedException);
    await h.client.send(
      new ChangePasswordCommand({
        AccessToken,
        PreviousPassword: "N3w-password!",
        ProposedPassword: "Another-1-pass!",
      }),
    );
    await passwordSignIn(email, "Another-1-pass!");
  });
});

describe("admin operations", () => {
  it("AdminCreateUser forces a new password through NEW_PASSWORD_REQUIRED", async () => {
    const email = freshEmail();
    const created = await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        TemporaryPassword: "Temp-pass-1!",
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "email_verified", Value: "true" },
        ],
      }),
    );
    expect(created.User?.UserStatus).toBe("FORCE_CHANGE_PASSWORD");
    expect(created.User?.UserCreateDate).toBeInstanceOf(Date);

    const challenge = await h.client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: "Temp-pass-1!" },
      }),
    );
    expect(challenge.ChallengeName).toBe("NEW_PASSWORD_REQUIRED");
    expect(JSON.parse(challenge.ChallengeParameters!.userAttributes!)).toMatchObject({ email });
    const done = await h.client.send(
      new RespondToAuthChallengeCommand({
        ClientId: clientId,
        ChallengeName: "NEW_PASSWORD_REQUIRED",
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
      }),
    );
    expect(done.AuthenticationResult?.IdToken).toBeDefined();
    const user = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(user.UserStatus).toBe("CONFIRMED");
  });

  it("groups: precedence orders cognito:groups and picks the preferred role", async () => {
    const suffix = crypto.randomUUID().slice(0, 6);
    const admins = `admins-${suffix}`;
    const crew = `crew-${suffix}`;
    await h.client.send(
      new CreateGroupCommand({
        UserPoolId: poolId,
        GroupName: crew,
        Precedence: 10,
        RoleArn: "arn:aws:iam::000000000000:role/Crew",
      }),
    );
    await h.client.send(
      new CreateGroupCommand({
        UserPoolId: poolId,
        GroupName: admins,
        Precedence: 1,
        RoleArn: "arn:aws:iam::000000000000:role/Admin",
      }),
    );
    await expect(
      h.client.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: crew })),
    ).rejects.toThrow("A group with the name already exists.");
    const { email } = await signUpConfirmed();
    for (const GroupName of [crew, admins]) {
      await h.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName }),
      );
    }
    const listed = await h.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: email }),
    );
    expect(listed.Groups?.map((group) => group.GroupName)).toEqual([admins, crew]);
    const all = await h.client.send(new ListGroupsCommand({ UserPoolId: poolId }));
    expect(all.Groups?.map((group) => group.GroupName)).toEqual(
      expect.arrayContaining([admins, crew]),
    );

    const id = claimsOf((await passwordSignIn(email)).IdToken!);
    expect(id["cognito:groups"]).toEqual([admins, crew]);
    expect(id["cognito:roles"]).toEqual([
      "arn:aws:iam::000000000000:role/Admin",
      "arn:aws:iam::000000000000:role/Crew",
    ]);
    expect(id["cognito:preferred_role"]).toBe("arn:aws:iam::000000000000:role/Admin");

    await h.client.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: poolId,
        Username: email,
        GroupName: admins,
      }),
    );
    const after = claimsOf((await passwordSignIn(email)).IdToken!);
    expect(after["cognito:groups"]).toEqual([crew]);
    expect(after["cognito:preferred_role"]).toBe("arn:aws:iam::000000000000:role/Crew");
  });

  it("AdminConfirmSignUp, ListUsers filters, AdminLinkProviderForUser and AdminDeleteUser", async () => {
    const email = freshEmail("filter");
    await h.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    await expect(
      h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email })),
    ).rejects.toThrow("User cannot be confirmed. Current status is CONFIRMED");

    const exact = await h.client.send(
      new ListUsersCommand({ UserPoolId: poolId, Filter: `email = "${email}"` }),
    );
    expect(exact.Users).toHaveLength(1);
    const prefix = await h.client.send(
      new ListUsersCommand({ UserPoolId: poolId, Filter: `email ^= "${email.slice(0, 12)}"` }),
    );
    expect(prefix.Users?.map((user) => user.Username)).toEqual([exact.Users![0]!.Username]);

    for (let i = 0; i < 5; i++) {
      await h.client.send(
        new AdminLinkProviderForUserCommand({
          UserPoolId: poolId,
          DestinationUser: { ProviderName: "Cognito", ProviderAttributeValue: email },
          SourceUser: {
            ProviderName: "Google",
            ProviderAttributeName: "Cognito_Subject",
            ProviderAttributeValue: `g-${i}-${email}`,
          },
        }),
      );
    }
    await expect(
      h.client.send(
        new AdminLinkProviderForUserCommand({
          UserPoolId: poolId,
          DestinationUser: { ProviderName: "Cognito", ProviderAttributeValue: email },
          SourceUser: {
            ProviderName: "Google",
            ProviderAttributeName: "Cognito_Subject",
            ProviderAttributeValue: `g-6-${email}`,
          },
        }),
      ),
    ).rejects.toBeInstanceOf(LimitExceededException);
    const id = claimsOf((await passwordSignIn(email)).IdToken!);
    expect(id.identities).toHaveLength(5);

    await h.client.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: email }));
    await expect(
      h.client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email })),
    ).rejects.toBeInstanceOf(UserNotFoundException);
  });

  it("AdminSetUserPassword, AdminUpdateUserAttributes and AdminInitiateAuth for server-side setup", async () => {
    const { ClientId: adminClient } = h.cognito.createUserPoolClient(poolId, {
      ExplicitAuthFlows: ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
    const email = freshEmail("admin-setup");
    await h.client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: email,
        MessageAction: "SUPPRESS",
      }),
    );
    await expect(
      h.client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: poolId,
          Username: email,
          Password: "weak",
          Permanent: true,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidPasswordException);
    await h.client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: email,
        Password: PASSWORD,
        Permanent: true,
      }),
    );
    await h.client.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: poolId,
        Username: email,
        UserAttributes: [
          { Name: "custom:tier", Value: "gold" },
          { Name: "email_verified", Value: "true" },
        ],
      }),
    );
    const signedIn = await h.client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: poolId,
        ClientId: adminClient,
        AuthFlow: "ADMIN_USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD },
      }),
    );
    // The admin-only client reads every attribute, custom ones included.
    expect(claimsOf(signedIn.AuthenticationResult!.IdToken!)).toMatchObject({
      "custom:tier": "gold",
      email_verified: true,
    });
    await expect(
      h.client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: poolId,
          ClientId: clientId,
          AuthFlow: "ADMIN_USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: email, PASSWORD },
        }),
      ),
    ).rejects.toThrow("ADMIN_USER_PASSWORD_AUTH flow not enabled for this client");
  });

  it("concurrent changes: one of two identical sign-ups wins; a password change keeps a new group", async () => {
    const email = freshEmail("race");
    const results = await Promise.allSettled(
      [1, 2].map(() =>
        h.client.send(
          new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
        ),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const listed = await h.client.send(
      new ListUsersCommand({ UserPoolId: poolId, Filter: `email = "${email}"` }),
    );
    expect(listed.Users).toHaveLength(1);

    const { email: member } = await signUpConfirmed();
    const group = `race-${crypto.randomUUID().slice(0, 6)}`;
    await h.client.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
    const { AccessToken } = await passwordSignIn(member);
    await Promise.all([
      h.client.send(
        new ChangePasswordCommand({
          AccessToken,
          PreviousPassword: PASSWORD,
          ProposedPassword: "Another-1-pass!",
        }),
      ),
      h.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: member, GroupName: group }),
      ),
    ]);
    const groups = await h.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: member }),
    );
    expect(groups.Groups?.map((entry) => entry.GroupName)).toEqual([group]);
    await passwordSignIn(member, "Another-1-pass!");
  });

  it("alias pools: a verified email held by another user needs ForceAliasCreation", async () => {
    const alias = h.cognito.createUserPool({
      AliasAttributes: ["email"],
      AutoVerifiedAttributes: ["email"],
    });
    const { ClientId } = h.cognito.createUserPoolClient(alias.Id, {
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"],
    });
    const email = freshEmail("alias");
    const signUp = async (username: string) => {
      await h.client.send(
        new SignUpCommand({
          ClientId,
          Username: username,
          Password: PASSWORD,
          UserAttributes: [{ Name: "email", Value: email }],
        }),
      );
      return h.latestCode(email);
    };
    const confirm = (username: string, code: string, force?: boolean) =>
      h.client.send(
        new ConfirmSignUpCommand({
          ClientId,
          Username: username,
          ConfirmationCode: code,
          ForceAliasCreation: force,
        }),
      );
    const signInAs = async (name: string) => {
      const result = await h.client.send(
        new InitiateAuthCommand({
          ClientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: name, PASSWORD },
        }),
      );
      return claimsOf(result.AuthenticationResult!.IdToken!)["cognito:username"];
    };
    await confirm("first", await signUp("first"));
    expect(await signInAs(email)).toBe("first");
    const code = await signUp("second");
    await expect(confirm("second", code)).rejects.toThrow(
      "An account with the given email already exists.",
    );
    await confirm("second", code, true);
    expect(await signInAs(email)).toBe("second");
    const first = await h.client.send(
      new AdminGetUserCommand({ UserPoolId: alias.Id, Username: "first" }),
    );
    expect(first.UserAttributes).toContainEqual({ Name: "email_verified", Value: "false" });
  });

  it("creates pools and clients through the API with AWS-shaped ids", async () => {
    const pool = await h.client.send(
      new CreateUserPoolCommand({
        PoolName: "api-made",
        Policies: { PasswordPolicy: { MinimumLength: 12, RequireSymbols: false } },
      }),
    );
    expect(pool.UserPool?.Id).toMatch(/^us-east-1_[A-Za-z0-9]{9}$/);
    const client = await h.client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: pool.UserPool!.Id!,
        ClientName: "api",
        ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"],
      }),
    );
    expect(client.UserPoolClient?.ClientId).toMatch(/^[a-z0-9]{26}$/);
    await expect(
      h.client.send(
        new SignUpCommand({
          ClientId: client.UserPoolClient!.ClientId!,
          Username: "plainname",
          Password: "Abcdefghij1",
        }),
      ),
    ).rejects.toThrow("Password not long enough");
  });

  it("lists pools and a pool's clients a page at a time, as tools discovering the pool do", async () => {
    const names = [0, 1, 2].map(() => `listed-${crypto.randomUUID()}`);
    const made = await Promise.all(
      names.map((PoolName) => h.client.send(new CreateUserPoolCommand({ PoolName }))),
    );
    const ids = made.map((pool) => pool.UserPool!.Id!);

    const seen: { Id?: string; Name?: string }[] = [];
    let NextToken: string | undefined;
    for (let pageNo = 0; pageNo < 100; pageNo++) {
      const listed = await h.client.send(new ListUserPoolsCommand({ MaxResults: 2, NextToken }));
      expect(listed.UserPools?.length ?? 0).toBeLessThanOrEqual(2);
      seen.push(...(listed.UserPools ?? []));
      NextToken = listed.NextToken;
      if (NextToken === undefined) break;
    }
    expect(NextToken).toBeUndefined();
    for (const [i, id] of ids.entries()) {
      expect(seen.filter((pool) => pool.Id === id)).toEqual([
        expect.objectContaining({ Id: id, Name: names[i] }),
      ]);
    }
    await expect(h.client.send(new ListUserPoolsCommand({} as never))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(
      h.client.send(new ListUserPoolsCommand({ MaxResults: 61 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      h.client.send(new ListUserPoolsCommand({ MaxResults: 2, NextToken: "not-a-token" })),
    ).rejects.toBeInstanceOf(InvalidParameterException);

    const poolId = ids[0]!;
    const clientIds: string[] = [];
    for (const ClientName of ["ios", "android", "web"]) {
      const made = await h.client.send(
        new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName }),
      );
      clientIds.push(made.UserPoolClient!.ClientId!);
    }
    const first = await h.client.send(
      new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 2 }),
    );
    const second = await h.client.send(
      new ListUserPoolClientsCommand({
        UserPoolId: poolId,
        MaxResults: 2,
        NextToken: first.NextToken,
      }),
    );
    expect(first.UserPoolClients).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
    const clients = [...(first.UserPoolClients ?? []), ...(second.UserPoolClients ?? [])];
    expect(clients.map((c) => c.ClientId).sort()).toEqual([...clientIds].sort());
    expect(clients.map((c) => c.ClientName).sort()).toEqual(["android", "ios", "web"]);
    expect(new Set(clients.map((c) => c.UserPoolId))).toEqual(new Set([poolId]));
    // Another pool's clients never appear.
    const other = await h.client.send(new ListUserPoolClientsCommand({ UserPoolId: ids[1]! }));
    expect(other.UserPoolClients).toEqual([]);
  });
});
