/**
 * The local identity pools behind the real edge, driven by the unmodified
 * `@aws-sdk/client-cognito-identity` (and `@aws-sdk/client-sts` for the classic flow).
 * Each test makes its own identity pool and user pool, so tests never share state.
 */
import {
  CognitoIdentityClient,
  CreateIdentityPoolCommand,
  DescribeIdentityCommand,
  DescribeIdentityPoolCommand,
  DeveloperUserAlreadyRegisteredException,
  GetCredentialsForIdentityCommand,
  type GetCredentialsForIdentityCommandInput,
  GetIdCommand,
  GetIdentityPoolRolesCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  InvalidIdentityPoolConfigurationException,
  InvalidParameterException,
  ListIdentitiesCommand,
  MergeDeveloperIdentitiesCommand,
  NotAuthorizedException,
  ResourceConflictException,
  ResourceNotFoundException,
  SetIdentityPoolRolesCommand,
  UnlinkIdentityCommand,
} from "@aws-sdk/client-cognito-identity";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { JwtVerifier } from "aws-jwt-verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
  GUEST_SESSION_POLICY,
  type IdentityPoolDefinition,
  type IdentityPoolRolesDefinition,
} from "../../src/services/cognito-identity/index";
import { createStsService, type StsService } from "../../src/services/sts/index";
import { generateSigningKey } from "../services/jwt-helpers";
import { clientConfig } from "../services/serve";
import { keySource, roleArn, TestUserPool, trustRoles } from "./fixtures";

let aws: LocalAws;
let sts: StsService;
let identity: CognitoIdentityService;
let client: CognitoIdentityClient;
const userPools: TestUserPool[] = [];
/** Users the stand-in user pool reports as globally signed out (ServerSideTokenCheck). */
const signedOut = new Set<string>();

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  sts = createStsService({ region: "us-east-1" });
  identity = createCognitoIdentityService({
    region: "us-east-1",
    sts,
    userPoolKeys: keySource(() => userPools),
    serverSideTokenCheck: async ({ claims }) => !signedOut.has(String(claims.sub)),
  });
  aws.register(sts);
  aws.register(identity);
  client = new CognitoIdentityClient(clientConfig(aws.endpoint));
});
afterAll(async () => {
  client?.destroy();
  await aws?.stop();
});

interface Fixture {
  poolId: string;
  userPool: TestUserPool;
  guestRole: string;
  authRole: string;
}

/** A user pool plus an identity pool trusting it, with roles STS knows and trusts. */
function makePool(
  overrides: Partial<IdentityPoolDefinition> = {},
  roles: (f: Omit<Fixture, "poolId"> & { poolId: string }) => IdentityPoolRolesDefinition = (
    f,
  ) => ({ Roles: { authenticated: f.authRole, unauthenticated: f.guestRole } }),
): Fixture {
  const userPool = new TestUserPool(aws.endpoint);
  userPools.push(userPool);
  const suffix = userPool.id.slice(-6);
  const { IdentityPoolId: poolId } = identity.createIdentityPool({
    IdentityPoolName: `pool_${suffix}`,
    AllowUnauthenticatedIdentities: true,
    CognitoIdentityProviders: [
      {
        ProviderName: userPool.providerName,
        ClientId: userPool.clientId,
        ServerSideTokenCheck: true,
      },
    ],
    ...overrides,
  });
  const fixture = {
    poolId,
    userPool,
    guestRole: roleArn(`guest-${suffix}`),
    authRole: roleArn(`member-${suffix}`),
  };
  trustRoles(sts, poolId, {
    [fixture.guestRole]: "unauthenticated",
    [fixture.authRole]: "authenticated",
  });
  identity.setIdentityPoolRoles(poolId, roles(fixture));
  return fixture;
}

/** An identity pool trusting two user pools (two public providers), with trusted roles. */
function twoProviderPool() {
  const userPoolsOfPool = [new TestUserPool(aws.endpoint), new TestUserPool(aws.endpoint)] as const;
  userPools.push(...userPoolsOfPool);
  const suffix = userPoolsOfPool[0].id.slice(-6);
  const { IdentityPoolId: poolId } = identity.createIdentityPool({
    IdentityPoolName: `two_${suffix}`,
    AllowUnauthenticatedIdentities: true,
    CognitoIdentityProviders: userPoolsOfPool.map((pool) => ({
      ProviderName: pool.providerName,
      ClientId: pool.clientId,
    })),
  });
  const authRole = roleArn(`two-member-${suffix}`);
  const guestRole = roleArn(`two-guest-${suffix}`);
  trustRoles(sts, poolId, { [guestRole]: "unauthenticated", [authRole]: "authenticated" });
  identity.setIdentityPoolRoles(poolId, {
    Roles: { authenticated: authRole, unauthenticated: guestRole },
  });
  return { poolId, userPools: userPoolsOfPool, authRole };
}

async function getId(poolId: string, logins?: Record<string, string>) {
  const out = await client.send(new GetIdCommand({ IdentityPoolId: poolId, Logins: logins }));
  return out.IdentityId!;
}

function credentials(input: GetCredentialsForIdentityCommandInput) {
  return client.send(new GetCredentialsForIdentityCommand(input));
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string; message: string };
  }
  throw new Error("expected a rejection");
}

describe("guests", () => {
  it("get an identity and scoped-down credentials for the unauthenticated role", async () => {
    const f = makePool();
    const identityId = await getId(f.poolId);
    expect(identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);

    const out = await credentials({ IdentityId: identityId });
    expect(out.IdentityId).toBe(identityId);
    const c = out.Credentials!;
    expect(c.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(c.SecretKey).toHaveLength(40);
    expect(c.SessionToken).toBeTruthy();
    // An hour, as the enhanced flow issues.
    const lifetime = c.Expiration!.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);

    const recorded = sts.lookupCredentials(c.AccessKeyId!)!;
    expect(recorded).toMatchObject({
      identityId,
      subject: identityId,
      roleArn: f.guestRole,
      assumedRoleArn: `arn:aws:sts::000000000000:assumed-role/${f.guestRole.split("/")[1]}/CognitoIdentityCredentials`,
      sessionPolicy: GUEST_SESSION_POLICY,
    });
    const policy = JSON.parse(recorded.sessionPolicy!) as { Statement: { Action: string[] }[] };
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).not.toContain("iot:AttachPolicy");
    expect(actions.some((a) => a.startsWith("iam:") || a.startsWith("sts:"))).toBe(false);
  });

  it("are refused when the pool does not allow unauthenticated identities", async () => {
    const f = makePool({ AllowUnauthenticatedIdentities: false });
    const error = await rejection(getId(f.poolId));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Unauthenticated access is not supported for this identity pool.");
  });

  it("cannot use an authenticated identity by its id alone", async () => {
    const f = makePool();
    const identityId = await getId(f.poolId, { [f.userPool.providerName]: f.userPool.idToken() });
    const error = await rejection(credentials({ IdentityId: identityId }));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe(
      "Logins don't match. Please include at least one valid login for this identity or identity pool.",
    );
  });
});

describe("authenticated identities", () => {
  it("accept both the AWS-shaped provider key and the local issuer form", async () => {
    const f = makePool();
    const sub = crypto.randomUUID();
    const viaAwsKey = await getId(f.poolId, {
      [f.userPool.providerName]: f.userPool.idToken({ sub }),
    });
    const viaLocalKey = await getId(f.poolId, {
      [f.userPool.localLoginKey]: f.userPool.idToken({ sub }),
    });
    expect(viaLocalKey).toBe(viaAwsKey);
    const described = await client.send(new DescribeIdentityCommand({ IdentityId: viaAwsKey }));
    // Reported under the configured, AWS-shaped name whichever key the client used.
    expect(described.Logins).toEqual([f.userPool.providerName]);
  });

  it("get the default authenticated role without a role mapping", async () => {
    const f = makePool();
    const token = f.userPool.idToken();
    const identityId = await getId(f.poolId, { [f.userPool.providerName]: token });
    const out = await credentials({
      IdentityId: identityId,
      Logins: { [f.userPool.providerName]: token },
    });
    const recorded = sts.lookupCredentials(out.Credentials!.AccessKeyId!)!;
    expect(recorded.roleArn).toBe(f.authRole);
    expect(recorded.identityId).toBe(identityId);
    expect(recorded.sessionPolicy).toBeUndefined();
  });

  describe("Token role mapping", () => {
    const admin = roleArn("token-admin");
    const editor = roleArn("token-editor");
    function tokenPool(ambiguous: "AuthenticatedRole" | "Deny") {
      const f = makePool({}, (p) => ({
        Roles: { authenticated: p.authRole, unauthenticated: p.guestRole },
        RoleMappings: {
          userPool: {
            IdentityProvider: `${p.userPool.providerName}:${p.userPool.clientId}`,
            Type: "Token",
            AmbiguousRoleResolution: ambiguous,
          },
        },
      }));
      trustRoles(sts, f.poolId, { [admin]: "authenticated", [editor]: "authenticated" });
      return f;
    }
    async function roleFor(f: Fixture, claims: Record<string, unknown>, custom?: string) {
      const token = f.userPool.idToken(claims);
      const login = { [f.userPool.providerName]: token };
      const out = await credentials({
        IdentityId: await getId(f.poolId, login),
        Logins: login,
        ...(custom ? { CustomRoleArn: custom } : {}),
      });
      return sts.lookupCredentials(out.Credentials!.AccessKeyId!)!.roleArn;
    }

    it("uses cognito:preferred_role", async () => {
      const f = tokenPool("Deny");
      expect(
        await roleFor(f, { "cognito:roles": [admin, editor], "cognito:preferred_role": editor }),
      ).toBe(editor);
    });

    it("uses the only role in cognito:roles", async () => {
      const f = tokenPool("Deny");
      expect(await roleFor(f, { "cognito:roles": [admin] })).toBe(admin);
    });

    it("honours a CustomRoleArn listed in cognito:roles and denies one that is not", async () => {
      const f = tokenPool("Deny");
      const claims = { "cognito:roles": [admin, editor], "cognito:preferred_role": admin };
      expect(await roleFor(f, claims, editor)).toBe(editor);
      const error = await rejection(roleFor(f, claims, roleArn("not-in-token")));
      expect(error).toBeInstanceOf(NotAuthorizedException);
    });

    it("denies ambiguous roles with Deny, with Cognito's message", async () => {
      const f = tokenPool("Deny");
      const error = await rejection(roleFor(f, { "cognito:roles": [admin, editor] }));
      expect(error).toBeInstanceOf(NotAuthorizedException);
      expect(error.message).toBe(
        `The ambiguous role mapping rules for: ${f.userPool.providerName} denied this request.`,
      );
    });

    it("falls back to the authenticated role with AuthenticatedRole", async () => {
      const f = tokenPool("AuthenticatedRole");
      expect(await roleFor(f, { "cognito:roles": [admin, editor] })).toBe(f.authRole);
    });
  });

  it("applies Rules in order, first match wins", async () => {
    const gold = roleArn("rules-gold");
    const silver = roleArn("rules-silver");
    const f = makePool({}, (p) => ({
      Roles: { authenticated: p.authRole },
      RoleMappings: {
        [`${p.userPool.localLoginKey}:${p.userPool.clientId}`]: {
          Type: "Rules",
          AmbiguousRoleResolution: "Deny",
          RulesConfiguration: {
            Rules: [
              { Claim: "custom:tier", MatchType: "Equals", Value: "gold", RoleARN: gold },
              { Claim: "cognito:groups", MatchType: "Contains", Value: "silver", RoleARN: silver },
              { Claim: "custom:tier", MatchType: "StartsWith", Value: "go", RoleARN: silver },
            ],
          },
        },
      },
    }));
    trustRoles(sts, f.poolId, { [gold]: "authenticated", [silver]: "authenticated" });
    // The mapping was written with the local key form and is stored under the AWS-shaped name.
    const roles = await client.send(new GetIdentityPoolRolesCommand({ IdentityPoolId: f.poolId }));
    expect(Object.keys(roles.RoleMappings!)).toEqual([
      `${f.userPool.providerName}:${f.userPool.clientId}`,
    ]);

    const roleOf = async (claims: Record<string, unknown>) => {
      const login = { [f.userPool.providerName]: f.userPool.idToken(claims) };
      const out = await credentials({ IdentityId: await getId(f.poolId, login), Logins: login });
      return sts.lookupCredentials(out.Credentials!.AccessKeyId!)!.roleArn;
    };
    expect(await roleOf({ "custom:tier": "gold", "cognito:groups": ["silver-members"] })).toBe(
      gold,
    );
    expect(await roleOf({ "cognito:groups": ["silver-members"] })).toBe(silver);
    const error = await rejection(roleOf({ "custom:tier": "bronze" }));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toContain("ambiguous role mapping rules");
  });
});

describe("login validation", () => {
  async function loginError(f: Fixture, key: string, token: string) {
    return rejection(getId(f.poolId, { [key]: token }));
  }

  it("refuses a token whose issuer is another pool", async () => {
    const f = makePool();
    const other = new TestUserPool(aws.endpoint);
    userPools.push(other);
    const error = await loginError(f, f.userPool.providerName, other.idToken());
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Invalid login token. Issuer doesn't match providerName");
  });

  it("refuses a provider the pool does not have", async () => {
    const f = makePool();
    const other = new TestUserPool(aws.endpoint);
    userPools.push(other);
    const error = await loginError(f, other.providerName, other.idToken());
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Token is not from a supported provider of this identity pool.");
  });

  it("refuses an audience that is not a configured client", async () => {
    const f = makePool();
    const error = await loginError(
      f,
      f.userPool.providerName,
      f.userPool.idToken({ aud: "someotherclient" }),
    );
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Token is not from a supported provider of this identity pool.");
  });

  it("refuses an expired token, naming both times", async () => {
    const f = makePool();
    const exp = Math.floor(Date.now() / 1000) - 60;
    const error = await loginError(
      f,
      f.userPool.providerName,
      f.userPool.idToken({ exp, iat: exp - 3600 }),
    );
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toMatch(
      new RegExp(`^Invalid login token\\. Token expired: \\d+ >= ${exp}$`),
    );
  });

  it("refuses an access token: it has no aud", async () => {
    const f = makePool();
    const error = await loginError(f, f.userPool.providerName, f.userPool.accessToken());
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Invalid login token. Missing a required claim: aud");
  });

  it("refuses a token signed by another key", async () => {
    const f = makePool();
    // Same issuer, same kid, different key: the pool's JWKS does not verify it.
    const forger = new TestUserPool(aws.endpoint, {
      ...generateSigningKey(f.userPool.key.kid),
    });
    Object.defineProperty(forger, "id", { value: f.userPool.id });
    const error = await loginError(
      f,
      f.userPool.providerName,
      forger.idToken({ aud: f.userPool.clientId }),
    );
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Invalid login token. Couldn't verify signed token.");
  });

  it("asks the user pool about the session when ServerSideTokenCheck is on", async () => {
    const checked = makePool();
    const unchecked = makePool({
      CognitoIdentityProviders: [
        { ProviderName: checked.userPool.providerName, ClientId: checked.userPool.clientId },
      ],
    });
    const sub = crypto.randomUUID();
    signedOut.add(sub);
    const token = checked.userPool.idToken({ sub });
    const error = await loginError(checked, checked.userPool.providerName, token);
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe(
      "Invalid login token. The user is signed out, deleted or the token is revoked.",
    );
    expect(await getId(unchecked.poolId, { [checked.userPool.providerName]: token })).toMatch(
      /^us-east-1:/,
    );
  });

  it("refuses something that is not a JWT", async () => {
    const f = makePool();
    const error = await loginError(f, f.userPool.providerName, "not-a-token");
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe("Invalid login token. Not a Cognito token.");
  });
});

describe("link and merge", () => {
  it("links a new login to the guest identity passed in", async () => {
    const f = makePool();
    const guest = await getId(f.poolId);
    const login = { [f.userPool.providerName]: f.userPool.idToken() };
    const out = await credentials({ IdentityId: guest, Logins: login });
    expect(out.IdentityId).toBe(guest);
    expect(sts.lookupCredentials(out.Credentials!.AccessKeyId!)!.roleArn).toBe(f.authRole);
    // Same id, now authenticated: GetId with the login finds it.
    expect(await getId(f.poolId, login)).toBe(guest);
    const described = await client.send(new DescribeIdentityCommand({ IdentityId: guest }));
    expect(described.Logins).toEqual([f.userPool.providerName]);
  });

  it("merges a second guest into the identity that owns the login and disables it", async () => {
    const f = makePool();
    const sub = crypto.randomUUID();
    const first = await getId(f.poolId);
    const second = await getId(f.poolId);
    await credentials({
      IdentityId: first,
      Logins: { [f.userPool.providerName]: f.userPool.idToken({ sub }) },
    });

    const merged = await credentials({
      IdentityId: second,
      Logins: { [f.userPool.providerName]: f.userPool.idToken({ sub }) },
    });
    // "The IdentityId returned may not match the one passed."
    expect(merged.IdentityId).toBe(first);
    expect(sts.lookupCredentials(merged.Credentials!.AccessKeyId!)!.identityId).toBe(first);

    const error = await rejection(credentials({ IdentityId: second }));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe(`Access to identity '${second}' is forbidden.`);
    expect(identity.identity(second)).toMatchObject({ disabled: true, mergedInto: first });

    const listed = await client.send(
      new ListIdentitiesCommand({ IdentityPoolId: f.poolId, MaxResults: 60 }),
    );
    expect(listed.Identities!.map((i) => i.IdentityId)).toEqual(
      expect.arrayContaining([first, second]),
    );
    const visible = await client.send(
      new ListIdentitiesCommand({ IdentityPoolId: f.poolId, MaxResults: 60, HideDisabled: true }),
    );
    expect(visible.Identities!.map((i) => i.IdentityId)).toEqual([first]);
  });

  it("unlinks a login; removing the last one makes the identity inaccessible", async () => {
    const f = makePool();
    const token = f.userPool.idToken();
    const login = { [f.userPool.providerName]: token };
    const identityId = await getId(f.poolId, login);
    await client.send(
      new UnlinkIdentityCommand({
        IdentityId: identityId,
        Logins: login,
        LoginsToRemove: [f.userPool.providerName],
      }),
    );
    const described = await client.send(new DescribeIdentityCommand({ IdentityId: identityId }));
    expect(described.Logins ?? []).toEqual([]);
    const error = await rejection(credentials({ IdentityId: identityId, Logins: login }));
    expect(error.message).toBe(`Access to identity '${identityId}' is forbidden.`);
    // The login is new again: it gets a new identity.
    expect(await getId(f.poolId, login)).not.toBe(identityId);
  });

  it("refuses to unlink without a login of the identity", async () => {
    const f = makePool();
    const identityId = await getId(f.poolId, { [f.userPool.providerName]: f.userPool.idToken() });
    const error = await rejection(
      client.send(
        new UnlinkIdentityCommand({
          IdentityId: identityId,
          Logins: { [f.userPool.providerName]: f.userPool.idToken() },
          LoginsToRemove: [f.userPool.providerName],
        }),
      ),
    );
    expect(error).toBeInstanceOf(NotAuthorizedException);
  });
});

describe("OpenID tokens and the classic flow", () => {
  it("issues a token aws-jwt-verify accepts and STS exchanges for a trusting role", async () => {
    const f = makePool({ AllowClassicFlow: true });
    const sub = crypto.randomUUID();
    const login = { [f.userPool.providerName]: f.userPool.idToken({ sub }) };
    const identityId = await getId(f.poolId, login);
    const { Token, IdentityId } = await client.send(
      new GetOpenIdTokenCommand({ IdentityId: identityId, Logins: login }),
    );
    expect(IdentityId).toBe(identityId);

    const verifier = JwtVerifier.create({
      issuer: "https://cognito-identity.amazonaws.com",
      audience: f.poolId,
      jwksUri: `${aws.endpoint}/_local/cognito-identity/jwks.json`,
    });
    const jwks = (await (
      await fetch(`${aws.endpoint}/_local/cognito-identity/jwks.json`)
    ).json()) as { keys: [] };
    expect(jwks).toEqual(identity.jwks());
    verifier.cacheJwks(jwks as never);
    const payload = await verifier.verify(Token!);
    expect(payload.sub).toBe(identityId);
    expect(payload.aud).toBe(f.poolId);
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.amr).toEqual([
      "authenticated",
      f.userPool.providerName,
      `${f.userPool.providerName}:CognitoSignIn:${sub}`,
    ]);

    const stsClient = new STSClient(clientConfig(aws.endpoint));
    try {
      const assumed = await stsClient.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: f.authRole,
          RoleSessionName: "classic",
          WebIdentityToken: Token,
        }),
      );
      expect(assumed.SubjectFromWebIdentityToken).toBe(identityId);
      const recorded = sts.lookupCredentials(assumed.Credentials!.AccessKeyId!)!;
      expect(recorded).toMatchObject({ identityId, roleArn: f.authRole });
      // The classic flow applies no scope-down policy.
      expect(recorded.sessionPolicy).toBeUndefined();
      // The guest role trusts only amr "unauthenticated".
      const refused = await rejection(
        stsClient.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: f.guestRole,
            RoleSessionName: "classic",
            WebIdentityToken: Token,
          }),
        ),
      );
      expect(refused.name).toBe("AccessDenied");
    } finally {
      stsClient.destroy();
    }
  });

  it("gives guests an unauthenticated token", async () => {
    const f = makePool({ AllowClassicFlow: true });
    const identityId = await getId(f.poolId);
    const { Token } = await client.send(new GetOpenIdTokenCommand({ IdentityId: identityId }));
    const claims = JSON.parse(Buffer.from(Token!.split(".")[1]!, "base64url").toString()) as {
      amr: string[];
    };
    expect(claims.amr).toEqual(["unauthenticated"]);
  });

  it("refuses GetOpenIdToken when the pool does not allow the classic flow", async () => {
    const f = makePool();
    const identityId = await getId(f.poolId);
    const error = await rejection(
      client.send(new GetOpenIdTokenCommand({ IdentityId: identityId })),
    );
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe("Basic (classic) flow is not enabled, please use enhanced flow.");
  });
});

describe("role configuration errors", () => {
  it("reports a role that does not trust the pool as an invalid pool configuration", async () => {
    const f = makePool();
    // Re-register the guest role trusting another pool.
    trustRoles(sts, "us-east-1:00000000-0000-0000-0000-000000000000", {
      [f.guestRole]: "unauthenticated",
    });
    const error = await rejection(credentials({ IdentityId: await getId(f.poolId) }));
    expect(error).toBeInstanceOf(InvalidIdentityPoolConfigurationException);
    expect(error.message).toBe(
      "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    );
  });

  it("reports a missing role as an invalid pool configuration", async () => {
    const f = makePool({}, (p) => ({ Roles: { authenticated: p.authRole } }));
    const error = await rejection(credentials({ IdentityId: await getId(f.poolId) }));
    expect(error).toBeInstanceOf(InvalidIdentityPoolConfigurationException);
  });
});

describe("developer-authenticated identities", () => {
  it("issue tokens for a developer user, exchange them and merge two users", async () => {
    const f = makePool({ DeveloperProviderName: "login.boardingpass.dev" });
    const first = await client.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: f.poolId,
        Logins: { "login.boardingpass.dev": "user-1" },
        TokenDuration: 300,
      }),
    );
    const second = await client.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: f.poolId,
        Logins: { "login.boardingpass.dev": "user-2" },
      }),
    );
    expect(first.IdentityId).not.toBe(second.IdentityId);

    const out = await credentials({
      IdentityId: first.IdentityId,
      Logins: { "cognito-identity.amazonaws.com": first.Token! },
    });
    expect(sts.lookupCredentials(out.Credentials!.AccessKeyId!)!.roleArn).toBe(f.authRole);

    const merged = await client.send(
      new MergeDeveloperIdentitiesCommand({
        IdentityPoolId: f.poolId,
        DeveloperProviderName: "login.boardingpass.dev",
        SourceUserIdentifier: "user-2",
        DestinationUserIdentifier: "user-1",
      }),
    );
    expect(merged.IdentityId).toBe(first.IdentityId);
    const error = await rejection(
      credentials({
        IdentityId: second.IdentityId,
        Logins: { "cognito-identity.amazonaws.com": second.Token! },
      }),
    );
    expect(error.message).toBe(`Access to identity '${second.IdentityId}' is forbidden.`);
  });
});

describe("pools through the API", () => {
  it("creates, describes and attaches roles; unknown ids are not found", async () => {
    const created = await client.send(
      new CreateIdentityPoolCommand({
        IdentityPoolName: "api_pool",
        AllowUnauthenticatedIdentities: false,
        AllowClassicFlow: false,
      }),
    );
    expect(created.IdentityPoolId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    const described = await client.send(
      new DescribeIdentityPoolCommand({ IdentityPoolId: created.IdentityPoolId }),
    );
    expect(described).toMatchObject({
      IdentityPoolName: "api_pool",
      AllowUnauthenticatedIdentities: false,
      AllowClassicFlow: false,
    });
    await client.send(
      new SetIdentityPoolRolesCommand({
        IdentityPoolId: created.IdentityPoolId,
        Roles: { authenticated: roleArn("api-member") },
      }),
    );
    const roles = await client.send(
      new GetIdentityPoolRolesCommand({ IdentityPoolId: created.IdentityPoolId }),
    );
    expect(roles.Roles).toEqual({ authenticated: roleArn("api-member") });

    const missingPool = "us-east-1:11111111-1111-1111-1111-111111111111";
    const poolError = await rejection(getId(missingPool));
    expect(poolError).toBeInstanceOf(ResourceNotFoundException);
    expect(poolError.message).toBe(`IdentityPool '${missingPool}' not found.`);
    const identityError = await rejection(credentials({ IdentityId: missingPool }));
    expect(identityError).toBeInstanceOf(ResourceNotFoundException);
    expect(identityError.message).toBe(`Identity '${missingPool}' not found.`);
  });

  it("sends errors in the JSON 1.1 shape with x-amzn-ErrorType", async () => {
    const response = await fetch(aws.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityService.GetId",
      },
      body: JSON.stringify({ IdentityPoolId: "us-east-1:22222222-2222-2222-2222-222222222222" }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    expect(await response.json()).toEqual({
      __type: "ResourceNotFoundException",
      message: "IdentityPool 'us-east-1:22222222-2222-2222-2222-222222222222' not found.",
    });
  });
});

describe("refusals worth pinning", () => {
  it("refuses a developer user already registered under another identity", async () => {
    const f = makePool({ DeveloperProviderName: "login.boardingpass.dev" });
    const taken = await client.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: f.poolId,
        Logins: { "login.boardingpass.dev": "user-a" },
      }),
    );
    const other = await getId(f.poolId);
    const error = await rejection(
      client.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: f.poolId,
          IdentityId: other,
          Logins: { "login.boardingpass.dev": "user-a" },
        }),
      ),
    );
    expect(error).toBeInstanceOf(DeveloperUserAlreadyRegisteredException);
    expect(taken.IdentityId).not.toBe(other);
  });

  it("refuses to merge two identities holding different users of one provider", async () => {
    const f = twoProviderPool();
    const [first, second] = f.userPools;
    const alice = { [first.providerName]: first.idToken({ sub: crypto.randomUUID() }) };
    const carol = { [second.providerName]: second.idToken({ sub: crypto.randomUUID() }) };
    const bob = { [first.providerName]: first.idToken({ sub: crypto.randomUUID() }) };
    const aliceId = await getId(f.poolId, { ...alice, ...carol });
    const bobId = await getId(f.poolId, bob);
    // Bob proves his own identity and brings Carol's login, which belongs to Alice's identity:
    // the merge would put two users of the first pool on one identity.
    const error = await rejection(credentials({ IdentityId: bobId, Logins: { ...bob, ...carol } }));
    expect(error).toBeInstanceOf(ResourceConflictException);
    // Nothing changed.
    expect(await getId(f.poolId, alice)).toBe(aliceId);
    expect(identity.identity(bobId)?.disabled).toBe(false);
  });

  it("refuses the classic flow on a pool with role mappings", async () => {
    const f = makePool({ AllowClassicFlow: true }, (p) => ({
      Roles: { authenticated: p.authRole, unauthenticated: p.guestRole },
      RoleMappings: {
        [`${p.userPool.providerName}:${p.userPool.clientId}`]: {
          Type: "Token",
          AmbiguousRoleResolution: "AuthenticatedRole",
        },
      },
    }));
    const error = await rejection(
      client.send(new GetOpenIdTokenCommand({ IdentityId: await getId(f.poolId) })),
    );
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe(
      "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow.",
    );
  });

  it("refuses role mappings Cognito would refuse", async () => {
    const f = makePool();
    const error = await rejection(
      client.send(
        new SetIdentityPoolRolesCommand({
          IdentityPoolId: f.poolId,
          Roles: { authenticated: f.authRole },
          RoleMappings: {
            [`${f.userPool.providerName}:${f.userPool.clientId}`]: {
              Type: "Rules",
              AmbiguousRoleResolution: "Deny",
            },
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(InvalidParameterException);
  });

  it("pages ListIdentities with NextToken", async () => {
    const f = makePool();
    const ids = [await getId(f.poolId), await getId(f.poolId), await getId(f.poolId)];
    const first = await client.send(
      new ListIdentitiesCommand({ IdentityPoolId: f.poolId, MaxResults: 2 }),
    );
    const second = await client.send(
      new ListIdentitiesCommand({
        IdentityPoolId: f.poolId,
        MaxResults: 2,
        NextToken: first.NextToken,
      }),
    );
    expect(second.NextToken).toBeUndefined();
    expect([...first.Identities!, ...second.Identities!].map((i) => i.IdentityId)).toEqual(ids);
    expect(first.Identities![0]!.CreationDate).toBeInstanceOf(Date);
  });
});

/**
 * "If you have an authenticated identity, you must pass at least one valid token for a login
 * already associated with that identity" (developer guide, "Identity pools authentication flow":
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html).
 */
describe("an authenticated identity needs one of its own logins (authentication-flow.html)", () => {
  const LOGINS_DO_NOT_MATCH =
    "Logins don't match. Please include at least one valid login for this identity or identity pool.";

  it("refuses a login new to the pool on someone else's authenticated identity (no takeover by linking)", async () => {
    const f = twoProviderPool();
    const [victimPool, attackerPool] = f.userPools;
    const victimLogin = { [victimPool.providerName]: victimPool.idToken() };
    const victimId = await getId(f.poolId, victimLogin);
    // The attacker knows the victim's identity id and brings a fresh login of the other provider.
    const attackerLogin = { [attackerPool.providerName]: attackerPool.idToken() };
    const error = await rejection(credentials({ IdentityId: victimId, Logins: attackerLogin }));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe(LOGINS_DO_NOT_MATCH);
    // Nothing was linked: the attacker's login is still new, the victim's identity untouched.
    expect(identity.identity(victimId)?.logins.map((l) => l.provider)).toEqual([
      victimPool.providerName,
    ]);
    expect(await getId(f.poolId, attackerLogin)).not.toBe(victimId);
  });

  it("refuses another identity's login on an authenticated identity (no takeover by merging)", async () => {
    const f = twoProviderPool();
    const [victimPool, attackerPool] = f.userPools;
    const victimLogin = { [victimPool.providerName]: victimPool.idToken() };
    const victimId = await getId(f.poolId, victimLogin);
    const attackerLogin = { [attackerPool.providerName]: attackerPool.idToken() };
    const attackerId = await getId(f.poolId, attackerLogin);
    const error = await rejection(credentials({ IdentityId: victimId, Logins: attackerLogin }));
    expect(error).toBeInstanceOf(NotAuthorizedException);
    expect(error.message).toBe(LOGINS_DO_NOT_MATCH);
    // No merge: the victim's login still finds the victim's identity, which is still usable.
    expect(await getId(f.poolId, victimLogin)).toBe(victimId);
    expect(identity.identity(victimId)).toMatchObject({ disabled: false });
    expect(identity.identity(attackerId)?.logins.map((l) => l.provider)).toEqual([
      attackerPool.providerName,
    ]);
  });

  it("refuses an authenticated identity called with no Logins at all", async () => {
    const f = twoProviderPool();
    const [pool] = f.userPools;
    const identityId = await getId(f.poolId, { [pool.providerName]: pool.idToken() });
    for (const Logins of [undefined, {}]) {
      const error = await rejection(credentials({ IdentityId: identityId, Logins }));
      expect(error).toBeInstanceOf(NotAuthorizedException);
      expect(error.message).toBe(LOGINS_DO_NOT_MATCH);
    }
  });

  it("links and merges once the caller proved one of the identity's own logins", async () => {
    const f = twoProviderPool();
    const [first, second] = f.userPools;
    const own = { [first.providerName]: first.idToken() };
    const identityId = await getId(f.poolId, own);
    const added = { [second.providerName]: second.idToken() };
    const out = await credentials({ IdentityId: identityId, Logins: { ...own, ...added } });
    expect(out.IdentityId).toBe(identityId);
    expect(sts.lookupCredentials(out.Credentials!.AccessKeyId!)!.roleArn).toBe(f.authRole);
    expect(await getId(f.poolId, added)).toBe(identityId);
  });
});

/**
 * `IdentityId` / `IdentityPoolId`: "A unique identifier in the format REGION:GUID", length 1 to 55,
 * pattern `[\w-]+:[0-9a-f-]+` (API reference, GetCredentialsForIdentity and GetId, Request
 * Parameters: https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html).
 * AWS answers a violation with `ValidationException` (Common Errors) in its validation message
 * shape (as returned in aws/aws-sdk-cpp#1085 and aws-amplify/amplify-swift#2864).
 */
describe("malformed ids are refused before any work (API_GetCredentialsForIdentity.html)", () => {
  async function validationError(promise: Promise<unknown>) {
    const error = await rejection(promise);
    expect(error.name).toBe("ValidationException");
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(
      400,
    );
    return error.message;
  }
  const PATTERN = "Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+";

  it("GetCredentialsForIdentity, GetOpenIdToken, DescribeIdentity, UnlinkIdentity: identityId", async () => {
    const bad = "not-an-identity";
    const expected = `1 validation error detected: Value '${bad}' at 'identityId' failed to satisfy constraint: ${PATTERN}`;
    expect(await validationError(credentials({ IdentityId: bad }))).toBe(expected);
    expect(await validationError(client.send(new GetOpenIdTokenCommand({ IdentityId: bad })))).toBe(
      expected,
    );
    expect(
      await validationError(client.send(new DescribeIdentityCommand({ IdentityId: bad }))),
    ).toBe(expected);
    expect(
      await validationError(
        client.send(new UnlinkIdentityCommand({ IdentityId: bad, Logins: {}, LoginsToRemove: [] })),
      ),
    ).toBe(expected);
    // Upper-case hex is outside the pattern too.
    const upper = "us-east-1:ABCDEF00-0000-0000-0000-000000000000";
    expect(await validationError(credentials({ IdentityId: upper }))).toBe(
      `1 validation error detected: Value '${upper}' at 'identityId' failed to satisfy constraint: ${PATTERN}`,
    );
  });

  it("lists every broken constraint: too long and off-pattern", async () => {
    const long = `us-east-1:${"a".repeat(50)}!`;
    expect(await validationError(credentials({ IdentityId: long }))).toBe(
      `2 validation errors detected: Value '${long}' at 'identityId' failed to satisfy constraint: Member must have length less than or equal to 55; Value '${long}' at 'identityId' failed to satisfy constraint: ${PATTERN}`,
    );
  });

  it("GetId: identityPoolId (a user pool id in its place)", async () => {
    expect(await validationError(getId("us-east-1_Ab12Cd34E"))).toBe(
      `1 validation error detected: Value 'us-east-1_Ab12Cd34E' at 'identityPoolId' failed to satisfy constraint: ${PATTERN}`,
    );
  });
});
