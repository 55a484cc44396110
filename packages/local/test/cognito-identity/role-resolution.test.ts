import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CognitoMessages,
  evaluateRule,
  explainRole,
  type IdentityPoolRoleConfig,
  type MappingRule,
  type MatchType,
  parseIdentityPoolRoleConfig,
  providerKeyFromClaims,
  RoleConfigurationError,
  type RoleMapping,
  readRolesClaim,
  resolveRole,
  type TokenClaims,
} from "../../src/services/cognito-identity/role-resolution";

const POOL_PROVIDER = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";
const PROVIDER_KEY = `${POOL_PROVIDER}:client1234`;
const AUTH_ROLE = "arn:aws:iam::123456789012:role/app-authenticated";
const GUEST_ROLE = "arn:aws:iam::123456789012:role/app-guest";
const ADMIN_ROLE = "arn:aws:iam::123456789012:role/app-admin";
const EDITOR_ROLE = "arn:aws:iam::123456789012:role/app-editor";
const GOLD_ROLE = "arn:aws:iam::123456789012:role/app-gold";

function poolWith(
  mapping?: RoleMapping,
  roles: IdentityPoolRoleConfig["roles"] = {
    authenticated: AUTH_ROLE,
    unauthenticated: GUEST_ROLE,
  },
): IdentityPoolRoleConfig {
  return { roles, roleMappings: mapping ? { [PROVIDER_KEY]: mapping } : {} };
}

function tokenMapping(ambiguous: RoleMapping["ambiguousRoleResolution"]): RoleMapping {
  return { type: "Token", ambiguousRoleResolution: ambiguous };
}

function rulesMapping(
  rules: MappingRule[],
  ambiguous: RoleMapping["ambiguousRoleResolution"] = "Deny",
): RoleMapping {
  return { type: "Rules", ambiguousRoleResolution: ambiguous, rulesConfiguration: { rules } };
}

function rule(claim: string, matchType: MatchType, value: string, roleArn: string): MappingRule {
  return { claim, matchType, value, roleArn };
}

const AMBIGUOUS_DENIED = CognitoMessages.ambiguousDenied(POOL_PROVIDER);

describe("resolveRole: guests and providers without a mapping", () => {
  it.each([
    {
      name: "a guest gets the unauthenticated role",
      config: poolWith(),
      expected: { decision: "allow", roleArn: GUEST_ROLE, step: "guest" },
    },
    {
      name: "a guest is refused when the pool has no unauthenticated role",
      config: poolWith(undefined, { authenticated: AUTH_ROLE }),
      expected: {
        decision: "deny",
        error: "InvalidIdentityPoolConfigurationException",
        message: CognitoMessages.INVALID_POOL_CONFIGURATION,
      },
    },
    {
      name: "a guest is refused when the pool disallows unauthenticated identities",
      config: { ...poolWith(), allowUnauthenticatedIdentities: false },
      expected: {
        decision: "deny",
        error: "NotAuthorizedException",
        message: "Unauthenticated access is not supported for this identity pool.",
      },
    },
    {
      name: "a guest is unaffected by role mappings",
      config: poolWith(tokenMapping("Deny")),
      expected: { decision: "allow", roleArn: GUEST_ROLE },
    },
  ])("$name", ({ config, expected }) => {
    // Act
    const result = resolveRole({ config, providerKey: PROVIDER_KEY, claims: null });

    // Assess
    expect(result).toMatchObject(expected);
  });

  it("gives the authenticated role when the provider has no role mapping", () => {
    // Prepare
    const config = poolWith(tokenMapping("Deny"));

    // Act
    const result = resolveRole({
      config,
      providerKey: "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other:other",
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE] },
    });

    // Assess
    expect(result).toMatchObject({ decision: "allow", roleArn: AUTH_ROLE, step: "no-mapping" });
  });

  it("refuses with InvalidIdentityPoolConfiguration when there is no authenticated role", () => {
    // Prepare
    const config = poolWith(undefined, { unauthenticated: GUEST_ROLE });

    // Act
    const result = resolveRole({ config, providerKey: PROVIDER_KEY, claims: { sub: "u1" } });

    // Assess
    expect(result).toMatchObject({
      decision: "deny",
      error: "InvalidIdentityPoolConfigurationException",
      message: "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    });
  });

  it("does not mistake Object.prototype members for role mappings or claims", () => {
    // Prepare
    const config = poolWith(rulesMapping([rule("constructor", "NotEqual", "x", ADMIN_ROLE)]));

    // Act
    const noMapping = resolveRole({ config, providerKey: "constructor", claims: {} });
    const noClaim = resolveRole({ config, providerKey: PROVIDER_KEY, claims: {} });

    // Assess
    expect(noMapping).toMatchObject({ decision: "allow", roleArn: AUTH_ROLE, step: "no-mapping" });
    expect(noClaim).toMatchObject({ decision: "deny", step: "ambiguous" });
  });
});

describe("resolveRole: Token mapping", () => {
  it.each([
    {
      name: "CustomRoleArn listed in cognito:roles wins over the preferred role",
      ambiguous: "Deny" as const,
      claims: {
        "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE],
        "cognito:preferred_role": ADMIN_ROLE,
      },
      customRoleArn: EDITOR_ROLE,
      expected: { decision: "allow", roleArn: EDITOR_ROLE, step: "custom-role-arn" },
    },
    {
      name: "CustomRoleArn not in cognito:roles is denied even with a preferred role",
      ambiguous: "AuthenticatedRole" as const,
      claims: { "cognito:roles": [EDITOR_ROLE], "cognito:preferred_role": EDITOR_ROLE },
      customRoleArn: ADMIN_ROLE,
      expected: {
        decision: "deny",
        error: "NotAuthorizedException",
        step: "custom-role-arn",
        message: CognitoMessages.CUSTOM_ROLE_NOT_ALLOWED,
      },
    },
    {
      name: "CustomRoleArn with no cognito:roles at all is denied",
      ambiguous: "AuthenticatedRole" as const,
      claims: {},
      customRoleArn: AUTH_ROLE,
      expected: { decision: "deny", error: "NotAuthorizedException", step: "custom-role-arn" },
    },
    {
      name: "cognito:preferred_role is used when set",
      ambiguous: "Deny" as const,
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE], "cognito:preferred_role": ADMIN_ROLE },
      expected: { decision: "allow", roleArn: ADMIN_ROLE, step: "preferred-role" },
    },
    {
      name: "a single cognito:roles entry is used without a preferred role",
      ambiguous: "Deny" as const,
      claims: { "cognito:roles": [EDITOR_ROLE] },
      expected: { decision: "allow", roleArn: EDITOR_ROLE, step: "single-role" },
    },
    {
      name: "several roles and no preferred role with Deny is refused",
      ambiguous: "Deny" as const,
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE] },
      expected: {
        decision: "deny",
        error: "NotAuthorizedException",
        step: "ambiguous",
        message: AMBIGUOUS_DENIED,
      },
    },
    {
      name: "several roles and no preferred role with AuthenticatedRole falls back",
      ambiguous: "AuthenticatedRole" as const,
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE] },
      expected: { decision: "allow", roleArn: AUTH_ROLE, step: "ambiguous" },
    },
    {
      name: "no roles in the token with Deny is refused",
      ambiguous: "Deny" as const,
      claims: { "cognito:groups": ["no-role-group"] },
      expected: { decision: "deny", error: "NotAuthorizedException", message: AMBIGUOUS_DENIED },
    },
    {
      name: "no roles in the token with AuthenticatedRole falls back",
      ambiguous: "AuthenticatedRole" as const,
      claims: {},
      expected: { decision: "allow", roleArn: AUTH_ROLE, step: "ambiguous" },
    },
    {
      name: "an empty preferred role counts as absent",
      ambiguous: "Deny" as const,
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE], "cognito:preferred_role": "" },
      expected: { decision: "deny", step: "ambiguous" },
    },
    {
      name: "the guide's comma-separated string form of cognito:roles is understood",
      ambiguous: "Deny" as const,
      claims: { "cognito:roles": `${ADMIN_ROLE},${EDITOR_ROLE}` },
      customRoleArn: EDITOR_ROLE,
      expected: { decision: "allow", roleArn: EDITOR_ROLE, step: "custom-role-arn" },
    },
  ])("$name", ({ ambiguous, claims, customRoleArn, expected }) => {
    // Prepare
    const config = poolWith(tokenMapping(ambiguous));

    // Act
    const result = resolveRole({
      config,
      providerKey: PROVIDER_KEY,
      claims,
      ...(customRoleArn ? { customRoleArn } : {}),
    });

    // Assess
    expect(result).toMatchObject(expected);
  });

  it("records every step it took, ending with the reason", () => {
    // Prepare
    const config = poolWith(tokenMapping("Deny"));

    // Act
    const result = resolveRole({
      config,
      providerKey: PROVIDER_KEY,
      claims: { "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE] },
    });

    // Assess
    expect(result.trace.length).toBeGreaterThanOrEqual(3);
    expect(result.trace.at(-1)).toBe(result.reason);
    expect(result.reason).toMatch(/Deny/);
  });
});

describe("resolveRole: Rules mapping", () => {
  const tiers = [
    rule("custom:tier", "Equals", "gold", GOLD_ROLE),
    rule("email", "Contains", "@example.com", EDITOR_ROLE),
    rule("cognito:groups", "Equals", "admins", ADMIN_ROLE),
  ];

  it.each([
    {
      name: "the first matching rule wins, in order",
      rules: tiers,
      claims: { "custom:tier": "gold", email: "a@example.com", "cognito:groups": ["admins"] },
      expected: { decision: "allow", roleArn: GOLD_ROLE, step: "rule-match" },
    },
    {
      name: "later rules apply when earlier ones do not match",
      rules: tiers,
      claims: { "custom:tier": "silver", email: "a@example.com" },
      expected: { decision: "allow", roleArn: EDITOR_ROLE },
    },
    {
      name: "no match with Deny is refused",
      rules: tiers,
      claims: { "custom:tier": "silver", email: "a@other.org" },
      expected: { decision: "deny", error: "NotAuthorizedException", message: AMBIGUOUS_DENIED },
    },
    {
      name: "custom attributes match only with the custom: prefix in Claim",
      rules: [rule("tier", "Equals", "gold", GOLD_ROLE)],
      claims: { "custom:tier": "gold" },
      expected: { decision: "deny", step: "ambiguous" },
    },
    {
      name: "Equals is exact and case-sensitive",
      rules: [rule("custom:tier", "Equals", "gold", GOLD_ROLE)],
      claims: { "custom:tier": "Gold" },
      expected: { decision: "deny" },
    },
    {
      name: "NotEqual matches a present, different value",
      rules: [rule("custom:tier", "NotEqual", "banned", GOLD_ROLE)],
      claims: { "custom:tier": "silver" },
      expected: { decision: "allow", roleArn: GOLD_ROLE },
    },
    {
      name: "NotEqual on a missing claim does not match",
      rules: [rule("custom:tier", "NotEqual", "banned", GOLD_ROLE)],
      claims: { email: "a@example.com" },
      expected: { decision: "deny", step: "ambiguous" },
    },
    {
      name: "StartsWith matches a prefix",
      rules: [rule("email", "StartsWith", "ops+", EDITOR_ROLE)],
      claims: { email: "ops+oncall@example.com" },
      expected: { decision: "allow", roleArn: EDITOR_ROLE },
    },
    {
      name: "Contains matches a substring",
      rules: [rule("email", "Contains", "@example.", EDITOR_ROLE)],
      claims: { email: "a@example.com" },
      expected: { decision: "allow", roleArn: EDITOR_ROLE },
    },
    {
      name: "booleans compare as their string form",
      rules: [rule("email_verified", "Equals", "true", EDITOR_ROLE)],
      claims: { email_verified: true },
      expected: { decision: "allow", roleArn: EDITOR_ROLE },
    },
    {
      name: "an array claim matches when any element matches",
      rules: [rule("cognito:groups", "Equals", "admins", ADMIN_ROLE)],
      claims: { "cognito:groups": ["readers", "admins"] },
      expected: { decision: "allow", roleArn: ADMIN_ROLE },
    },
    {
      name: "NotEqual on an array claim fails when any element equals the value",
      rules: [rule("cognito:groups", "NotEqual", "banned", GOLD_ROLE)],
      claims: { "cognito:groups": ["readers", "banned"] },
      expected: { decision: "deny" },
    },
    {
      name: "an empty array claim counts as missing",
      rules: [rule("cognito:groups", "NotEqual", "banned", GOLD_ROLE)],
      claims: { "cognito:groups": [] },
      expected: { decision: "deny" },
    },
    {
      name: "no match with AuthenticatedRole falls back to the authenticated role",
      rules: [rule("custom:tier", "Equals", "gold", GOLD_ROLE)],
      ambiguous: "AuthenticatedRole" as const,
      claims: {},
      expected: { decision: "allow", roleArn: AUTH_ROLE, step: "ambiguous" },
    },
    {
      name: "CustomRoleArn picks a matching rule's role over the first match",
      rules: tiers,
      claims: { "custom:tier": "gold", email: "a@example.com" },
      customRoleArn: EDITOR_ROLE,
      expected: { decision: "allow", roleArn: EDITOR_ROLE, step: "custom-role-arn" },
    },
    {
      name: "CustomRoleArn of a rule that did not match is denied",
      rules: tiers,
      claims: { "custom:tier": "gold" },
      customRoleArn: ADMIN_ROLE,
      expected: { decision: "deny", error: "NotAuthorizedException", step: "custom-role-arn" },
    },
  ])("$name", ({ rules, ambiguous, claims, customRoleArn, expected }) => {
    // Prepare
    const config = poolWith(rulesMapping(rules, ambiguous));

    // Act
    const result = resolveRole({
      config,
      providerKey: PROVIDER_KEY,
      claims,
      ...(customRoleArn ? { customRoleArn } : {}),
    });

    // Assess
    expect(result).toMatchObject(expected);
  });

  it("explains each rule without repeating claim values", () => {
    // Prepare
    const config = poolWith(rulesMapping(tiers));

    // Act
    const result = resolveRole({
      config,
      providerKey: PROVIDER_KEY,
      claims: { "custom:tier": "silver", email: "secret.person@other.org" },
    });

    // Assess
    expect(result.trace.filter((line) => line.startsWith("Rule "))).toEqual([
      expect.stringMatching(/^Rule 1 .*: no match\.$/),
      expect.stringMatching(/^Rule 2 .*: no match\.$/),
      expect.stringMatching(/^Rule 3 .*: claim missing\.$/),
    ]);
    expect(result.trace.join("\n")).not.toContain("secret.person");
  });
});

describe("evaluateRule", () => {
  it.each([
    { matchType: "Equals", claim: "abc", value: "abc", expected: "match" },
    { matchType: "Equals", claim: "abcd", value: "abc", expected: "no match" },
    { matchType: "NotEqual", claim: "abc", value: "abc", expected: "no match" },
    { matchType: "NotEqual", claim: undefined, value: "abc", expected: "claim missing" },
    { matchType: "NotEqual", claim: null, value: "abc", expected: "claim missing" },
    { matchType: "StartsWith", claim: "abc", value: "ab", expected: "match" },
    { matchType: "StartsWith", claim: "abc", value: "bc", expected: "no match" },
    { matchType: "Contains", claim: "abc", value: "b", expected: "match" },
    { matchType: "Equals", claim: 42, value: "42", expected: "match" },
    { matchType: "Equals", claim: { nested: "abc" }, value: "abc", expected: "claim missing" },
  ] as const)(
    "$matchType $claim vs $value → $expected",
    ({ matchType, claim, value, expected }) => {
      // Act
      const outcome = evaluateRule(rule("c", matchType, value, GOLD_ROLE), claim);

      // Assess
      expect(outcome).toBe(expected);
    },
  );
});

describe("readRolesClaim", () => {
  it.each([
    { claim: [ADMIN_ROLE, EDITOR_ROLE], expected: [ADMIN_ROLE, EDITOR_ROLE] },
    { claim: `${ADMIN_ROLE}, ${EDITOR_ROLE}`, expected: [ADMIN_ROLE, EDITOR_ROLE] },
    {
      claim: "arn:aws:iam::123456789012:role/a,b,arn:aws:iam::123456789012:role/c",
      expected: ["arn:aws:iam::123456789012:role/a,b", "arn:aws:iam::123456789012:role/c"],
    },
    { claim: undefined, expected: [] },
    { claim: [ADMIN_ROLE, 7, ""], expected: [ADMIN_ROLE] },
  ])("reads $claim", ({ claim, expected }) => {
    // Act
    const roles = readRolesClaim(claim);

    // Assess
    expect(roles).toEqual(expected);
  });
});

describe("parseIdentityPoolRoleConfig", () => {
  it("accepts a valid configuration", () => {
    // Prepare
    const input = poolWith(rulesMapping([rule("custom:tier", "Equals", "gold", GOLD_ROLE)]));

    // Act
    const config = parseIdentityPoolRoleConfig(input);

    // Assess
    expect(config).toEqual(input);
  });

  it.each([
    {
      name: "more than 25 rules",
      input: poolWith(
        rulesMapping(Array.from({ length: 26 }, (_, i) => rule("c", "Equals", `${i}`, GOLD_ROLE))),
      ),
    },
    {
      name: "Rules without RulesConfiguration",
      input: poolWith({ type: "Rules", ambiguousRoleResolution: "Deny" }),
    },
    {
      name: "an unknown match type",
      input: poolWith(
        rulesMapping([{ ...rule("c", "Equals", "v", GOLD_ROLE), matchType: "Like" as MatchType }]),
      ),
    },
    {
      name: "a missing AmbiguousRoleResolution",
      input: { roles: {}, roleMappings: { [PROVIDER_KEY]: { type: "Token" } } },
    },
    {
      name: "more than 10 role mappings",
      input: {
        roles: {},
        roleMappings: Object.fromEntries(
          Array.from({ length: 11 }, (_, i) => [`p${i}`, tokenMapping("Deny")]),
        ),
      },
    },
  ])("rejects $name with a typed error", ({ input }) => {
    // Act
    const attempt = () => parseIdentityPoolRoleConfig(input);

    // Assess
    expect(attempt).toThrow(RoleConfigurationError);
  });
});

describe("providerKeyFromClaims", () => {
  it("joins the issuer without its scheme and the app client id", () => {
    // Act
    const key = providerKeyFromClaims({ iss: `https://${POOL_PROVIDER}`, aud: "client1234" });

    // Assess
    expect(key).toBe(PROVIDER_KEY);
  });

  it("returns undefined for tokens from elsewhere", () => {
    // Act
    const key = providerKeyFromClaims({ iss: "https://accounts.google.com", aud: "x" });

    // Assess
    expect(key).toBeUndefined();
  });
});

describe("explainRole", () => {
  const claims: TokenClaims = {
    iss: `https://${POOL_PROVIDER}`,
    aud: "client1234",
    "cognito:roles": [ADMIN_ROLE, EDITOR_ROLE],
  };

  it("warns about the unchecked signature, shows the claims and exits 3 on deny", () => {
    // Prepare
    const config = poolWith(tokenMapping("Deny"));

    // Act
    const explanation = explainRole({ config, claims, claimsSource: "unverified-jwt" });

    // Assess
    expect(explanation.exitCode).toBe(3);
    expect(explanation.lines[0]).toMatch(/NOT checked/);
    expect(explanation.lines).toContain(`Provider: ${PROVIDER_KEY}`);
    expect(explanation.lines).toContain(
      `Claim cognito:roles = ${JSON.stringify([ADMIN_ROLE, EDITOR_ROLE])}`,
    );
    expect(explanation.lines.at(-1)).toBe(
      `Result: DENY → NotAuthorizedException: ${AMBIGUOUS_DENIED}`,
    );
  });

  it("exits 0 on allow and names the role", () => {
    // Prepare
    const config = poolWith(tokenMapping("Deny"));

    // Act
    const explanation = explainRole({
      config,
      claims,
      customRoleArn: ADMIN_ROLE,
      claimsSource: "claims-json",
    });

    // Assess
    expect(explanation.exitCode).toBe(0);
    expect(explanation.lines.some((line) => /NOT checked/.test(line))).toBe(false);
    expect(explanation.lines.at(-1)).toBe(`Result: ALLOW → ${ADMIN_ROLE}`);
  });

  it("explains a guest without provider or claim lines", () => {
    // Prepare
    const config = poolWith(tokenMapping("Deny"));

    // Act
    const explanation = explainRole({ config, claims: null, claimsSource: "guest" });

    // Assess
    expect(explanation.exitCode).toBe(0);
    expect(explanation.lines.some((line) => line.startsWith("Provider:"))).toBe(false);
    expect(explanation.lines.at(-1)).toBe(`Result: ALLOW → ${GUEST_ROLE}`);
  });

  it("shows the claims that the rules look at, once each", () => {
    // Prepare
    const config = poolWith(
      rulesMapping([
        rule("custom:tier", "Equals", "gold", GOLD_ROLE),
        rule("custom:tier", "StartsWith", "sil", EDITOR_ROLE),
        rule("email", "Contains", "@example.com", ADMIN_ROLE),
      ]),
    );

    // Act
    const explanation = explainRole({
      config,
      claims: { ...claims, "custom:tier": "silver" },
      claimsSource: "claims-json",
    });

    // Assess
    expect(explanation.lines.filter((line) => line.startsWith("Claim "))).toEqual([
      'Claim custom:tier = "silver"',
      "Claim email: absent",
    ]);
    expect(explanation.lines.at(-1)).toBe(`Result: ALLOW → ${EDITOR_ROLE}`);
  });

  it("points at --provider when the template's provider key is not the token's", () => {
    // Prepare
    const config: IdentityPoolRoleConfig = {
      roles: { authenticated: AUTH_ROLE },
      roleMappings: {
        "cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool:Client": tokenMapping("Deny"),
      },
    };

    // Act
    const explanation = explainRole({ config, claims, claimsSource: "claims-json" });

    // Assess
    expect(explanation.lines.some((line) => line.includes("--provider"))).toBe(true);
    expect(explanation.resolution).toMatchObject({ decision: "allow", step: "no-mapping" });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const roleArbitrary = fc
  .stringMatching(/^[A-Za-z0-9+=,.@_-]{1,20}$/)
  .map((name) => `arn:aws:iam::123456789012:role/${name}`);
const claimValueArbitrary = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.integer(),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.constant(undefined),
);
const claimNameArbitrary = fc.constantFrom("email", "custom:tier", "cognito:groups", "name");
const ruleArbitrary: fc.Arbitrary<MappingRule> = fc.record({
  claim: claimNameArbitrary,
  matchType: fc.constantFrom<MatchType>("Equals", "NotEqual", "StartsWith", "Contains"),
  value: fc.string({ minLength: 1, maxLength: 4 }),
  roleArn: roleArbitrary,
});
const mappingArbitrary: fc.Arbitrary<RoleMapping> = fc.oneof(
  fc.record({
    type: fc.constant("Token" as const),
    ambiguousRoleResolution: fc.constantFrom("AuthenticatedRole" as const, "Deny" as const),
  }),
  fc.record({
    type: fc.constant("Rules" as const),
    ambiguousRoleResolution: fc.constantFrom("AuthenticatedRole" as const, "Deny" as const),
    rulesConfiguration: fc.record({
      rules: fc.array(ruleArbitrary, { minLength: 1, maxLength: 25 }),
    }),
  }),
);
const configArbitrary: fc.Arbitrary<IdentityPoolRoleConfig> = fc.record({
  roles: fc.record(
    { authenticated: roleArbitrary, unauthenticated: roleArbitrary },
    { requiredKeys: [] },
  ),
  roleMappings: fc
    .option(mappingArbitrary, { nil: undefined })
    .map((mapping): Record<string, RoleMapping> => (mapping ? { [PROVIDER_KEY]: mapping } : {})),
});
const claimsArbitrary = fc.option(
  fc.record(
    {
      "cognito:roles": fc.array(roleArbitrary, { maxLength: 4 }),
      "cognito:preferred_role": roleArbitrary,
      email: claimValueArbitrary,
      "custom:tier": claimValueArbitrary,
      "cognito:groups": claimValueArbitrary,
      name: claimValueArbitrary,
    },
    { requiredKeys: [] },
  ),
  { nil: null },
);

describe("resolveRole properties", () => {
  it("only ever grants a configured role, a role from the token, or a rule's role", () => {
    fc.assert(
      fc.property(
        configArbitrary,
        claimsArbitrary,
        fc.option(roleArbitrary, { nil: undefined }),
        (config, claims, customRoleArn) => {
          // Act
          const result = resolveRole({
            config,
            providerKey: PROVIDER_KEY,
            claims,
            ...(customRoleArn ? { customRoleArn } : {}),
          });

          // Assess
          if (result.decision === "deny") return true;
          const candidates = new Set<string>([
            ...[config.roles.authenticated, config.roles.unauthenticated].filter(
              (role): role is string => role !== undefined,
            ),
            ...readRolesClaim(claims?.["cognito:roles"]),
            ...(typeof claims?.["cognito:preferred_role"] === "string"
              ? [claims["cognito:preferred_role"]]
              : []),
            ...Object.values(config.roleMappings).flatMap(
              (mapping) => mapping.rulesConfiguration?.rules.map((r) => r.roleArn) ?? [],
            ),
          ]);
          expect(candidates).toContain(result.roleArn);
          return true;
        },
      ),
    );
  });

  it("always denies several roles without a preferred role when ambiguity is Deny", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(roleArbitrary, { minLength: 2, maxLength: 5 }),
        fc.record({ authenticated: roleArbitrary, unauthenticated: roleArbitrary }),
        (roles, poolRoles) => {
          // Prepare
          const config = poolWith(tokenMapping("Deny"), poolRoles);

          // Act
          const result = resolveRole({
            config,
            providerKey: PROVIDER_KEY,
            claims: { "cognito:roles": roles },
          });

          // Assess
          expect(result).toMatchObject({ decision: "deny", error: "NotAuthorizedException" });
        },
      ),
    );
  });

  it("grants a guest nothing but the unauthenticated role", () => {
    fc.assert(
      fc.property(configArbitrary, (config) => {
        // Act
        const result = resolveRole({ config, providerKey: PROVIDER_KEY, claims: null });

        // Assess
        if (result.decision === "allow") expect(result.roleArn).toBe(config.roles.unauthenticated);
        else expect(config.roles.unauthenticated).toBeUndefined();
      }),
    );
  });

  it("ends every trace with the reason", () => {
    fc.assert(
      fc.property(configArbitrary, claimsArbitrary, (config, claims) => {
        // Act
        const result = resolveRole({ config, providerKey: PROVIDER_KEY, claims });

        // Assess
        expect(result.trace.at(-1)).toBe(result.reason);
      }),
    );
  });
});
