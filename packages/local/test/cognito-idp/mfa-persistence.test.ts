/**
 * A verified TOTP secret and the user's MFA preference survive a restart (they are journaled with
 * the user), and the journal is the only place the secret is written.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AdminConfirmSignUpCommand,
  AssociateSoftwareTokenCommand,
  GetUserCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  SignUpCommand,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, describe, expect, it } from "vitest";
import { freshEmail, PASSWORD, startCognito } from "./harness";
import { totpCode } from "./totp-helper";

const dataDir = mkdtempSync(join(tmpdir(), "cognito-idp-mfa-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("TOTP MFA across a restart", () => {
  it("keeps the verified token and the preference", async () => {
    let clock = Date.UTC(2026, 1, 2, 9, 0, 5);
    const lines: string[] = [];
    const first = await startCognito({
      dataDir,
      now: () => clock,
      log: (line) => lines.push(line),
    });
    const pool = first.cognito.createUserPool({
      UsernameAttributes: ["email"],
      MfaConfiguration: "OPTIONAL",
      EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
    });
    const { ClientId } = first.cognito.createUserPoolClient(pool.Id, {
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
    const email = freshEmail("mfa-restart");
    await first.client.send(new SignUpCommand({ ClientId, Username: email, Password: PASSWORD }));
    await first.client.send(
      new AdminConfirmSignUpCommand({ UserPoolId: pool.Id, Username: email }),
    );
    const auth = (h: typeof first) =>
      h.client.send(
        new InitiateAuthCommand({
          ClientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: email, PASSWORD },
        }),
      );
    const token = (await auth(first)).AuthenticationResult!.AccessToken!;
    const { SecretCode } = await first.client.send(
      new AssociateSoftwareTokenCommand({ AccessToken: token }),
    );
    await first.client.send(
      new VerifySoftwareTokenCommand({
        AccessToken: token,
        UserCode: totpCode(SecretCode!, clock),
      }),
    );
    await first.client.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: token,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }),
    );
    await first.stop();
    expect(lines.join("\n")).not.toContain(SecretCode!);

    clock += 60_000;
    const second = await startCognito({ dataDir, now: () => clock });
    try {
      const challenged = await auth(second);
      expect(challenged.ChallengeName).toBe("SOFTWARE_TOKEN_MFA");
      const signedIn = await second.client.send(
        new RespondToAuthChallengeCommand({
          ClientId,
          ChallengeName: "SOFTWARE_TOKEN_MFA",
          Session: challenged.Session,
          ChallengeResponses: {
            USERNAME: email,
            SOFTWARE_TOKEN_MFA_CODE: totpCode(SecretCode!, clock),
          },
        }),
      );
      const self = await second.client.send(
        new GetUserCommand({ AccessToken: signedIn.AuthenticationResult!.AccessToken! }),
      );
      expect(self.PreferredMfaSetting).toBe("SOFTWARE_TOKEN_MFA");
    } finally {
      await second.stop();
    }
    // The secret is user state like the password hash: in the journal, nowhere else.
    expect(readFileSync(join(dataDir, "cognito-idp.journal.jsonl"), "utf8")).toContain("totp");
  });
});
