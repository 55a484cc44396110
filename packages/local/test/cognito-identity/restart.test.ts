/**
 * Persistence: identities, logins, merges (disabled flags), pools and the OpenID signing key
 * survive a restart on the same data directory; a token issued before the restart still verifies
 * after it. And a reset wipes everything but leaves the service usable.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CognitoIdentityClient,
  DescribeIdentityCommand,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
} from "@aws-sdk/client-cognito-identity";
import { JwtVerifier } from "aws-jwt-verify";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
} from "../../src/services/cognito-identity/index";
import { createStsService, type StsService } from "../../src/services/sts/index";
import { clientConfig, type Served, serve } from "../services/serve";
import { keySource, roleArn, TestUserPool, trustRoles } from "./fixtures";

const dataDir = mkdtempSync(join(tmpdir(), "cognito-identity-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Running {
  sts: StsService;
  service: CognitoIdentityService;
  served: Served;
  client: CognitoIdentityClient;
  stop(): Promise<void>;
}

async function start(userPool: TestUserPool, dir: string | undefined): Promise<Running> {
  const sts = createStsService({ region: "us-east-1", dataDir: dir });
  const service = createCognitoIdentityService({
    region: "us-east-1",
    dataDir: dir,
    sts,
    userPoolKeys: keySource(() => [userPool]),
  });
  const served = await serve(service);
  const client = new CognitoIdentityClient(clientConfig(served.endpoint));
  return {
    sts,
    service,
    served,
    client,
    async stop() {
      client.destroy();
      await served.close();
      await service.close();
      await sts.close();
    },
  };
}

function setUpPool(running: Running, userPool: TestUserPool) {
  const { IdentityPoolId } = running.service.createIdentityPool({
    IdentityPoolName: "restart",
    AllowUnauthenticatedIdentities: true,
    AllowClassicFlow: true,
    CognitoIdentityProviders: [
      { ProviderName: userPool.providerName, ClientId: userPool.clientId },
    ],
  });
  const guest = roleArn("restart-guest");
  const member = roleArn("restart-member");
  trustRoles(running.sts, IdentityPoolId, {
    [guest]: "unauthenticated",
    [member]: "authenticated",
  });
  running.service.setIdentityPoolRoles(IdentityPoolId, {
    Roles: { authenticated: member, unauthenticated: guest },
  });
  return { poolId: IdentityPoolId, member };
}

describe("restart", () => {
  it("keeps identities, logins, merges and the signing key", async () => {
    // The local user pool's issuer outlives the restart too (its own persistence).
    const userPool = new TestUserPool("http://127.0.0.1:4566");
    const sub = crypto.randomUUID();
    const login = () => ({ [userPool.providerName]: userPool.idToken({ sub }) });

    // Prepare
    const before = await start(userPool, dataDir);
    const { poolId, member } = setUpPool(before, userPool);
    const first = (await before.client.send(new GetIdCommand({ IdentityPoolId: poolId })))
      .IdentityId!;
    const second = (await before.client.send(new GetIdCommand({ IdentityPoolId: poolId })))
      .IdentityId!;
    await before.client.send(
      new GetCredentialsForIdentityCommand({ IdentityId: first, Logins: login() }),
    );
    const merged = await before.client.send(
      new GetCredentialsForIdentityCommand({ IdentityId: second, Logins: login() }),
    );
    expect(merged.IdentityId).toBe(first);
    const { Token } = await before.client.send(
      new GetOpenIdTokenCommand({ IdentityId: first, Logins: login() }),
    );
    const kid = before.service.jwks().keys[0]!.kid;
    await before.stop();

    // Act
    const after = await start(userPool, dataDir);
    try {
      // Assess
      const described = await after.client.send(new DescribeIdentityCommand({ IdentityId: first }));
      expect(described.Logins).toEqual([userPool.providerName]);
      expect(
        (await after.client.send(new GetIdCommand({ IdentityPoolId: poolId, Logins: login() })))
          .IdentityId,
      ).toBe(first);
      const forbidden = await after.client
        .send(new GetCredentialsForIdentityCommand({ IdentityId: second }))
        .catch((error: unknown) => error);
      expect(forbidden).toBeInstanceOf(NotAuthorizedException);
      expect((forbidden as Error).message).toBe(`Access to identity '${second}' is forbidden.`);

      expect(after.service.jwks().keys[0]!.kid).toBe(kid);
      const verifier = JwtVerifier.create({
        issuer: "https://cognito-identity.amazonaws.com",
        audience: poolId,
        jwksUri: "http://127.0.0.1/unused-jwks.json",
      });
      verifier.cacheJwks(after.service.jwks() as never);
      expect((await verifier.verify(Token!)).sub).toBe(first);
      // STS (restarted too) still knows the key and the role's trust.
      const assumed = after.sts.assumeRoleWithWebIdentity({
        roleArn: member,
        roleSessionName: "after-restart",
        webIdentityToken: Token!,
      });
      expect(assumed.credentials.identityId).toBe(first);
    } finally {
      await after.stop();
    }
  });
});

describe("reset", () => {
  it("forgets pools and identities and keeps working with a new key", async () => {
    const userPool = new TestUserPool("http://127.0.0.1:4566");
    const running = await start(userPool, undefined);
    try {
      const { poolId } = setUpPool(running, userPool);
      const oldKid = running.service.jwks().keys[0]!.kid;
      await running.sts.reset();
      await running.service.reset();

      const gone = await running.client
        .send(new GetIdCommand({ IdentityPoolId: poolId }))
        .catch((error: unknown) => error);
      expect(gone).toBeInstanceOf(ResourceNotFoundException);
      expect(running.service.jwks().keys[0]!.kid).not.toBe(oldKid);

      const again = setUpPool(running, userPool);
      const identityId = (
        await running.client.send(new GetIdCommand({ IdentityPoolId: again.poolId }))
      ).IdentityId!;
      const out = await running.client.send(
        new GetCredentialsForIdentityCommand({ IdentityId: identityId }),
      );
      expect(running.sts.lookupCredentials(out.Credentials!.AccessKeyId!)?.identityId).toBe(
        identityId,
      );

      // STS reset on its own forgets the pool's key: the service registers it again.
      await running.sts.reset();
      trustRoles(running.sts, again.poolId, {
        [roleArn("restart-guest")]: "unauthenticated",
        [again.member]: "authenticated",
      });
      const afterStsReset = await running.client.send(
        new GetCredentialsForIdentityCommand({ IdentityId: identityId }),
      );
      expect(afterStsReset.IdentityId).toBe(identityId);
    } finally {
      await running.stop();
    }
  });
});
