/**
 * aws-amplify v6, unmodified: `fetchAuthSession()` as a guest (GetId, GetCredentialsForIdentity
 * against `identityPoolEndpoint`), then signed in with ID tokens from a stand-in user pool (the
 * local user pool is built separately): Amplify sends the guest id with the Logins key it derives
 * from the token's local `iss`, and the pool links the login or merges the guest into the
 * identity that already has it.
 */
import { Amplify } from "aws-amplify";
import { type AuthTokens, fetchAuthSession, type JWT } from "aws-amplify/auth";
import { cognitoCredentialsProvider } from "aws-amplify/auth/cognito";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
} from "../../src/services/cognito-identity/index";
import { createStsService, type StsService } from "../../src/services/sts/index";
import { keySource, roleArn, TestUserPool, trustRoles } from "./fixtures";

let aws: LocalAws;
let sts: StsService;
let identity: CognitoIdentityService;
const userPools: TestUserPool[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  sts = createStsService({ region: "us-east-1" });
  identity = createCognitoIdentityService({
    region: "us-east-1",
    sts,
    userPoolKeys: keySource(() => userPools),
  });
  aws.register(sts);
  aws.register(identity);
});
afterAll(async () => {
  await aws?.stop();
});

it("gives an Amplify guest an identity and credentials for the unauthenticated role", async () => {
  // Prepare
  const { IdentityPoolId } = identity.createIdentityPool({
    IdentityPoolName: "amplify_guests",
    AllowUnauthenticatedIdentities: true,
  });
  const guestRole = roleArn("amplify-guest");
  trustRoles(sts, IdentityPoolId, { [guestRole]: "unauthenticated" });
  identity.setIdentityPoolRoles(IdentityPoolId, { Roles: { unauthenticated: guestRole } });
  Amplify.configure({
    Auth: {
      Cognito: {
        identityPoolId: IdentityPoolId,
        identityPoolEndpoint: aws.endpoint,
        allowGuestAccess: true,
      },
    },
  });

  // Act
  const session = await fetchAuthSession();

  // Assess
  expect(session.tokens).toBeUndefined();
  expect(session.identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
  const accessKeyId = session.credentials?.accessKeyId;
  expect(accessKeyId).toMatch(/^ASIA/);
  expect(sts.lookupCredentials(accessKeyId!)).toMatchObject({
    identityId: session.identityId,
    roleArn: guestRole,
  });
  expect(identity.identity(session.identityId!)).toMatchObject({
    identityPoolId: IdentityPoolId,
    logins: [],
    disabled: false,
  });

  // The identity id is cached: a forced refresh keeps it and gets fresh credentials.
  const refreshed = await fetchAuthSession({ forceRefresh: true });
  expect(refreshed.identityId).toBe(session.identityId);
  expect(refreshed.credentials?.accessKeyId).not.toBe(accessKeyId);
});

function jwt(token: string): JWT {
  const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
  return { payload, toString: () => token };
}

it("links the guest identity on sign-in, and merges a second device's guest into it", async () => {
  // Prepare
  const userPool = new TestUserPool(aws.endpoint);
  userPools.push(userPool);
  const { IdentityPoolId } = identity.createIdentityPool({
    IdentityPoolName: "amplify_members",
    AllowUnauthenticatedIdentities: true,
    CognitoIdentityProviders: [
      { ProviderName: userPool.providerName, ClientId: userPool.clientId },
    ],
  });
  const guestRole = roleArn("amplify-guest-2");
  const memberRole = roleArn("amplify-member");
  trustRoles(sts, IdentityPoolId, {
    [guestRole]: "unauthenticated",
    [memberRole]: "authenticated",
  });
  identity.setIdentityPoolRoles(IdentityPoolId, {
    Roles: { unauthenticated: guestRole, authenticated: memberRole },
  });
  let tokens: AuthTokens | null = null;
  Amplify.configure(
    {
      Auth: {
        Cognito: {
          identityPoolId: IdentityPoolId,
          identityPoolEndpoint: aws.endpoint,
          allowGuestAccess: true,
        },
      },
    },
    {
      Auth: {
        tokenProvider: { getTokens: async () => tokens },
        credentialsProvider: cognitoCredentialsProvider,
      },
    },
  );
  await cognitoCredentialsProvider.clearCredentialsAndIdentityId();
  const sub = crypto.randomUUID();
  const signIn = () => {
    tokens = {
      idToken: jwt(userPool.idToken({ sub })),
      accessToken: jwt(userPool.accessToken(sub)),
    };
  };

  // Act: guest, then signed in on the same device
  const guest = await fetchAuthSession();
  signIn();
  const member = await fetchAuthSession();

  // Assess: same identity, now authenticated, member role
  expect(member.identityId).toBe(guest.identityId);
  expect(sts.lookupCredentials(member.credentials!.accessKeyId)?.roleArn).toBe(memberRole);
  expect(identity.identity(guest.identityId!)?.logins).toEqual([
    { provider: userPool.providerName, userId: sub },
  ]);

  // Act: a second device starts as a new guest, then signs in as the same user
  tokens = null;
  await cognitoCredentialsProvider.clearCredentialsAndIdentityId();
  const secondGuest = await fetchAuthSession();
  expect(secondGuest.identityId).not.toBe(guest.identityId);
  signIn();
  const merged = await fetchAuthSession();

  // Assess: the identity that owns the login survives; the second guest is disabled
  expect(merged.identityId).toBe(guest.identityId);
  expect(identity.identity(secondGuest.identityId!)).toMatchObject({
    disabled: true,
    mergedInto: guest.identityId,
  });
});
