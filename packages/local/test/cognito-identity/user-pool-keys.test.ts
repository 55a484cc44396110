/** `userPoolKeysFrom`: the glue between the identity pools and the local user-pool service. */
import { expect, it } from "vitest";
import { userPoolKeysFrom } from "../../src/services/cognito-identity/index";

const JWKS = { keys: [{ kty: "RSA", kid: "k1", n: "AQAB", e: "AQAB" }] };
const userPools = {
  issuer: (poolId: string) => `http://127.0.0.1:4566/${poolId}`,
  jwks(poolId: string) {
    if (poolId !== "us-east-1_Known1") throw new Error(`User pool ${poolId} does not exist.`);
    return JWKS;
  },
};
const keys = userPoolKeysFrom(userPools);

it("returns the keys of the pool the local issuer names", async () => {
  expect(await keys("http://127.0.0.1:4566/us-east-1_Known1")).toEqual(JWKS);
});

it("returns nothing for an unknown pool, another host or a non-pool issuer", async () => {
  expect(await keys("http://127.0.0.1:4566/us-east-1_Unknown1")).toBeUndefined();
  expect(
    await keys("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Known1"),
  ).toBeUndefined();
  expect(await keys("https://accounts.google.com")).toBeUndefined();
});
