/**
 * Restart: pools, clients, groups, users (with their password hashes and SRP verifiers), signing
 * keys and revocations come back from the journal; tokens issued before the restart still verify.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AdminGetUserCommand,
  ConfirmSignUpCommand,
  GetUserCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtRsaVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { afterAll, describe, expect, it } from "vitest";
import { type CognitoHarness, emailPool, freshEmail, PASSWORD, startCognito } from "./harness";

const dataDir = mkdtempSync(join(tmpdir(), "cognito-idp-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function signIn(h: CognitoHarness, clientId: string, email: string) {
  const result = await h.client.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD },
    }),
  );
  return result.AuthenticationResult!;
}

describe("persistence across a restart", () => {
  it("keeps users and keys; old tokens verify, old refresh tokens work, revocations hold", async () => {
    const first = await startCognito({ dataDir });
    const { poolId, clientId } = emailPool(first.cognito);
    first.cognito.createGroup(poolId, { GroupName: "crew", Precedence: 1 });
    const email = freshEmail("restart");
    await first.client.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    await first.client.send(
      new ConfirmSignUpCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: await first.latestCode(email),
      }),
    );
    const kept = await signIn(first, clientId, email);
    const revoked = await signIn(first, clientId, email);
    await first.client.send(
      new RevokeTokenCommand({ ClientId: clientId, Token: revoked.RefreshToken! }),
    );
    const jwksBefore = first.cognito.jwks(poolId);
    await first.stop();

    const journal = readFileSync(join(dataDir, "cognito-idp.journal.jsonl"), "utf8");
    expect(journal).not.toContain(PASSWORD);

    // A new edge on a new port: the issuer base changes with it, the key does not.
    const second = await startCognito({ dataDir });
    try {
      expect(second.cognito.jwks(poolId)).toEqual(jwksBefore);
      const user = await second.client.send(
        new AdminGetUserCommand({ UserPoolId: poolId, Username: email }),
      );
      expect(user.UserStatus).toBe("CONFIRMED");

      const oldIssuer = JSON.parse(
        Buffer.from(kept.IdToken!.split(".")[1]!, "base64url").toString(),
      ).iss as string;
      const verifier = JwtRsaVerifier.create({
        issuer: oldIssuer,
        audience: clientId,
        jwksUri: `${second.endpoint}/${poolId}/.well-known/jwks.json`,
      });
      verifier.cacheJwks(
        (await (await fetch(`${second.endpoint}/${poolId}/.well-known/jwks.json`)).json()) as Jwks,
      );
      await expect(verifier.verify(kept.IdToken!)).resolves.toMatchObject({ email });

      await second.client.send(new GetUserCommand({ AccessToken: kept.AccessToken! }));
      const refreshed = await second.client.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: "REFRESH_TOKEN_AUTH",
          AuthParameters: { REFRESH_TOKEN: kept.RefreshToken! },
        }),
      );
      expect(refreshed.AuthenticationResult?.IdToken).toBeDefined();
      await expect(
        second.client.send(
          new InitiateAuthCommand({
            ClientId: clientId,
            AuthFlow: "REFRESH_TOKEN_AUTH",
            AuthParameters: { REFRESH_TOKEN: revoked.RefreshToken! },
          }),
        ),
      ).rejects.toThrow("Refresh Token has been revoked");

      // The password (hash and SRP verifier) survived too.
      await signIn(second, clientId, email);
    } finally {
      await second.stop();
    }
  });
});
