import {
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { type IoTClient, ListAttachedPoliciesCommand } from "@aws-sdk/client-iot";
import type { CognitoIdpService } from "@boarding-pass/local/services/cognito-idp";

/**
 * Signs an email user up with the local user pool and confirms them with the code the pool sent,
 * as the app would; answers the user's `sub`.
 */
export async function signUpConfirmed(
  pool: { cognito: CognitoIdentityProviderClient; idp: CognitoIdpService; clientId: string },
  email: string,
  password: string,
): Promise<string> {
  const { UserSub } = await pool.cognito.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  const [message] = pool.idp.outbox({ email });
  await pool.cognito.send(
    new ConfirmSignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      ConfirmationCode: message!.code,
    }),
  );
  return UserSub!;
}

/** The names of the IoT policies attached to an identity. */
export async function attachedPolicies(iot: IoTClient, identityId: string) {
  const { policies } = await iot.send(new ListAttachedPoliciesCommand({ target: identityId }));
  return (policies ?? []).map((policy) => policy.policyName);
}
