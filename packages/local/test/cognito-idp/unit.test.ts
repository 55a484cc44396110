/**
 * Pure logic of the user pool, no network: SRP arithmetic against an independent BigInt
 * reference, the password policy's messages, and how pre token generation responses apply.
 */
import { describe, expect, it } from "vitest";
import { AwsServiceError } from "../../src/protocol/errors";
import {
  DEFAULT_PASSWORD_POLICY,
  enforcePasswordPolicy,
  hashPassword,
  verifyPassword,
} from "../../src/services/cognito-idp/passwords";
import { k, modPowN, N, padHex } from "../../src/services/cognito-idp/srp";
import {
  applyPreTokenGenerationResponse,
  invokeWithCognitoSemantics,
  type TokenClaims,
  TriggerTimeout,
} from "../../src/services/cognito-idp/triggers";

function referenceModPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

describe("SRP arithmetic", () => {
  it("k is H(padHex(N) || padHex(g)) as SRP-6a defines it (RFC 5054)", () => {
    expect(k.toString(16)).toBe("538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6");
  });

  it("padHex: even length, 00 before a high first nibble", () => {
    expect(padHex(0xfn)).toBe("0f");
    expect(padHex(0x7fn)).toBe("7f");
    expect(padHex(0x80n)).toBe("0080");
    expect(padHex(0xabcn)).toBe("0abc");
  });

  it("OpenSSL-backed modPow agrees with a BigInt reference, edge bases included", () => {
    const base = 0x1234567890abcdef1234567890abcdefn ** 9n;
    const exponent = 0xfedcba0987654321n ** 7n;
    expect(modPowN(base, exponent)).toBe(referenceModPow(base, exponent, N));
    expect(modPowN(N - 1n, 3n)).toBe(N - 1n);
    expect(modPowN(N - 1n, 4n)).toBe(1n);
    expect(modPowN(0n, 5n)).toBe(0n);
    expect(modPowN(7n, 0n)).toBe(1n);
  });
});

describe("passwords", () => {
  it("reports the first failing rule with Cognito's message", () => {
    const check = (password: string) => {
      try {
        enforcePasswordPolicy(password, DEFAULT_PASSWORD_POLICY);
        return "ok";
      } catch (error) {
        expect(error).toBeInstanceOf(AwsServiceError);
        return (error as AwsServiceError).message;
      }
    };
    expect(check("Ab1!")).toBe("Password did not conform with policy: Password not long enough");
    expect(check("ABCDEFG1!")).toBe(
      "Password did not conform with policy: Password must have lowercase characters",
    );
    expect(check("abcdefg1!")).toBe(
      "Password did not conform with policy: Password must have uppercase characters",
    );
    expect(check("Abcdefgh!")).toBe(
      "Password did not conform with policy: Password must have numeric characters",
    );
    expect(check("Abcdefgh1")).toBe(
      "Password did not conform with policy: Password must have symbol characters",
    );
    expect(check("Abcdefg 1")).toBe("ok");
  });

  it("stores a salted hash that verifies only the right password", async () => {
    const stored = await hashPassword("Corr3ct-Horse!");
    expect(stored).not.toContain("Corr3ct");
    expect(stored).not.toBe(await hashPassword("Corr3ct-Horse!"));
    expect(await verifyPassword("Corr3ct-Horse!", stored)).toBe(true);
    expect(await verifyPassword("corr3ct-Horse!", stored)).toBe(false);
  });
});

describe("pre token generation responses", () => {
  const fresh = (): TokenClaims => ({
    id: { sub: "s", email: "a@example.com", "cognito:groups": ["g"], "cognito:roles": ["r"] },
    access: { sub: "s", scope: "aws.cognito.signin.user.admin", "cognito:groups": ["g"] },
  });

  it("V1: the ID token only; suppress wins over add", () => {
    const claims = fresh();
    applyPreTokenGenerationResponse(
      "V1_0",
      {
        claimsOverrideDetails: {
          claimsToAddOrOverride: { a: "1", b: "2" },
          claimsToSuppress: ["b"],
        },
      },
      claims,
    );
    expect(claims.id).toMatchObject({ a: "1" });
    expect(claims.id).not.toHaveProperty("b");
    expect(claims.access).not.toHaveProperty("a");
  });

  it("V1 refuses non-string claim values", () => {
    expect(() =>
      applyPreTokenGenerationResponse(
        "V1_0",
        { claimsOverrideDetails: { claimsToAddOrOverride: { n: 1 } } },
        fresh(),
      ),
    ).toThrow(AwsServiceError);
  });

  it("refuses every protected claim, added or suppressed, in either token", () => {
    const protectedClaims =
      "acr amr aud at_hash auth_time azp cognito:username exp iat identities iss jti nbf nonce origin_jti sub token_use".split(
        " ",
      );
    for (const claim of protectedClaims) {
      for (const response of [
        { claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToSuppress: [claim] } } },
        {
          claimsAndScopeOverrideDetails: {
            accessTokenGeneration: { claimsToAddOrOverride: { [claim]: "x" } },
          },
        },
      ]) {
        expect(() => applyPreTokenGenerationResponse("V2_0", response, fresh())).toThrow(
          expect.objectContaining({ code: "InvalidLambdaResponseException" }),
        );
      }
    }
  });

  it("V2: an empty group override removes groups and roles from both tokens", () => {
    const claims = fresh();
    applyPreTokenGenerationResponse(
      "V2_0",
      { claimsAndScopeOverrideDetails: { groupOverrideDetails: { groupsToOverride: [] } } },
      claims,
    );
    expect(claims.id).not.toHaveProperty("cognito:groups");
    expect(claims.id).not.toHaveProperty("cognito:roles");
    expect(claims.access).not.toHaveProperty("cognito:groups");
  });

  it("V2: scopes added and suppressed on the access token, suppress winning", () => {
    const claims = fresh();
    applyPreTokenGenerationResponse(
      "V2_0",
      {
        claimsAndScopeOverrideDetails: {
          accessTokenGeneration: { scopesToAdd: ["a", "b"], scopesToSuppress: ["b"] },
        },
      },
      claims,
    );
    expect(claims.access.scope).toBe("aws.cognito.signin.user.admin a");
  });
});

describe("trigger invocation", () => {
  it("passes each attempt a fresh copy of the event and the budget", async () => {
    const seen: Array<{ event: { n: number }; timeoutMs: number }> = [];
    const event = { n: 1 };
    const result = await invokeWithCognitoSemantics(
      async (_arn, received, options) => {
        seen.push({ event: received as { n: number }, timeoutMs: options.timeoutMs });
        (received as { n: number }).n = 2;
        return received;
      },
      "PreSignUp",
      "arn",
      event,
      50,
    );
    expect(result).toEqual({ n: 2 });
    expect(event.n).toBe(1);
    expect(seen[0]?.timeoutMs).toBe(50);
  });

  it("retries a timeout the invoker reports (the runtime timed the function out) like its own", async () => {
    let attempts = 0;
    const flaky = await invokeWithCognitoSemantics(
      async (_arn, received) => {
        attempts++;
        if (attempts < 3) throw new TriggerTimeout("Task timed out after 0.05 seconds");
        return received;
      },
      "PostConfirmation",
      "arn",
      { n: 1 },
      50,
    );
    expect(flaky).toEqual({ n: 1 });
    expect(attempts).toBe(3);

    const never = invokeWithCognitoSemantics(
      async () => {
        throw new TriggerTimeout("Task timed out after 0.05 seconds");
      },
      "PostConfirmation",
      "arn",
      { n: 1 },
      50,
    );
    await expect(never).rejects.toMatchObject({ name: "UnexpectedLambdaException" });
  });
});
