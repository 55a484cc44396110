/**
 * Attacks on the local user pool and identity pool of the booted local cloud (issue 12, section
 * 4), with unmodified clients: the AWS SDK v3, and amazon-cognito-identity-js's SRP helper for the
 * client half of USER_SRP_AUTH.
 *
 * - Identity takeover by id: an attacker who knows a victim's authenticated identity id asks for
 *   its credentials with the attacker's own login. "If you have an authenticated identity, you
 *   must pass at least one valid token for a login already associated with that identity"
 *   (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html).
 * - Server-side SRP: AdminInitiateAuth documents USER_SRP_AUTH, answered through
 *   AdminRespondToAuthChallenge with PASSWORD_VERIFIER
 *   (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminInitiateAuth.html);
 *   the answer is single-use.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  NotAuthorizedException,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
  NotAuthorizedException as UserPoolNotAuthorizedException,
} from "@aws-sdk/client-cognito-identity-provider";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import {
  BOOT_TIMEOUT_MS,
  bootCloud,
  inProcessProbe,
  STEP_TIMEOUT_MS,
} from "@boarding-pass/testing/cloud";
import { srpClient } from "@boarding-pass/testing/srp-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PASSWORD = "Corr3ct-Horse-Battery!";
const LOGINS_DO_NOT_MATCH =
  "Logins don't match. Please include at least one valid login for this identity or identity pool.";

let cloud: LocalCloud;
let idp: CognitoIdentityProviderClient;
let identity: CognitoIdentityClient;
let userPoolId: string;
let clientId: string;
let identityPoolId: string;

beforeAll(async () => {
  cloud = await bootCloud();
  const config = {
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
  idp = new CognitoIdentityProviderClient(config);
  identity = new CognitoIdentityClient(config);
  userPoolId = cloud.output("UserPoolId");
  clientId = cloud.output("UserPoolClientId");
  identityPoolId = cloud.output("IdentityPoolId");
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  idp?.destroy();
  identity?.destroy();
  await cloud?.stop();
}, STEP_TIMEOUT_MS);

async function confirmedUser(label: string): Promise<string> {
  const email = `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await idp.send(
    new SignUpCommand({
      ClientId: clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  const probe = inProcessProbe(cloud);
  let code: string | undefined;
  for (let attempt = 0; attempt < 100 && !code; attempt++) {
    code = (await probe.confirmationCodes(email)).at(-1);
    if (!code) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!code) throw new Error(`no confirmation code reached ${email}`);
  await idp.send(
    new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }),
  );
  return email;
}

/** AdminInitiateAuth USER_SRP_AUTH, then the PASSWORD_VERIFIER answer it needs. */
async function adminSrpChallenge(email: string) {
  const srp = await srpClient(userPoolId);
  const started = await idp.send(
    new AdminInitiateAuthCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      AuthFlow: "USER_SRP_AUTH",
      AuthParameters: { USERNAME: email, SRP_A: srp.srpA },
    }),
  );
  expect(started.ChallengeName).toBe("PASSWORD_VERIFIER");
  const answer = new AdminRespondToAuthChallengeCommand({
    UserPoolId: userPoolId,
    ClientId: clientId,
    ChallengeName: "PASSWORD_VERIFIER",
    ChallengeResponses: await srp.answer(started.ChallengeParameters!, PASSWORD),
  });
  return answer;
}

async function adminSrpSignIn(email: string): Promise<string> {
  const done = await idp.send(await adminSrpChallenge(email));
  const idToken = done.AuthenticationResult?.IdToken;
  if (!idToken) throw new Error(`no ID token for ${email}`);
  return idToken;
}

function logins(idToken: string): Record<string, string> {
  return { [`cognito-idp.${cloud.region}.amazonaws.com/${userPoolId}`]: idToken };
}

async function identityOf(idToken: string): Promise<string> {
  const { IdentityId } = await identity.send(
    new GetIdCommand({ IdentityPoolId: identityPoolId, Logins: logins(idToken) }),
  );
  if (!IdentityId) throw new Error("GetId returned no identity");
  return IdentityId;
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("the local cloud's user pool: server-side SRP sign-in (API_AdminInitiateAuth.html)", () => {
  it(
    "signs a user in with AdminInitiateAuth USER_SRP_AUTH and AdminRespondToAuthChallenge",
    async () => {
      const email = await confirmedUser("srp");
      const idToken = await adminSrpSignIn(email);
      const claims = JSON.parse(Buffer.from(idToken.split(".")[1]!, "base64url").toString());
      expect(claims).toMatchObject({ email, token_use: "id" });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "refuses the same PASSWORD_VERIFIER answer replayed",
    async () => {
      const email = await confirmedUser("replay");
      const answer = await adminSrpChallenge(email);
      expect((await idp.send(answer)).AuthenticationResult?.IdToken).toBeTruthy();
      const replay = await rejection(idp.send(answer));
      expect(replay).toBeInstanceOf(UserPoolNotAuthorizedException);
      expect(replay.message).toBe("Invalid session for the user, session can only be used once.");
    },
    STEP_TIMEOUT_MS,
  );
});

describe("the local cloud's identity pool: an authenticated identity needs its own login (authentication-flow.html)", () => {
  it(
    "refuses an attacker's login on the victim's identity, and changes nothing",
    async () => {
      const victimToken = await adminSrpSignIn(await confirmedUser("victim"));
      const attackerToken = await adminSrpSignIn(await confirmedUser("attacker"));
      const victimId = await identityOf(victimToken);
      const attackerId = await identityOf(attackerToken);

      const attack = await rejection(
        identity.send(
          new GetCredentialsForIdentityCommand({
            IdentityId: victimId,
            Logins: logins(attackerToken),
          }),
        ),
      );
      expect(attack).toBeInstanceOf(NotAuthorizedException);
      expect(attack.message).toBe(LOGINS_DO_NOT_MATCH);

      // Nothing merged or linked: each login still finds its own identity, and the victim's works.
      expect(await identityOf(victimToken)).toBe(victimId);
      expect(await identityOf(attackerToken)).toBe(attackerId);
      const own = await identity.send(
        new GetCredentialsForIdentityCommand({ IdentityId: victimId, Logins: logins(victimToken) }),
      );
      expect(own.IdentityId).toBe(victimId);
      expect(cloud.aws.cognitoIdentity?.identity(victimId)).toMatchObject({ disabled: false });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "refuses the victim's identity id with no Logins at all",
    async () => {
      const victimId = await identityOf(await adminSrpSignIn(await confirmedUser("no-logins")));
      const error = await rejection(
        identity.send(new GetCredentialsForIdentityCommand({ IdentityId: victimId })),
      );
      expect(error).toBeInstanceOf(NotAuthorizedException);
      expect(error.message).toBe(LOGINS_DO_NOT_MATCH);
    },
    STEP_TIMEOUT_MS,
  );
});
