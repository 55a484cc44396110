/**
 * aws-amplify v6, unmodified, as a guest: `fetchAuthSession()` with only an identity pool
 * configured runs GetId then GetCredentialsForIdentity against `identityPoolEndpoint`.
 */
import { Amplify } from "aws-amplify";
import { fetchAuthSession } from "aws-amplify/auth";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
} from "../../src/services/cognito-identity/index";
import { createStsService, type StsService } from "../../src/services/sts";
import { roleArn, trustRoles } from "./fixtures";

let aws: LocalAws;
let sts: StsService;
let identity: CognitoIdentityService;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  sts = createStsService({ region: "us-east-1" });
  identity = createCognitoIdentityService({
    region: "us-east-1",
    sts,
    userPoolKeys: async () => undefined,
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
