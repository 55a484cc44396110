/**
 * TOTP MFA with the unmodified browser clients: amazon-cognito-identity-js (associateSoftwareToken,
 * verifySoftwareToken, setUserMfaPreference, totpRequired and sendMFACode) and Amplify v6
 * (setUpTOTP, verifyTOTPSetup, updateMFAPreference, signIn's TOTP steps and confirmSignIn). The
 * service runs on the real clock; the sign-in uses the next step's code, which the service accepts
 * as an adjacent step and which the verification has not spent.
 */
import { AdminConfirmSignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import { Amplify } from "aws-amplify";
import {
  confirmSignIn,
  fetchAuthSession,
  fetchMFAPreference,
  setUpTOTP,
  signIn,
  signOut,
  signUp,
  updateMFAPreference,
  verifyTOTPSetup,
} from "aws-amplify/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CognitoHarness, freshEmail, PASSWORD, startCognito } from "./harness";
import { totpCode } from "./totp-helper";

let h: CognitoHarness;

beforeAll(async () => {
  h = await startCognito();
});
afterAll(async () => {
  await h.stop();
});

function mfaPool(mode: "OPTIONAL" | "ON") {
  const pool = h.cognito.createUserPool({
    UserPoolName: "mfa-clients",
    UsernameAttributes: ["email"],
    AutoVerifiedAttributes: ["email"],
    MfaConfiguration: mode,
    EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
  });
  const { ClientId } = h.cognito.createUserPoolClient(pool.Id, {
    ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  });
  return { poolId: pool.Id, clientId: ClientId };
}

/** The code for the step after now: valid for the sign-in, unspent by the verification. */
function nextCode(secret: string): string {
  return totpCode(secret, Date.now() + 30_000);
}

describe("amazon-cognito-identity-js", () => {
  it("sets up TOTP, then an SRP sign-in ends in totpRequired and sendMFACode completes it", async () => {
    const { poolId, clientId } = mfaPool("OPTIONAL");
    const pool = new CognitoUserPool({
      UserPoolId: poolId,
      ClientId: clientId,
      endpoint: h.endpoint,
    });
    const email = freshEmail("totp-js");
    await new Promise<void>((resolve, reject) =>
      pool.signUp(email, PASSWORD, [], [], (error) => (error ? reject(error) : resolve())),
    );
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));

    const user = new CognitoUser({ Username: email, Pool: pool });
    const details = new AuthenticationDetails({ Username: email, Password: PASSWORD });
    await new Promise<CognitoUserSession>((resolve, reject) =>
      user.authenticateUser(details, { onSuccess: resolve, onFailure: reject }),
    );
    const secret = await new Promise<string>((resolve, reject) =>
      user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject }),
    );
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await new Promise<unknown>((resolve, reject) =>
      user.verifySoftwareToken(totpCode(secret, Date.now()), "laptop", {
        onSuccess: resolve,
        onFailure: reject,
      }),
    );
    await new Promise<unknown>((resolve, reject) =>
      user.setUserMfaPreference(null, { Enabled: true, PreferredMfa: true }, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );

    const again = new CognitoUser({ Username: email, Pool: pool });
    const challenge = await new Promise<string>((resolve, reject) =>
      again.authenticateUser(details, {
        onSuccess: () => reject(new Error("signed in without MFA")),
        onFailure: reject,
        totpRequired: (challengeName) => resolve(challengeName),
      }),
    );
    expect(challenge).toBe("SOFTWARE_TOKEN_MFA");
    const session = await new Promise<CognitoUserSession>((resolve, reject) =>
      again.sendMFACode(
        nextCode(secret),
        { onSuccess: resolve, onFailure: reject },
        "SOFTWARE_TOKEN_MFA",
      ),
    );
    expect(session.isValid()).toBe(true);
    expect(session.getIdToken().decodePayload().email).toBe(email);
  });
});

describe("aws-amplify v6", () => {
  it("setUpTOTP, verifyTOTPSetup and updateMFAPreference; signIn then asks for the TOTP code", async () => {
    const { poolId, clientId } = mfaPool("OPTIONAL");
    Amplify.configure({
      Auth: {
        Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: h.endpoint },
      },
    });
    const email = freshEmail("totp-amplify");
    await signUp({ username: email, password: PASSWORD });
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
    expect((await signIn({ username: email, password: PASSWORD })).isSignedIn).toBe(true);

    const setup = await setUpTOTP();
    expect(setup.getSetupUri("Boarding Pass").toString()).toContain(setup.sharedSecret);
    await verifyTOTPSetup({ code: totpCode(setup.sharedSecret, Date.now()) });
    await updateMFAPreference({ totp: "PREFERRED" });
    const preference = await fetchMFAPreference();
    expect(preference.enabled).toEqual(["TOTP"]);
    expect(preference.preferred).toBe("TOTP");
    await signOut();

    const first = await signIn({ username: email, password: PASSWORD });
    expect(first.isSignedIn).toBe(false);
    expect(first.nextStep.signInStep).toBe("CONFIRM_SIGN_IN_WITH_TOTP_CODE");
    const confirmed = await confirmSignIn({ challengeResponse: nextCode(setup.sharedSecret) });
    expect(confirmed.isSignedIn).toBe(true);
    const tokens = (await fetchAuthSession()).tokens;
    expect(tokens?.idToken?.payload.email).toBe(email);
    await signOut();
  });

  it("MfaConfiguration ON: signIn continues with TOTP setup and confirmSignIn completes it", async () => {
    const { poolId, clientId } = mfaPool("ON");
    Amplify.configure({
      Auth: {
        Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: h.endpoint },
      },
    });
    const email = freshEmail("totp-setup");
    await signUp({ username: email, password: PASSWORD });
    await h.client.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));

    const first = await signIn({ username: email, password: PASSWORD });
    expect(first.nextStep.signInStep).toBe("CONTINUE_SIGN_IN_WITH_TOTP_SETUP");
    if (first.nextStep.signInStep !== "CONTINUE_SIGN_IN_WITH_TOTP_SETUP") return;
    const secret = first.nextStep.totpSetupDetails.sharedSecret;
    const confirmed = await confirmSignIn({ challengeResponse: totpCode(secret, Date.now()) });
    expect(confirmed.isSignedIn).toBe(true);
    await signOut();

    const next = await signIn({ username: email, password: PASSWORD });
    expect(next.nextStep.signInStep).toBe("CONFIRM_SIGN_IN_WITH_TOTP_CODE");
    expect((await confirmSignIn({ challengeResponse: nextCode(secret) })).isSignedIn).toBe(true);
    await signOut();
  });
});
