import { createHmac } from "node:crypto";
import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  InvalidIdentityTokenException,
  MalformedPolicyDocumentException,
  STSClient,
  STSServiceException,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createStsService, type StsService } from "../../src/services/sts/index";
import { generateSigningKey, type SigningKey, signJwt } from "./jwt-helpers";
import { clientConfig, type Served, serve } from "./serve";

const ISSUER = "https://cognito-identity.amazonaws.com";
const POOL = "us-east-1:11111111-2222-3333-4444-555555555555";
const IDENTITY = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const AUTH_ROLE = "arn:aws:iam::000000000000:role/app/Authenticated";
const GUEST_ROLE = "arn:aws:iam::000000000000:role/Guest";
const NOW = Date.parse("2026-01-01T00:00:00Z");

/** The trust policy Cognito requires ("Role trust and permissions"): aud AND amr conditions. */
function cognitoTrust(amr: "authenticated" | "unauthenticated") {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: "cognito-identity.amazonaws.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "cognito-identity.amazonaws.com:aud": POOL },
          "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
      },
    ],
  };
}

let sts: StsService;
let served: Served;
let client: STSClient;
let key: SigningKey;
let otherKey: SigningKey;

function token(
  claims: Record<string, unknown> = {},
  signer: SigningKey = key,
  header: Record<string, unknown> = {},
) {
  const iat = Math.floor(NOW / 1000) - 10;
  return signJwt(
    signer,
    {
      iss: ISSUER,
      aud: POOL,
      sub: IDENTITY,
      amr: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"],
      iat,
      exp: iat + 600,
      ...claims,
    },
    header,
  );
}

function assume(
  webIdentityToken: string,
  extra: Partial<{
    RoleArn: string;
    DurationSeconds: number;
    Policy: string;
    RoleSessionName: string;
  }> = {},
) {
  return client.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: AUTH_ROLE,
      RoleSessionName: "app-session",
      WebIdentityToken: webIdentityToken,
      ...extra,
    }),
  );
}

beforeAll(async () => {
  key = generateSigningKey("key-1");
  otherKey = generateSigningKey("key-2");
  sts = createStsService({ region: "us-east-1", now: () => NOW });
  served = await serve(sts);
  client = new STSClient(clientConfig(served.endpoint));
});
afterAll(async () => {
  client.destroy();
  await served.close();
  await sts.close();
});
beforeEach(async () => {
  await sts.reset();
  sts.registerJwks(ISSUER, { keys: [key.jwk] });
  sts.putRole({
    arn: AUTH_ROLE,
    trustPolicy: cognitoTrust("authenticated"),
    maxSessionDuration: 7200,
  });
  sts.putRole({ arn: GUEST_ROLE, trustPolicy: JSON.stringify(cognitoTrust("unauthenticated")) });
});

describe("AssumeRoleWithWebIdentity", () => {
  it("issues credentials shaped as AWS and records them", async () => {
    const out = await assume(token(), { DurationSeconds: 1800 });
    const c = out.Credentials!;
    expect(c.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(c.SecretAccessKey).toHaveLength(40);
    expect(c.SessionToken!.length).toBeGreaterThan(100);
    expect(c.Expiration?.toISOString()).toBe("2026-01-01T00:30:00.000Z");
    expect(out.SubjectFromWebIdentityToken).toBe(IDENTITY);
    expect(out.Provider).toBe("cognito-identity.amazonaws.com");
    expect(out.Audience).toBe(POOL);
    expect(out.AssumedRoleUser).toEqual({
      Arn: "arn:aws:sts::000000000000:assumed-role/Authenticated/app-session",
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z0-9]{17}:app-session$/),
    });
    expect(sts.lookupCredentials(c.AccessKeyId!)).toEqual({
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      roleArn: AUTH_ROLE,
      assumedRoleArn: out.AssumedRoleUser!.Arn,
      assumedRoleId: out.AssumedRoleUser!.AssumedRoleId,
      subject: IDENTITY,
      identityId: IDENTITY,
      // Fixed in the session as the token carried them, for IAM conditions on later requests.
      cognitoIdentity: {
        identityPoolId: POOL,
        amr: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"],
      },
      expiration: "2026-01-01T00:30:00Z",
    });
  });

  it("accepts RS512 tokens, as Cognito Identity signs them", async () => {
    const out = await assume(token({}, key, { alg: "RS512" }));
    expect(out.SubjectFromWebIdentityToken).toBe(IDENTITY);
  });

  it("keeps the role id stable across sessions", async () => {
    const a = await assume(token(), { RoleSessionName: "one" });
    const b = await assume(token(), { RoleSessionName: "two" });
    expect(a.AssumedRoleUser!.AssumedRoleId!.split(":")[0]).toBe(
      b.AssumedRoleUser!.AssumedRoleId!.split(":")[0],
    );
    expect(a.Credentials!.AccessKeyId).not.toBe(b.Credentials!.AccessKeyId);
  });

  it.each<[string, () => string]>([
    ["garbage", () => "not-a-jwt"],
    ["a token signed by an unregistered key", () => token({}, otherKey, { kid: "key-1" })],
    ["an unknown kid", () => token({}, otherKey)],
    ["an unregistered issuer", () => token({ iss: "https://accounts.example.com" })],
    [
      "a tampered payload",
      () => {
        const [h, , s] = token().split(".");
        const forged = Buffer.from(
          JSON.stringify({ iss: ISSUER, aud: POOL, sub: "someone-else", exp: 9_999_999_999 }),
        ).toString("base64url");
        return `${h}.${forged}.${s}`;
      },
    ],
    [
      "HS256 (algorithm confusion with the public key as HMAC secret)",
      () => {
        const [, p] = token().split(".");
        const h = Buffer.from('{"alg":"HS256","kid":"key-1"}').toString("base64url");
        const mac = createHmac("sha256", JSON.stringify(key.jwk))
          .update(`${h}.${p}`)
          .digest("base64url");
        return `${h}.${p}.${mac}`;
      },
    ],
    [
      "alg none",
      () => {
        const [, p] = token().split(".");
        return `${Buffer.from('{"alg":"none","kid":"key-1"}').toString("base64url")}.${p}.x`;
      },
    ],
  ])("rejects %s with InvalidIdentityToken", async (_name, make) => {
    const err = await assume(make()).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  it("rejects an expired token with ExpiredTokenException", async () => {
    const exp = Math.floor(NOW / 1000) - 1;
    await expect(assume(token({ exp, iat: exp - 600 }))).rejects.toBeInstanceOf(
      ExpiredTokenException,
    );
  });

  it.each<[string, Record<string, unknown>, string?]>([
    ["the wrong audience", { aud: "us-east-1:other-pool" }],
    ["a guest token for the authenticated role", { amr: ["unauthenticated"] }],
    ["a token without amr", { amr: undefined }],
    ["an unknown role", {}, "arn:aws:iam::000000000000:role/Nope"],
  ])("denies %s with AccessDenied", async (_name, claims, roleArn = AUTH_ROLE) => {
    const err = await assume(token(claims), { RoleArn: roleArn }).catch((e) => e);
    expect(err).toBeInstanceOf(STSServiceException);
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toBe("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  it("does not match StringEquals over the multivalued amr of an authenticated identity", async () => {
    const role = "arn:aws:iam::000000000000:role/NoSetOperator";
    sts.putRole({
      arn: role,
      trustPolicy: {
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: "cognito-identity.amazonaws.com" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                "cognito-identity.amazonaws.com:aud": POOL,
                "cognito-identity.amazonaws.com:amr": "authenticated",
              },
            },
          },
        ],
      },
    });
    const err = await assume(token(), { RoleArn: role }).catch((e) => e);
    expect(err.name).toBe("AccessDenied");
    // A single-valued amr compares as a plain string.
    await expect(
      assume(token({ amr: ["authenticated"] }), { RoleArn: role }),
    ).resolves.toBeDefined();
  });

  it("lets a guest token assume the guest role only", async () => {
    const guest = token({ amr: ["unauthenticated"] });
    const out = await assume(guest, { RoleArn: GUEST_ROLE });
    expect(out.AssumedRoleUser!.Arn).toBe(
      "arn:aws:sts::000000000000:assumed-role/Guest/app-session",
    );
  });

  it("evaluates StringLike on sub, explicit Deny, and oidc-provider principals", async () => {
    const role = "arn:aws:iam::000000000000:role/Scoped";
    sts.putRole({
      arn: role,
      trustPolicy: {
        Statement: [
          {
            Effect: "Allow",
            Principal: {
              Federated: "arn:aws:iam::000000000000:oidc-provider/cognito-identity.amazonaws.com",
            },
            Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
            Condition: { StringLike: { "cognito-identity.amazonaws.com:sub": "us-east-1:*" } },
          },
          {
            Effect: "Deny",
            Principal: { Federated: "cognito-identity.amazonaws.com" },
            Action: "sts:*",
            Condition: {
              StringEquals: { "cognito-identity.amazonaws.com:sub": "us-east-1:banned" },
            },
          },
        ],
      },
    });
    await expect(assume(token(), { RoleArn: role })).resolves.toBeDefined();
    const banned = await assume(token({ sub: "us-east-1:banned" }), { RoleArn: role }).catch(
      (e) => e,
    );
    expect(banned.name).toBe("AccessDenied");
    const elsewhere = await assume(token({ sub: "eu-west-1:x" }), { RoleArn: role }).catch(
      (e) => e,
    );
    expect(elsewhere.name).toBe("AccessDenied");
  });

  it("validates duration, session name and session policy", async () => {
    const tooLong = await assume(token(), { DurationSeconds: 7201 }).catch((e) => e);
    expect(tooLong.name).toBe("ValidationError");
    const badName = await assume(token(), { RoleSessionName: "has space" }).catch((e) => e);
    expect(badName.name).toBe("ValidationError");
    await expect(assume(token(), { Policy: "{not json" })).rejects.toBeInstanceOf(
      MalformedPolicyDocumentException,
    );
    const scoped = await assume(token(), {
      Policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    expect(scoped.PackedPolicySize).toBeGreaterThan(0);
    expect(sts.lookupCredentials(scoped.Credentials!.AccessKeyId!)?.sessionPolicy).toContain(
      "2012-10-17",
    );
  });

  it("rejects trust policies it cannot evaluate when the role is registered", () => {
    expect(() =>
      sts.putRole({
        arn: "arn:aws:iam::000000000000:role/X",
        trustPolicy: {
          Statement: [
            {
              Effect: "Allow",
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: { DateGreaterThan: {} },
            },
          ],
        },
      }),
    ).toThrow(/Unsupported condition operator/);
  });
});

describe("GetCallerIdentity", () => {
  it("answers as the account root for dummy credentials", async () => {
    const out = await client.send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Account: "000000000000",
      Arn: "arn:aws:iam::000000000000:root",
      UserId: "000000000000",
    });
  });

  it("answers as the assumed role for issued credentials", async () => {
    const issued = sts.issueCredentials({
      roleArn: AUTH_ROLE,
      sessionName: "CognitoIdentityCredentials",
      subject: IDENTITY,
      identityId: IDENTITY,
      durationSeconds: 3600,
    });
    const caller = new STSClient({
      ...clientConfig(served.endpoint),
      credentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
      },
    });
    try {
      const out = await caller.send(new GetCallerIdentityCommand({}));
      expect(out).toMatchObject({
        Account: "000000000000",
        Arn: "arn:aws:sts::000000000000:assumed-role/Authenticated/CognitoIdentityCredentials",
        UserId: issued.assumedRoleId,
      });
    } finally {
      caller.destroy();
    }
    const forged = new STSClient({
      ...clientConfig(served.endpoint),
      credentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: "forged",
      },
    });
    try {
      const err = await forged.send(new GetCallerIdentityCommand({})).catch((e) => e);
      expect(err.name).toBe("InvalidClientTokenId");
    } finally {
      forged.destroy();
    }
  });

  it("rejects expired issued credentials with ExpiredToken", async () => {
    let clock = NOW;
    const local = createStsService({ region: "us-east-1", now: () => clock });
    const server = await serve(local);
    const issued = local.issueCredentials({
      roleArn: AUTH_ROLE,
      sessionName: "s1",
      subject: "x",
      durationSeconds: 900,
    });
    clock += 901_000;
    const caller = new STSClient({
      ...clientConfig(server.endpoint),
      credentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
      },
    });
    try {
      const err = await caller.send(new GetCallerIdentityCommand({})).catch((e) => e);
      expect(err.name).toBe("ExpiredToken");
      expect(err.$metadata.httpStatusCode).toBe(403);
    } finally {
      caller.destroy();
      await server.close();
      await local.close();
    }
  });
});
