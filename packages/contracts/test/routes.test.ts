import { describe, expect, it } from "vitest";
import {
  IdentityId,
  LinkIdentityBody,
  maxPreferencesBodyBytes,
  PutPreferencesBody,
  ROUTE_KEYS,
  UserSub,
} from "../src/routes";

const GUEST = "eu-west-1:0b1c2d3e-4f50-4617-8899-aabbccddeeff";
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

describe("route keys", () => {
  it("are API Gateway route keys, one per route, each a method and a path", () => {
    const keys = Object.values(ROUTE_KEYS);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(/^(GET|PUT|POST|DELETE) \/[a-z/{}-]+$/);
  });
});

describe("POST /identity/link body", () => {
  it("accepts a proof, with or without the guest id the app held", () => {
    expect(LinkIdentityBody.parse({ guestProof: JWT })).toEqual({ guestProof: JWT });
    expect(LinkIdentityBody.parse({ guestProof: JWT, guestIdentityId: GUEST })).toEqual({
      guestProof: JWT,
      guestIdentityId: GUEST,
    });
  });

  it.each([
    ["an oversized proof", { guestProof: `${"a".repeat(8190)}.b.c` }],
    ["a proof that is a number", { guestProof: 42 }],
    ["a proof that is an array of JWTs", { guestProof: [JWT] }],
    ["a proof that is no JWT", { guestProof: "hello" }],
    ["a JWT with a fourth part", { guestProof: `${JWT}.d` }],
    ["an empty proof", { guestProof: "" }],
    ["no proof", {}],
    ["a guest id that is an object", { guestProof: JWT, guestIdentityId: { id: GUEST } }],
    ["a guest id with a path in it", { guestProof: JWT, guestIdentityId: `${GUEST}/../x` }],
    ["a guest id in upper case", { guestProof: JWT, guestIdentityId: GUEST.toUpperCase() }],
    // The caller is the identity that signed the request: a body naming whose identity to act on
    // (another user's) is refused, not ignored.
    ["the caller's identity id in the body", { guestProof: JWT, identityId: GUEST }],
    ["a user sub in the body", { guestProof: JWT, sub: "0b1c2d3e-4f50-4617-8899-aabbccddeeff" }],
    ["a prototype key", JSON.parse(`{"guestProof":"${JWT}","__proto__":{"admin":true}}`)],
    ["an array body", [{ guestProof: JWT }]],
    ["null", null],
  ])("refuses %s", (_case, body) => {
    expect(LinkIdentityBody.safeParse(body).success).toBe(false);
  });

  it("takes the longest proof it allows, and not one character more", () => {
    const longest = `${"a".repeat(8188)}.b.c`;
    expect(longest).toHaveLength(8192);
    expect(LinkIdentityBody.safeParse({ guestProof: longest }).success).toBe(true);
    expect(LinkIdentityBody.safeParse({ guestProof: `a${longest}` }).success).toBe(false);
  });
});

describe("PUT /identity/preferences body", () => {
  it("carries one document and nothing else", () => {
    expect(PutPreferencesBody.parse({ preferences: { theme: "dark" } })).toEqual({
      preferences: { theme: "dark" },
    });
    expect(PutPreferencesBody.safeParse({ preferences: {}, identityId: GUEST }).success).toBe(
      false,
    );
    expect(PutPreferencesBody.safeParse({ prefs: {} }).success).toBe(false);
    expect(PutPreferencesBody.safeParse("preferences").success).toBe(false);
  });

  it("is read at all only up to twice the document limit (413 beyond, before parsing)", () => {
    expect(maxPreferencesBodyBytes(4096)).toBe(8192);
  });
});

describe("ids in paths and claims", () => {
  it.each([
    ["a uuid in upper case is still a uuid", "0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF", true],
    ["a path traversal", "../admin", false],
    ["an identity id", GUEST, false],
    ["a uuid with a suffix", "0b1c2d3e-4f50-4617-8899-aabbccddeeff/x", false],
  ])("UserSub: %s", (_case, value, ok) => {
    expect(UserSub.safeParse(value).success).toBe(ok);
  });

  it("IdentityId takes Cognito's `<region>:<uuid>` only", () => {
    expect(IdentityId.safeParse(GUEST).success).toBe(true);
    expect(IdentityId.safeParse("0b1c2d3e-4f50-4617-8899-aabbccddeeff").success).toBe(false);
    expect(IdentityId.safeParse(`us-east-1:${"0".repeat(36)}`).success).toBe(false);
  });
});
