/**
 * The wire around the operations: JSON 1.1 errors for unknown operations and bad bodies, the
 * unsigned well-known paths, the code outbox control route, and reset.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CognitoHarness, emailPool, freshEmail, PASSWORD, startCognito } from "./harness";

const dataDir = mkdtempSync(join(tmpdir(), "cognito-idp-wire-"));
let h: CognitoHarness;

beforeAll(async () => {
  h = await startCognito({ dataDir });
});
afterAll(async () => {
  await h.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function call(target: string, body: string) {
  return fetch(h.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${target}`,
    },
    body,
  });
}

describe("JSON 1.1 wire", () => {
  it("answers errors with status 400, __type and x-amzn-ErrorType", async () => {
    const unknown = await call("DescribeRiskConfiguration", "{}");
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    const malformed = await call("SignUp", "{not json");
    expect(await malformed.json()).toMatchObject({ __type: "SerializationException" });
    const missing = await call("SignUp", JSON.stringify({ ClientId: "nope" }));
    expect(missing.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(await missing.json()).toEqual({
      __type: "ResourceNotFoundException",
      message: "User pool client nope does not exist.",
    });
  });

  it("serves JWKS and OpenID configuration per pool, 404 for an unknown pool", async () => {
    const { poolId } = emailPool(h.cognito);
    const jwks = (await (await fetch(`${h.endpoint}/${poolId}/.well-known/jwks.json`)).json()) as {
      keys: Array<Record<string, string>>;
    };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" }),
    ]);
    const openid = await (
      await fetch(`${h.endpoint}/${poolId}/.well-known/openid-configuration`)
    ).json();
    expect(openid).toMatchObject({ issuer: `${h.endpoint}/${poolId}` });
    const missing = await fetch(`${h.endpoint}/us-east-1_Missing00/.well-known/jwks.json`);
    expect(missing.status).toBe(404);
  });

  it("lists delivered codes under /_local/cognito-idp/codes and 404s other control paths", async () => {
    const { poolId, clientId } = emailPool(h.cognito);
    const email = freshEmail("outbox");
    await call(
      "SignUp",
      JSON.stringify({ ClientId: clientId, Username: email, Password: PASSWORD }),
    );
    const byPool = (await (
      await fetch(`${h.endpoint}/_local/cognito-idp/codes?poolId=${poolId}`)
    ).json()) as { codes: Array<Record<string, string>> };
    expect(byPool.codes).toEqual([
      expect.objectContaining({
        poolId,
        kind: "signup",
        attribute: "email",
        destination: email,
        code: expect.stringMatching(/^\d{6}$/),
      }),
    ]);
    expect((await fetch(`${h.endpoint}/_local/cognito-idp/nothing`)).status).toBe(404);
  });

  it("reset wipes pools, users and the journal", async () => {
    const { poolId } = emailPool(h.cognito);
    await h.aws.reset();
    expect(() => h.cognito.jwks(poolId)).toThrow(`User pool ${poolId} does not exist.`);
    expect(readFileSync(join(dataDir, "cognito-idp.journal.jsonl"), "utf8")).toBe("");
  });
});
