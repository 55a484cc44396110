/**
 * The HTTP API behind the real identity journey: the local plane's user pool signs a user in,
 * its identity pool hands out guest and signed-in credentials (GetId, GetCredentialsForIdentity
 * through the SDK), and those credentials sign calls to IAM routes; the user pool's own tokens
 * (JWKS fetched over http from the plane) pass the JWT route.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import { type HttpApi, startHttpApi } from "../../src/services/apigateway/index";
import { identityPoolTrustPolicy } from "../../src/testing";
import {
  ACCOUNT,
  InProcessInvoker,
  invokePolicy,
  REGION,
  signedFetch,
  TestIamDirectory,
} from "./fixtures";

const API_ID = "cog1dent1y";
const dummy = { accessKeyId: "test", secretAccessKey: "test" };
const invoker = new InProcessInvoker();
const iam = new TestIamDirectory();
let aws: LocalAws;
let api: HttpApi;
let identityClient: CognitoIdentityClient;
let userPoolClient: CognitoIdentityProviderClient;
let identityPoolId: string;
let userPoolId: string;
let appClientId: string;

const echo = (name: string) =>
  invoker.register(name, (event) => ({ statusCode: 200, body: JSON.stringify(event) }));

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, include: ["cognito-identity"] });
  const cognitoIdp = aws.cognitoIdp!;
  const identities = aws.cognitoIdentity!;
  const sts = aws.sts!;
  identityClient = new CognitoIdentityClient({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: dummy,
  });
  userPoolClient = new CognitoIdentityProviderClient({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: dummy,
  });

  const pool = cognitoIdp.createUserPool({ UserPoolName: "apigw", UsernameAttributes: ["email"] });
  userPoolId = pool.Id;
  appClientId = cognitoIdp.createUserPoolClient(userPoolId, {
    ClientName: "app",
    ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  }).ClientId;
  identityPoolId = identities.createIdentityPool({
    IdentityPoolName: "apigw_guests",
    AllowUnauthenticatedIdentities: true,
    CognitoIdentityProviders: [
      { ProviderName: `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`, ClientId: appClientId },
    ],
  }).IdentityPoolId;

  const guest = iam.put("apigw-guest", identityPoolTrustPolicy(identityPoolId, "unauthenticated"), [
    invokePolicy(API_ID, "GET /identity/preferences"),
  ]);
  const member = iam.put("apigw-member", identityPoolTrustPolicy(identityPoolId, "authenticated"), [
    invokePolicy(API_ID, "GET /identity/preferences", "POST /identity/link"),
  ]);
  for (const role of [guest, member]) sts.putRole({ arn: role.arn, trustPolicy: role.trustPolicy });
  identities.setIdentityPoolRoles(identityPoolId, {
    Roles: { unauthenticated: guest.arn, authenticated: member.arn },
  });

  api = await startHttpApi({
    region: REGION,
    accountId: ACCOUNT,
    apiId: API_ID,
    routes: [
      {
        routeKey: "GET /identity/preferences",
        functionArn: echo("prefs"),
        payloadFormatVersion: "2.0",
        authorizationType: "AWS_IAM",
      },
      {
        routeKey: "POST /identity/link",
        functionArn: echo("link"),
        payloadFormatVersion: "2.0",
        authorizationType: "AWS_IAM",
      },
      {
        routeKey: "GET /profile",
        functionArn: echo("profile"),
        payloadFormatVersion: "2.0",
        authorizationType: "JWT",
        jwt: { issuer: cognitoIdp.issuer(userPoolId), audience: [appClientId] },
      },
    ],
    invoker,
    sts,
    iam,
    identities,
    log: () => {},
  });
});

afterAll(async () => {
  await api?.close();
  await aws?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: assertions read deep event shapes
async function json(response: Response): Promise<any> {
  return JSON.parse(await response.text());
}

async function credentialsFor(logins?: Record<string, string>) {
  const { IdentityId } = await identityClient.send(
    new GetIdCommand({ IdentityPoolId: identityPoolId, Logins: logins }),
  );
  const { Credentials } = await identityClient.send(
    new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
  );
  return {
    identityId: IdentityId!,
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretKey!,
      sessionToken: Credentials!.SessionToken!,
    },
  };
}

it("lets a guest call the routes its role grants, with API Gateway's cognitoIdentity context", async () => {
  const { identityId, credentials } = await credentialsFor();
  const response = await signedFetch(api.url, credentials, { path: "/identity/preferences" });
  expect(response.status).toBe(200);
  const event = await json(response);
  expect(event.requestContext.authorizer.iam).toEqual({
    accessKey: credentials.accessKeyId,
    accountId: ACCOUNT,
    callerId: expect.stringMatching(/^AROA[A-Z2-7]{17}:CognitoIdentityCredentials$/),
    cognitoIdentity: { amr: ["unauthenticated"], identityId, identityPoolId },
    principalOrgId: null,
    userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/apigw-guest/CognitoIdentityCredentials`,
    userId: expect.stringMatching(/:CognitoIdentityCredentials$/),
  });
  const link = await signedFetch(api.url, credentials, {
    method: "POST",
    path: "/identity/link",
    body: "{}",
  });
  expect(link.status).toBe(403);
});

/** A fresh user of the pool, signed in with USER_PASSWORD_AUTH. */
async function signIn() {
  const email = `apigw-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "Corr3ct-Horse!";
  await userPoolClient.send(
    new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: email,
      MessageAction: "SUPPRESS",
    }),
  );
  await userPoolClient.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: email,
      Password: password,
      Permanent: true,
    }),
  );
  const { AuthenticationResult } = await userPoolClient.send(
    new InitiateAuthCommand({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: appClientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  return { email, tokens: AuthenticationResult! };
}

it("signs a user in: the ID token passes the JWT route and its identity's credentials the IAM routes", async () => {
  const { email, tokens } = await signIn();
  const idToken = tokens.IdToken!;

  const profile = await fetch(`${api.url}/profile`, {
    headers: { authorization: `Bearer ${idToken}` },
  });
  expect(profile.status).toBe(200);
  const claims = (await json(profile)).requestContext.authorizer.jwt.claims;
  expect(claims).toMatchObject({ email, aud: appClientId, token_use: "id" });
  const access = await fetch(`${api.url}/profile`, {
    headers: { authorization: tokens.AccessToken! },
  });
  expect(access.status).toBe(200);

  const provider = `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`;
  const { identityId, credentials } = await credentialsFor({ [provider]: idToken });
  const link = await signedFetch(api.url, credentials, {
    method: "POST",
    path: "/identity/link",
    body: "{}",
  });
  expect(link.status).toBe(200);
  const iamContext = (await json(link)).requestContext.authorizer.iam;
  expect(iamContext.userArn).toBe(
    `arn:aws:sts::${ACCOUNT}:assumed-role/apigw-member/CognitoIdentityCredentials`,
  );
  expect(iamContext.cognitoIdentity).toEqual({
    amr: ["authenticated", provider, `${provider}:CognitoSignIn:${claims.sub}`],
    identityId,
    identityPoolId,
  });
});

it("keeps a session's amr as it was issued: a guest's credentials stay unauthenticated after the guest signs in", async () => {
  const guest = await credentialsFor();
  const { tokens } = await signIn();
  const provider = `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`;
  // The guest signs in on the same identity: Cognito links the login to it.
  const { Credentials, IdentityId } = await identityClient.send(
    new GetCredentialsForIdentityCommand({
      IdentityId: guest.identityId,
      Logins: { [provider]: tokens.IdToken! },
    }),
  );
  expect(IdentityId).toBe(guest.identityId);

  const before = await signedFetch(api.url, guest.credentials, { path: "/identity/preferences" });
  expect(before.status).toBe(200);
  expect((await json(before)).requestContext.authorizer.iam.cognitoIdentity).toEqual({
    amr: ["unauthenticated"],
    identityId: guest.identityId,
    identityPoolId,
  });
  // Nor does the linked identity lend the old guest session the member role's routes.
  const guestLink = await signedFetch(api.url, guest.credentials, {
    method: "POST",
    path: "/identity/link",
    body: "{}",
  });
  expect(guestLink.status).toBe(403);

  const signedIn = {
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretKey!,
    sessionToken: Credentials!.SessionToken!,
  };
  const after = await signedFetch(api.url, signedIn, { path: "/identity/preferences" });
  expect(after.status).toBe(200);
  expect((await json(after)).requestContext.authorizer.iam.cognitoIdentity.amr).toEqual(
    expect.arrayContaining(["authenticated", provider]),
  );
});
