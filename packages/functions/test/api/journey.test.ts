/**
 * Guest to signed-in, end to end through the local Cognito: identities, credentials and guest
 * proofs come from the local identity pool and user pool (not minted here), the caller of each
 * route is the identity behind the credentials the pool issued (what API Gateway's IAM authorizer
 * reports), and the routes are the real handlers over the local DynamoDB, IoT, SNS and Kinesis.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminAddUserToGroupCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtOpenIdTokenVerifier } from "@boarding-pass/core/adapters/jwt-verifier";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
  userPoolKeysFrom,
} from "@boarding-pass/local/services/cognito-identity";
import {
  type CognitoIdpService,
  createCognitoIdpService,
} from "@boarding-pass/local/services/cognito-idp";
import { createStsService, type StsService } from "@boarding-pass/local/services/sts";
import { identityPoolTrustPolicy } from "@boarding-pass/local/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLinkIdentityHandler } from "../../src/api/handlers/link-identity";
import { createPreferencesHandler } from "../../src/api/handlers/preferences";
import { attachedPolicies, signUpConfirmed } from "../support/user-pool";
import { bodyOf, type Caller, iamEvent, type Plane, REGION, startPlane } from "./harness";

const PASSWORD = "Corr3ct-Horse-Battery!";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const roleArn = (name: string) => `arn:aws:iam::000000000000:role/journey-${name}`;

let plane: Plane;
let sts: StsService;
let idp: CognitoIdpService;
let identity: CognitoIdentityService;
let userPoolId: string;
let clientId: string;
let identityPoolId: string;
let cognitoIdentity: CognitoIdentityClient;
let cognitoIdp: CognitoIdentityProviderClient;

beforeAll(async () => {
  plane = await startPlane();
  sts = createStsService({ region: REGION });
  idp = createCognitoIdpService({ region: REGION, endpoint: () => plane.endpoint, log: () => {} });
  identity = createCognitoIdentityService({
    region: REGION,
    sts,
    userPoolKeys: userPoolKeysFrom(idp),
  });
  for (const service of [sts, idp, identity]) plane.aws.register(service);

  userPoolId = idp.createUserPool({
    UserPoolName: "journey",
    UsernameAttributes: ["email"],
    UsernameConfiguration: { CaseSensitive: false },
    AutoVerifiedAttributes: ["email"],
  }).Id;
  clientId = idp.createUserPoolClient(userPoolId, {
    ClientName: "app",
    ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    ReadAttributes: ["email"],
    WriteAttributes: ["email"],
  }).ClientId;
  idp.createGroup(userPoolId, { GroupName: "member", RoleArn: roleArn("member"), Precedence: 10 });
  const providerName = `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`;
  // Classic flow on here only so the guest can get Cognito's own OpenID token as its proof; the
  // deployed pool keeps it off and uses POST /identity/guest-proof (ADR 0006).
  identityPoolId = identity.createIdentityPool({
    IdentityPoolName: "journey",
    AllowUnauthenticatedIdentities: true,
    AllowClassicFlow: true,
    CognitoIdentityProviders: [{ ProviderName: providerName, ClientId: clientId }],
  }).IdentityPoolId;
  identity.setIdentityPoolRoles(identityPoolId, {
    Roles: { authenticated: roleArn("member"), unauthenticated: roleArn("guest") },
  });
  sts.putRole({
    arn: roleArn("guest"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "unauthenticated"),
  });
  sts.putRole({
    arn: roleArn("member"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "authenticated"),
  });

  const config = { endpoint: plane.endpoint, region: REGION, credentials };
  cognitoIdentity = new CognitoIdentityClient(config);
  cognitoIdp = new CognitoIdentityProviderClient(config);
}, 60_000);

afterAll(async () => {
  cognitoIdentity?.destroy();
  cognitoIdp?.destroy();
  await plane?.stop();
});

/** The link route wired to this identity pool and its real OpenID token keys. */
const deps = () =>
  plane.deps({
    identityPoolId,
    verifier: new JwtOpenIdTokenVerifier({
      identityPoolId,
      issuers: [{ issuer: identity.issuer, jwks: async () => identity.jwks() }],
    }),
  });

const route = (caller: Caller, method: string, path: string, body?: unknown) => {
  const event = iamEvent(caller, identityPoolId, { method, path, body });
  return path === "/identity/link"
    ? createLinkIdentityHandler(deps())(event)
    : createPreferencesHandler({ ...deps(), identityPoolId })(event);
};

/** Who API Gateway would say signed a request: the identity behind these credentials. */
function callerOf(accessKeyId: string, sub?: string): Caller {
  const recorded = sts.lookupCredentials(accessKeyId);
  expect(recorded?.identityId).toBeDefined();
  return { identityId: recorded!.identityId!, ...(sub ? { sub } : {}) };
}

async function guestDevice(preferences: Record<string, unknown>) {
  const { IdentityId } = await cognitoIdentity.send(
    new GetIdCommand({ IdentityPoolId: identityPoolId }),
  );
  const guest = await cognitoIdentity.send(new GetCredentialsForIdentityCommand({ IdentityId }));
  const caller = callerOf(guest.Credentials!.AccessKeyId!);
  expect(caller.identityId).toBe(IdentityId);
  const put = await route(caller, "PUT", "/identity/preferences", { preferences });
  expect(put.statusCode).toBe(200);
  const { Token } = await cognitoIdentity.send(new GetOpenIdTokenCommand({ IdentityId }));
  return { guestId: IdentityId!, proof: Token! };
}

async function signedInUser(email: string) {
  const sub = await signUpConfirmed({ cognito: cognitoIdp, idp, clientId }, email, PASSWORD);
  await cognitoIdp.send(
    new AdminAddUserToGroupCommand({
      UserPoolId: userPoolId,
      Username: email,
      GroupName: "member",
    }),
  );
  // Post confirmation would have created it; this journey is about identities.
  await plane.createProfile(sub);
  return { sub };
}

async function signIn(email: string, guestId: string) {
  const { AuthenticationResult } = await cognitoIdp.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );
  const logins = {
    [`cognito-idp.${REGION}.amazonaws.com/${userPoolId}`]: AuthenticationResult!.IdToken!,
  };
  return cognitoIdentity.send(
    new GetCredentialsForIdentityCommand({ IdentityId: guestId, Logins: logins }),
  );
}

it("links the first device's guest, then merges a second device's guest into it", async () => {
  const email = `journey-${crypto.randomUUID().slice(0, 8)}@example.com`;

  // Device A: a guest with data, then the user signs up and in; Cognito keeps the identity id.
  const deviceA = await guestDevice({ theme: "dark" });
  const { sub } = await signedInUser(email);
  const signedInA = await signIn(email, deviceA.guestId);
  expect(signedInA.IdentityId).toBe(deviceA.guestId);
  const callerA = callerOf(signedInA.Credentials!.AccessKeyId!, sub);
  const linked = await route(callerA, "POST", "/identity/link", { guestProof: deviceA.proof });
  expect(linked.statusCode).toBe(200);
  expect(bodyOf(linked)).toMatchObject({ outcome: "linked", identityId: deviceA.guestId });
  expect(await attachedPolicies(plane.iotClient, deviceA.guestId)).toEqual([plane.policyName]);

  // Device B: another guest with its own data; the same user signs in there; Cognito merges.
  const deviceB = await guestDevice({ theme: "light", lang: "fr" });
  const signedInB = await signIn(email, deviceB.guestId);
  expect(signedInB.IdentityId).toBe(deviceA.guestId);
  const callerB = callerOf(signedInB.Credentials!.AccessKeyId!, sub);
  expect(callerB.identityId).toBe(deviceA.guestId);
  const merged = await route(callerB, "POST", "/identity/link", { guestProof: deviceB.proof });
  expect(merged.statusCode).toBe(200);
  expect(bodyOf(merged)).toMatchObject({
    outcome: "merged",
    identityId: deviceA.guestId,
    guestIdentityId: deviceB.guestId,
  });

  // The survivor keeps its own values and gains the guest's; the IoT policy stays on it only.
  const preferences = await route(callerB, "GET", "/identity/preferences");
  expect(bodyOf(preferences)).toMatchObject({ preferences: { theme: "dark", lang: "fr" } });
  expect(await attachedPolicies(plane.iotClient, deviceA.guestId)).toEqual([plane.policyName]);
  expect(await attachedPolicies(plane.iotClient, deviceB.guestId)).toEqual([]);

  // A replay of the same proof changes nothing and emits nothing new.
  const replay = await route(callerB, "POST", "/identity/link", { guestProof: deviceB.proof });
  expect(replay.statusCode).toBe(200);

  // The events went out once each, to SNS and to Kinesis.
  await plane.sns.idle();
  const types = (events: Array<{ type: string; data?: unknown }>) =>
    events
      .filter((e) => JSON.stringify(e.data).includes(deviceA.guestId))
      .map((e) => e.type)
      .sort();
  const expected = ["boardingpass.identity.linked.v1", "boardingpass.identity.merged.v2"];
  expect(types(plane.snsMessages)).toEqual(expected);
  expect(types(await plane.kinesisEvents())).toEqual(expected);
}, 120_000);

it("refuses the signed-in identity's own OpenID token as a guest proof", async () => {
  const email = `refused-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const device = await guestDevice({ theme: "dark" });
  const { sub } = await signedInUser(email);
  const signedIn = await signIn(email, device.guestId);
  const caller = callerOf(signedIn.Credentials!.AccessKeyId!, sub);
  const { AuthenticationResult } = await cognitoIdp.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );

  // Once authenticated, the identity's OpenID token says so (amr "authenticated"): it proves the
  // identity, not a guest's possession, so the route refuses it.
  const { Token } = await cognitoIdentity.send(
    new GetOpenIdTokenCommand({
      IdentityId: device.guestId,
      Logins: {
        [`cognito-idp.${REGION}.amazonaws.com/${userPoolId}`]: AuthenticationResult!.IdToken!,
      },
    }),
  );
  const refused = await route(caller, "POST", "/identity/link", { guestProof: Token });

  expect(refused.statusCode).toBe(403);
  expect(JSON.stringify(bodyOf(refused))).toMatch(/authenticated|amr/i);
}, 120_000);
