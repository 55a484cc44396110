/**
 * The passport and the boarding pass on one local endpoint, with unmodified Amplify v6: a guest
 * gets an identity and credentials, signs up, confirms with the emailed code, signs in with SRP
 * (Amplify's default) and trades the ID token for credentials of the role its group maps to. The
 * guest identity is linked, not replaced. Then a second device that was a guest signs in as the
 * same user through the SDK: its guest identity is merged into the user's and disabled.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  NotAuthorizedException,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminAddUserToGroupCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { Amplify } from "aws-amplify";
import { confirmSignUp, fetchAuthSession, signIn, signOut, signUp } from "aws-amplify/auth";
import { JwtRsaVerifier } from "aws-jwt-verify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BUILT_IN_SERVICES, type LocalAws, startLocalAws } from "../../src/index";
import { identityPoolTrustPolicy } from "../../src/testing";

const REGION = "us-east-1";
const PASSWORD = "Corr3ct-Horse-Battery!";
const roleArn = (name: string) => `arn:aws:iam::000000000000:role/journey-${name}`;

let aws: LocalAws;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const idpClient = () =>
  new CognitoIdentityProviderClient({ endpoint: aws.endpoint, region: REGION, credentials });
const identityClient = () =>
  new CognitoIdentityClient({ endpoint: aws.endpoint, region: REGION, credentials });
let userPoolId: string;
let clientId: string;
let identityPoolId: string;

beforeAll(async () => {
  // Codes come from the pool's outbox: the plane need not print them.
  aws = await startLocalAws({ port: 0, include: BUILT_IN_SERVICES, log: () => {} });
  const idp = aws.cognitoIdp!;
  const identity = aws.cognitoIdentity!;
  const sts = aws.sts!;

  // A pool shaped like the Auth stack's: email sign-in, case-insensitive, SRP only, member group.
  userPoolId = idp.createUserPool({
    UserPoolName: "journey",
    UsernameAttributes: ["email"],
    UsernameConfiguration: { CaseSensitive: false },
    AutoVerifiedAttributes: ["email"],
  }).Id;
  clientId = idp.createUserPoolClient(userPoolId, {
    ClientName: "app",
    // Password auth only so the SDK "second device" below needs no SRP code of its own.
    ExplicitAuthFlows: [
      "ALLOW_USER_SRP_AUTH",
      "ALLOW_USER_PASSWORD_AUTH",
      "ALLOW_REFRESH_TOKEN_AUTH",
    ],
    ReadAttributes: ["email", "email_verified"],
    WriteAttributes: ["email"],
  }).ClientId;
  idp.createGroup(userPoolId, { GroupName: "member", RoleArn: roleArn("member"), Precedence: 10 });

  const providerName = `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`;
  identityPoolId = identity.createIdentityPool({
    IdentityPoolName: "journey",
    AllowUnauthenticatedIdentities: true,
    AllowClassicFlow: false,
    CognitoIdentityProviders: [{ ProviderName: providerName, ClientId: clientId }],
  }).IdentityPoolId;
  identity.setIdentityPoolRoles(identityPoolId, {
    Roles: { authenticated: roleArn("member"), unauthenticated: roleArn("guest") },
    RoleMappings: {
      userPool: {
        IdentityProvider: `${providerName}:${clientId}`,
        Type: "Token",
        AmbiguousRoleResolution: "Deny",
      },
    },
  });
  sts.putRole({
    arn: roleArn("guest"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "unauthenticated"),
  });
  sts.putRole({
    arn: roleArn("member"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "authenticated"),
  });

  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId,
        userPoolClientId: clientId,
        userPoolEndpoint: aws.endpoint,
        identityPoolId,
        identityPoolEndpoint: aws.endpoint,
        allowGuestAccess: true,
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await signOut().catch(() => undefined);
  await aws?.stop();
});

test("guest, sign-up, confirmation, SRP sign-in, credentials for the mapped role, guest linked", async () => {
  const email = `journey-${crypto.randomUUID().slice(0, 8)}@example.com`;

  // A guest first: an identity and credentials for the unauthenticated role.
  const guest = await fetchAuthSession();
  expect(guest.identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
  expect(guest.tokens).toBeUndefined();
  const guestCredentials = aws.sts!.lookupCredentials(guest.credentials!.accessKeyId);
  expect(guestCredentials?.roleArn).toBe(roleArn("guest"));

  // The passport: sign up, confirm with the code Cognito "emailed", sign in with SRP.
  const signedUp = await signUp({
    username: email,
    password: PASSWORD,
    options: { userAttributes: { email } },
  });
  expect(signedUp.nextStep.signUpStep).toBe("CONFIRM_SIGN_UP");
  const [message] = aws.cognitoIdp!.outbox({ email });
  await confirmSignUp({ username: email, confirmationCode: message!.code });
  await idpClient().send(
    new AdminAddUserToGroupCommand({
      UserPoolId: userPoolId,
      Username: email,
      GroupName: "member",
    }),
  );
  const signedIn = await signIn({ username: email, password: PASSWORD });
  expect(signedIn.isSignedIn).toBe(true);

  // The boarding pass: the same identity, now authenticated, with the member role.
  const session = await fetchAuthSession();
  expect(session.identityId).toBe(guest.identityId);
  const credentials = aws.sts!.lookupCredentials(session.credentials!.accessKeyId);
  expect(credentials?.roleArn).toBe(roleArn("member"));
  expect(credentials?.identityId).toBe(guest.identityId);

  // The passport verifies against the pool's published keys.
  const verifier = JwtRsaVerifier.create({
    issuer: `${aws.endpoint}/${userPoolId}`,
    audience: clientId,
    jwksUri: `${aws.endpoint}/${userPoolId}/.well-known/jwks.json`,
  });
  verifier.cacheJwks(aws.cognitoIdp!.jwks(userPoolId) as never);
  const payload = await verifier.verify(session.tokens!.idToken!.toString());
  expect(payload.email).toBe(email);
  expect(payload.token_use).toBe("id");
}, 60_000);

test("a second device's guest identity is merged into the user's and then refused", async () => {
  // Given a user who already linked a login on a first device
  const email = `merge-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await idpClient().send(
    new SignUpCommand({
      ClientId: clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  const [message] = aws.cognitoIdp!.outbox({ email });
  await idpClient().send(
    new ConfirmSignUpCommand({
      ClientId: clientId,
      Username: email,
      ConfirmationCode: message!.code,
    }),
  );
  // Without a group (so no cognito:roles) Token mapping with Deny refuses: that is the point.
  await idpClient().send(
    new AdminAddUserToGroupCommand({
      UserPoolId: userPoolId,
      Username: email,
      GroupName: "member",
    }),
  );
  const signIn = async () =>
    (
      await idpClient().send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: email, PASSWORD },
        }),
      )
    ).AuthenticationResult!.IdToken!;
  const logins = async () => ({
    [`cognito-idp.${REGION}.amazonaws.com/${userPoolId}`]: await signIn(),
  });
  const identity = identityClient();
  const firstDevice = await identity.send(new GetIdCommand({ IdentityPoolId: identityPoolId }));
  const linked = await identity.send(
    new GetCredentialsForIdentityCommand({
      IdentityId: firstDevice.IdentityId,
      Logins: await logins(),
    }),
  );
  expect(linked.IdentityId).toBe(firstDevice.IdentityId);

  // When a second device, a guest until now, signs in as the same user
  const secondDevice = await identity.send(new GetIdCommand({ IdentityPoolId: identityPoolId }));
  expect(secondDevice.IdentityId).not.toBe(firstDevice.IdentityId);
  const merged = await identity.send(
    new GetCredentialsForIdentityCommand({
      IdentityId: secondDevice.IdentityId,
      Logins: await logins(),
    }),
  );

  // Then the user's identity survives and the second device's guest identity is disabled
  expect(merged.IdentityId).toBe(firstDevice.IdentityId);
  const refused = identity.send(
    new GetCredentialsForIdentityCommand({ IdentityId: secondDevice.IdentityId }),
  );
  await expect(refused).rejects.toBeInstanceOf(NotAuthorizedException);
  await expect(refused).rejects.toThrow(
    `Access to identity '${secondDevice.IdentityId}' is forbidden.`,
  );
}, 60_000);
