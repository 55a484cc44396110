/**
 * The JWT signer and verifier as an attacker would probe them: tokens minted independently (the
 * test's own node:crypto helper), then bent one way each; and tokens the signer mints checked by
 * an independent verifier (aws-jwt-verify, which the app itself verifies with). No network.
 */
import { createHmac, generateKeyPairSync } from "node:crypto";
import { JwtVerifier } from "aws-jwt-verify";
import { describe, expect, it } from "vitest";
import {
  decodeJwt,
  type Jwks,
  JwtError,
  type JwtVerifyOptions,
  RSA_ALGORITHMS,
  signJwt,
  verifyJwt,
} from "../../src/protocol/jwt";
import { generateSigningKey, signJwt as mint } from "../services/jwt-helpers";

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const SECONDS = Math.floor(NOW / 1000);
const ISSUER = "http://127.0.0.1:4566/us-east-1_Pool";
const key = generateSigningKey("key-1");
const other = generateSigningKey("key-2");
const jwks: Jwks = { keys: [key.jwk] };

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  sub: "user-1",
  aud: "client-1",
  iat: SECONDS - 10,
  exp: SECONDS + 3600,
  ...extra,
});

const options = (overrides: Partial<JwtVerifyOptions> = {}): JwtVerifyOptions => ({
  algorithms: RSA_ALGORITHMS,
  keys: () => jwks,
  clock: { nowMs: NOW },
  ...overrides,
});

/** The refusal's kind and reason, or "accepted". */
function outcome(token: string, overrides: Partial<JwtVerifyOptions> = {}): string {
  try {
    verifyJwt(token, options(overrides));
    return "accepted";
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    return `${error.failure.kind}/${error.failure.reason}`;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("verifyJwt", () => {
  it("accepts RS256, RS384 and RS512 tokens signed by the key their kid names", () => {
    for (const alg of RSA_ALGORITHMS) {
      expect(outcome(mint(key, claims(), { alg }))).toBe("accepted");
    }
    const verified = verifyJwt(mint(key, claims()), options());
    expect(verified.header).toMatchObject({ alg: "RS256", kid: "key-1" });
    expect(verified.claims.sub).toBe("user-1");
  });

  it("refuses alg none, with or without a signature", () => {
    const [, payload] = mint(key, claims()).split(".");
    const none = b64({ alg: "none", kid: "key-1" });
    expect(outcome(`${none}.${payload}.x`)).toBe("malformed/algorithm");
    expect(outcome(`${none}.${payload}.`)).toBe("malformed/segments");
  });

  it("refuses HS256 signed with the public key as the shared secret (algorithm confusion)", () => {
    const [, payload] = mint(key, claims()).split(".");
    const header = b64({ alg: "HS256", kid: "key-1" });
    for (const secret of [
      JSON.stringify(key.jwk),
      key.jwk.n!,
      Buffer.from(key.jwk.n!, "base64url"),
    ]) {
      const mac = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
      expect(outcome(`${header}.${payload}.${mac}`)).toBe("malformed/algorithm");
    }
  });

  it("refuses an algorithm the caller does not accept, even one it could verify", () => {
    expect(outcome(mint(key, claims(), { alg: "RS512" }), { algorithms: ["RS256"] })).toBe(
      "malformed/algorithm",
    );
  });

  it("refuses an unknown kid, a token signed by another key under a known kid, and no key set", () => {
    expect(outcome(mint(other, claims()))).toBe("bad-signature/kid");
    expect(outcome(mint(other, claims(), { kid: "key-1" }))).toBe("bad-signature/signature");
    expect(outcome(mint(key, claims()), { keys: () => undefined })).toBe("unknown-issuer/issuer");
  });

  it("refuses a tampered payload or header, and a signature moved from another token", () => {
    const [header, , signature] = mint(key, claims()).split(".");
    expect(outcome(`${header}.${b64(claims({ sub: "admin" }))}.${signature}`)).toBe(
      "bad-signature/signature",
    );
    const [, otherPayload, otherSignature] = mint(key, claims({ sub: "other" })).split(".");
    expect(outcome(`${header}.${otherPayload}.${signature}`)).toBe("bad-signature/signature");
    const rs512 = b64({ alg: "RS512", typ: "JWT", kid: "key-1" });
    expect(outcome(`${rs512}.${otherPayload}.${otherSignature}`)).toBe("bad-signature/signature");
  });

  it("refuses an expired token, and one not yet valid", () => {
    expect(outcome(mint(key, claims({ exp: SECONDS })))).toBe("expired/expired");
    expect(outcome(mint(key, claims({ exp: SECONDS + 1 })))).toBe("accepted");
    expect(outcome(mint(key, claims({ exp: undefined })))).toBe("malformed/claim");
    expect(outcome(mint(key, claims({ exp: "9999999999" })))).toBe("malformed/claim");
    expect(outcome(mint(key, claims({ nbf: SECONDS + 1 })))).toBe("malformed/not-yet-valid");
    expect(outcome(mint(key, claims({ nbf: SECONDS })))).toBe("accepted");
  });

  it("checks iat only with a leeway, and then no further ahead than it", () => {
    const ahead = mint(key, claims({ iat: SECONDS + 61 }));
    expect(outcome(ahead)).toBe("accepted");
    const clock = { nowMs: NOW, iatLeewaySeconds: 60 };
    expect(outcome(ahead, { clock })).toBe("malformed/issued-in-future");
    expect(outcome(mint(key, claims({ iat: SECONDS + 60 })), { clock })).toBe("accepted");
  });

  it("without a clock checks the signature only (for callers that report expiry themselves)", () => {
    expect(outcome(mint(key, claims({ exp: SECONDS - 1 })), { clock: undefined })).toBe("accepted");
    expect(outcome(mint(other, claims()), { clock: undefined })).toBe("bad-signature/kid");
  });

  it("refuses truncated and malformed tokens, saying which part is wrong", () => {
    const token = mint(key, claims());
    const [header, payload, signature] = token.split(".") as [string, string, string];
    expect(outcome(token.slice(0, -10))).toBe("bad-signature/signature");
    expect(outcome(`${header}.${payload}`)).toBe("malformed/segments");
    expect(outcome(`${header}.${payload}.${signature}.extra`)).toBe("malformed/segments");
    expect(outcome(`${header}..${signature}`)).toBe("malformed/segments");
    expect(outcome(`${header}.${payload}.${signature}==`)).toBe("malformed/segments");
    expect(outcome(`${b64("RS256")}.${payload}.${signature}`)).toBe("malformed/header");
    expect(outcome(`${header}.${b64([1, 2])}.${signature}`)).toBe("malformed/payload");
    expect(
      outcome(`${header}.${Buffer.from("{not json").toString("base64url")}.${signature}`),
    ).toBe("malformed/payload");
    expect(outcome("")).toBe("malformed/segments");
  });

  it("lets the key lookup apply a service's own issuer rule", () => {
    const refuse = () => {
      throw new JwtError({ kind: "unknown-issuer", reason: "issuer", message: "not ours" });
    };
    expect(() => verifyJwt(mint(key, claims()), options({ keys: refuse }))).toThrow("not ours");
  });
});

describe("signJwt", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicJwk = {
    ...publicKey.export({ format: "jwk" }),
    kid: "own",
    alg: "RS256",
    use: "sig",
  };

  it("mints tokens an independent verifier (aws-jwt-verify) accepts", async () => {
    const verifier = JwtVerifier.create({
      issuer: ISSUER,
      audience: "client-1",
      jwksUri: "http://127.0.0.1/unused-jwks.json",
    });
    verifier.cacheJwks({ keys: [publicJwk] } as never);
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      privateKey,
      { kid: "own", alg: "RS256" },
      claims({ iat: now, exp: now + 60 }),
    );
    expect((await verifier.verify(token)).sub).toBe("user-1");
    expect(decodeJwt(token).header).toEqual({ kid: "own", alg: "RS256" });
  });

  it("mints what verifyJwt accepts for each RSA algorithm, and nothing another key verifies", () => {
    for (const alg of RSA_ALGORITHMS) {
      const token = signJwt(privateKey, { kid: "own", alg }, claims());
      expect(outcome(token, { keys: () => ({ keys: [publicJwk] }) })).toBe("accepted");
      expect(outcome(token, { keys: () => ({ keys: [{ ...key.jwk, kid: "own" }] }) })).toBe(
        "bad-signature/signature",
      );
    }
  });
});
