import { loadEvent } from "@boarding-pass/testing";
import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { InvalidRoleCatalogError, UnsupportedTriggerVersionError } from "../../src/errors";
import { Profile } from "../../src/profile/schema";
import {
  ALLOWED_CLAIMS,
  buildClaimsResponse,
  type ClaimsResponse,
  type ClaimsResponseV1,
  type ClaimsResponseV2,
  FORBIDDEN_CLAIMS,
  type PreTokenGenerationRequest,
  parseRoleCatalog,
  RoleCatalog,
  resolveTokenClaims,
} from "../../src/token-claims/claims";

type CognitoFixture = PreTokenGenerationRequest & {
  request: PreTokenGenerationRequest["request"] & { userAttributes: Record<string, string> };
};

function loadCognitoEvent(name: string): CognitoFixture {
  return loadEvent<CognitoFixture>("cognito", name);
}

const ARN = (name: string) => `arn:aws:iam::123456789012:role/boardingpass-test-${name}`;

const catalog: RoleCatalog = RoleCatalog.parse({
  defaultRole: "member",
  roles: {
    member: { iamRoleArn: ARN("Member"), precedence: 100 },
    editor: { iamRoleArn: ARN("Editor"), precedence: 50, scopes: ["api/content.write"] },
    admin: { iamRoleArn: ARN("Admin"), precedence: 10, scopes: ["api/admin", "api/content.write"] },
  },
});

const profile = (overrides: Partial<Profile> = {}): Profile => ({
  sub: "3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14",
  tenant: "acme",
  plan: "pro",
  roles: ["editor"],
  createdAt: "2026-11-26T13:00:00.000Z",
  version: 3,
  ...overrides,
});

const isV1 = (response: ClaimsResponse): response is ClaimsResponseV1 =>
  "claimsOverrideDetails" in response;

/** Every claim name and role ARN a response emits, whatever its shape. */
function emitted(response: ClaimsResponse) {
  if (isV1(response)) {
    const details = response.claimsOverrideDetails;
    return {
      claimNames: Object.keys(details.claimsToAddOrOverride),
      suppressed: details.claimsToSuppress,
      roleArns: [
        ...details.groupOverrideDetails.iamRolesToOverride,
        details.groupOverrideDetails.preferredRole ?? [],
      ].flat(),
      scopes: [] as string[],
    };
  }
  const details = response.claimsAndScopeOverrideDetails;
  return {
    claimNames: [
      ...Object.keys(details.idTokenGeneration?.claimsToAddOrOverride ?? {}),
      ...Object.keys(details.accessTokenGeneration?.claimsToAddOrOverride ?? {}),
    ],
    suppressed: [
      ...(details.idTokenGeneration?.claimsToSuppress ?? []),
      ...(details.accessTokenGeneration?.claimsToSuppress ?? []),
    ],
    roleArns: [
      ...(details.groupOverrideDetails?.iamRolesToOverride ?? []),
      details.groupOverrideDetails?.preferredRole ?? [],
    ].flat(),
    scopes: details.accessTokenGeneration?.scopesToAdd ?? [],
  };
}

describe("buildClaimsResponse: V1 (ID token only)", () => {
  it("adds tenant, plan and app_roles and keeps Cognito's groups", () => {
    // Prepare
    const event = loadCognitoEvent("pre-token-generation-v1-authentication");
    // Act
    const response = buildClaimsResponse(event, profile({ roles: ["editor"] }), catalog);
    // Assess
    expect(response).toEqual({
      claimsOverrideDetails: {
        claimsToAddOrOverride: { tenant: "acme", plan: "pro", app_roles: "editor" },
        claimsToSuppress: [],
        groupOverrideDetails: {
          groupsToOverride: ["support-staff"],
          iamRolesToOverride: [ARN("Editor")],
          preferredRole: ARN("Editor"),
        },
      },
    });
  });

  it("replaces group-derived IAM roles with the profile's, so a group cannot smuggle a role in", () => {
    // Prepare
    const event = loadCognitoEvent("pre-token-generation-v1-authentication");
    const groupRole = event.request.groupConfiguration?.iamRolesToOverride?.[0];
    // Act
    const response = buildClaimsResponse(event, profile({ roles: [] }), catalog);
    // Assess
    expect(groupRole).toBeDefined();
    expect(emitted(response).roleArns).not.toContain(groupRole);
    expect(emitted(response).roleArns).toEqual([ARN("Member"), ARN("Member")]);
  });
});

describe("admin-managed groups", () => {
  it("grant the catalog role of the same name, ranked with the profile's by precedence", () => {
    // Prepare
    const base = loadCognitoEvent("pre-token-generation-v1-authentication");
    const event = {
      ...base,
      request: {
        ...base.request,
        groupConfiguration: { ...base.request.groupConfiguration, groupsToOverride: ["admin"] },
      },
    };
    // Act
    const response = buildClaimsResponse(event, profile({ roles: ["editor"] }), catalog);
    // Assess
    const resolved = resolveTokenClaims(profile({ roles: ["editor"] }), catalog, ["admin"]);
    expect(resolved.roleNames).toEqual(["admin", "editor"]);
    expect(emitted(response).roleArns).toEqual([ARN("Admin"), ARN("Editor"), ARN("Admin")]);
  });

  it("never grant a role the catalog lacks", () => {
    // Act
    const resolved = resolveTokenClaims(profile({ roles: [] }), catalog, [
      "support-staff",
      "constructor",
    ]);
    // Assess
    expect(resolved.roleNames).toEqual(["member"]);
  });

  it("grant nothing in degraded mode: no profile means the default role only, whatever the groups", () => {
    // Prepare: the profile could not be read (null) or is corrupt; the user is in the admin group.
    const corrupt = { ...profile({ roles: ["admin"] }), tenant: "Not A Slug" } as Profile;
    const event = loadCognitoEvent("pre-token-generation-v2-authentication");
    const inAdminGroup = {
      ...event,
      request: {
        ...event.request,
        groupConfiguration: { ...event.request.groupConfiguration, groupsToOverride: ["admin"] },
      },
    };
    // Act
    const unreadable = resolveTokenClaims(null, catalog, ["admin", "editor"]);
    const invalid = resolveTokenClaims(corrupt, catalog, ["admin"]);
    const response = buildClaimsResponse(inAdminGroup, null, catalog);
    // Assess
    for (const degraded of [unreadable, invalid]) {
      expect(degraded).toEqual({
        mode: "degraded",
        claims: {},
        roleNames: ["member"],
        iamRoleArns: [ARN("Member")],
        scopesToAdd: [],
      });
    }
    // Cognito's groups stay in the token (informational); the roles do not follow them.
    expect(emitted(response).roleArns).toEqual([ARN("Member"), ARN("Member")]);
  });
});

describe("buildClaimsResponse: V2 (ID and access token)", () => {
  it("adds the same allow-listed claims to both tokens and role scopes to the access token", () => {
    // Prepare
    const event = loadCognitoEvent("pre-token-generation-v2-authentication");
    // Act
    const response = buildClaimsResponse(event, profile({ roles: ["admin", "editor"] }), catalog);
    // Assess
    const claims = { tenant: "acme", plan: "pro", app_roles: "admin editor" };
    expect(response).toEqual({
      claimsAndScopeOverrideDetails: {
        idTokenGeneration: { claimsToAddOrOverride: claims, claimsToSuppress: [] },
        accessTokenGeneration: {
          claimsToAddOrOverride: claims,
          claimsToSuppress: [],
          scopesToAdd: ["api/admin", "api/content.write"],
          scopesToSuppress: [],
        },
        groupOverrideDetails: {
          groupsToOverride: [],
          iamRolesToOverride: [ARN("Admin"), ARN("Editor")],
          preferredRole: ARN("Admin"),
        },
      },
    });
  });

  it("ignores a user attribute that looks like a tenant", () => {
    // Prepare
    const event = loadCognitoEvent("pre-token-generation-v2-authentication");
    // Act
    const response = buildClaimsResponse(
      event,
      profile({ tenant: "acme" }),
      catalog,
    ) as ClaimsResponseV2;
    // Assess
    expect(event.request.userAttributes["custom:tenant"]).toBe("someone-elses-tenant");
    expect(
      response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride.tenant,
    ).toBe("acme");
    expect(JSON.stringify(response)).not.toContain("someone-elses-tenant");
  });

  it("keeps the federated group on refresh and does not re-add scopes already granted", () => {
    // Prepare
    const event = loadCognitoEvent("pre-token-generation-v2-refresh-tokens");
    event.request.scopes = [...(event.request.scopes ?? []), "api/content.write"];
    // Act
    const response = buildClaimsResponse(
      event,
      profile({ roles: ["editor"] }),
      catalog,
    ) as ClaimsResponseV2;
    // Assess
    const details = response.claimsAndScopeOverrideDetails;
    expect(details.groupOverrideDetails?.groupsToOverride).toEqual(["eu-west-1_Xb7fK2pQm_Google"]);
    expect(details.accessTokenGeneration?.scopesToAdd).toEqual([]);
  });

  it("uses the V2 shape for version 3 and later integers", () => {
    // Prepare
    const event = { ...loadCognitoEvent("pre-token-generation-v2-authentication"), version: "3" };
    // Act
    const response = buildClaimsResponse(event, profile(), catalog);
    // Assess
    expect(response).toHaveProperty("claimsAndScopeOverrideDetails.idTokenGeneration");
    expect(buildClaimsResponse({ ...event, version: "4" }, profile(), catalog)).toEqual(response);
  });

  it("changes nothing for machine-to-machine client credentials", () => {
    // Prepare
    const event = {
      version: "3",
      triggerSource: "TokenGeneration_ClientCredentials",
      request: { groupConfiguration: null, scopes: ["api/read"] },
    };
    // Act
    const response = buildClaimsResponse(event, null, catalog);
    // Assess
    expect(response).toEqual({ claimsAndScopeOverrideDetails: {} });
  });
});

describe("buildClaimsResponse: roles", () => {
  it.each([
    { case: "no roles", roles: [], expected: ["member"] },
    { case: "only unknown roles", roles: ["root", "constructor"], expected: ["member"] },
    { case: "unknown roles are dropped", roles: ["editor", "owner"], expected: ["editor"] },
    { case: "duplicates collapse", roles: ["editor", "editor"], expected: ["editor"] },
    {
      case: "lowest precedence first",
      roles: ["member", "admin", "editor"],
      expected: ["admin", "editor", "member"],
    },
  ])("$case", ({ roles, expected }) => {
    // Act
    const resolved = resolveTokenClaims(profile({ roles }), catalog);
    // Assess
    expect(resolved.roleNames).toEqual(expected);
    expect(resolved.claims.app_roles).toBe(expected.join(" "));
    expect(resolved.iamRoleArns[0]).toBe(catalog.roles[expected[0] ?? ""]?.iamRoleArn);
  });

  it("breaks precedence ties on the role name, so the preferred role is deterministic", () => {
    // Prepare
    const tied = RoleCatalog.parse({
      defaultRole: "member",
      roles: {
        member: { iamRoleArn: ARN("Member"), precedence: 1 },
        beta: { iamRoleArn: ARN("Beta"), precedence: 1 },
      },
    });
    // Act
    const resolved = resolveTokenClaims(profile({ roles: ["member", "beta"] }), tied);
    // Assess
    expect(resolved.iamRoleArns).toEqual([ARN("Beta"), ARN("Member")]);
  });
});

describe("buildClaimsResponse: degraded mode", () => {
  it.each([
    "pre-token-generation-v1-authentication",
    "pre-token-generation-v2-authentication",
    "pre-token-generation-v2-refresh-tokens",
  ])("%s without a profile: base claims and the member role only", (fixture) => {
    // Prepare
    const event = loadCognitoEvent(fixture);
    // Act
    const response = buildClaimsResponse(event, null, catalog);
    // Assess
    const { claimNames, roleArns, scopes } = emitted(response);
    expect(claimNames).toEqual([]);
    expect(new Set(roleArns)).toEqual(new Set([ARN("Member")]));
    expect(scopes).toEqual([]);
  });

  it("treats a profile that fails its schema as missing", () => {
    // Prepare
    const corrupt = { ...profile({ roles: ["admin"] }), tenant: "Not A Slug" } as Profile;
    // Act
    const resolved = resolveTokenClaims(corrupt, catalog);
    // Assess
    expect(resolved.mode).toBe("degraded");
    expect(resolved.iamRoleArns).toEqual([ARN("Member")]);
  });
});

describe("buildClaimsResponse: versions", () => {
  it.each(["", "0", "01", "V1_0", "2.0", "latest"])("refuses version %j", (version) => {
    // Prepare
    const event = { ...loadCognitoEvent("pre-token-generation-v2-authentication"), version };
    // Act
    const act = () => buildClaimsResponse(event, profile(), catalog);
    // Assess
    expect(act).toThrowError(UnsupportedTriggerVersionError);
  });
});

describe("parseRoleCatalog", () => {
  it("parses a valid catalog", () => {
    // Act
    const parsed = parseRoleCatalog(JSON.stringify(catalog));
    // Assess
    expect(parsed).toEqual(catalog);
  });

  it.each([
    { case: "not JSON", json: "{", message: /not valid JSON/ },
    {
      case: "default role missing",
      json: JSON.stringify({ defaultRole: "ghost", roles: {} }),
      message: /defaultRole/,
    },
    {
      case: "not an IAM role ARN",
      json: JSON.stringify({
        defaultRole: "member",
        roles: { member: { iamRoleArn: "arn:aws:iam::123:user/x", precedence: 1 } },
      }),
      message: /IAM role ARN/,
    },
    {
      case: "unknown key",
      json: JSON.stringify({ ...catalog, extra: true }),
      message: /extra/,
    },
  ])("fails fast on $case", ({ json, message }) => {
    // Act
    const act = () => parseRoleCatalog(json);
    // Assess
    expect(act).toThrowError(InvalidRoleCatalogError);
    expect(act).toThrowError(message);
  });
});

describe("buildClaimsResponse: properties", () => {
  const roleName = fc.oneof(
    fc.constantFrom("member", "editor", "admin", "constructor", "toString", "__proto__", "root"),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  );
  const arbitraryProfile = fc.record({
    sub: fc.uuid(),
    // Mostly valid values, so the profile branch is exercised as much as the degraded one.
    tenant: fc.oneof(fc.constantFrom("acme", "globex"), fc.string()),
    plan: fc.oneof(fc.constantFrom("free", "pro"), fc.string()),
    roles: fc.array(roleName, { maxLength: 8 }),
    createdAt: fc.constantFrom(
      "2026-11-26T13:00:00.000Z",
      "2026-11-26T14:00:00+01:00",
      "yesterday",
    ),
    version: fc.oneof(fc.integer({ min: 1 }), fc.integer()),
  });
  const userAttributes = fc.dictionary(
    fc.oneof(
      fc.string(),
      fc.constantFrom(
        "custom:tenant",
        "custom:roles",
        "tenant",
        "app_roles",
        "sub",
        "cognito:groups",
        "cognito:preferred_role",
      ),
    ),
    fc.string(),
  );
  const event = fc.record({
    version: fc.constantFrom("1", "2", "3"),
    triggerSource: fc.constantFrom(
      "TokenGeneration_HostedAuth",
      "TokenGeneration_Authentication",
      "TokenGeneration_NewPasswordChallenge",
      "TokenGeneration_AuthenticateDevice",
      "TokenGeneration_RefreshTokens",
    ),
    request: fc.record({
      userAttributes,
      groupConfiguration: fc.record({
        groupsToOverride: fc.array(
          fc.oneof(fc.constantFrom("admin", "editor", "member"), fc.string()),
          { maxLength: 3 },
        ),
        iamRolesToOverride: fc.array(
          fc.constantFrom(ARN("Admin"), "arn:aws:iam::999999999999:role/Attacker"),
          { maxLength: 2 },
        ),
        preferredRole: fc.option(fc.constant(ARN("Admin")), { nil: null }),
      }),
      scopes: fc.array(fc.constantFrom("openid", "api/admin"), { maxLength: 2 }),
    }),
  });
  const maybeProfile = fc.option(arbitraryProfile, { nil: null });
  const allCatalogArns = new Set(Object.values(catalog.roles).map((role) => role.iamRoleArn));
  const allowed = new Set<string>(ALLOWED_CLAIMS);

  it("emits only allow-listed claims and never a forbidden one", () => {
    fc.assert(
      fc.property(event, maybeProfile, (trigger, user) => {
        const { claimNames, suppressed } = emitted(
          buildClaimsResponse(trigger, user as Profile, catalog),
        );
        for (const name of [...claimNames, ...suppressed]) {
          expect(allowed.has(name)).toBe(true);
          expect(FORBIDDEN_CLAIMS.has(name)).toBe(false);
        }
      }),
    );
  });

  it("emits only catalog ARNs of the profile's roles, or the member role", () => {
    fc.assert(
      fc.property(event, maybeProfile, (trigger, user) => {
        const { roleArns } = emitted(buildClaimsResponse(trigger, user as Profile, catalog));
        // Groups count only beside a valid profile (degraded mode grants the member role alone).
        const valid = user !== null && Profile.safeParse(user).success;
        const groups = trigger.request.groupConfiguration.groupsToOverride;
        const entitled = new Set(
          (valid ? [...user.roles, ...groups] : [])
            .filter((name) => Object.hasOwn(catalog.roles, name))
            .map((name) => catalog.roles[name]?.iamRoleArn),
        );
        expect(roleArns.length).toBeGreaterThan(0);
        for (const arn of roleArns) {
          expect(allCatalogArns.has(arn)).toBe(true);
          expect(entitled.has(arn) || arn === ARN("Member")).toBe(true);
        }
      }),
    );
  });

  it("never yields an elevated role or scope without a profile", () => {
    fc.assert(
      fc.property(event, (trigger) => {
        const { claimNames, roleArns, scopes } = emitted(
          buildClaimsResponse(trigger, null, catalog),
        );
        expect(claimNames).toEqual([]);
        expect(scopes).toEqual([]);
        for (const arn of roleArns) expect(arn).toBe(ARN("Member"));
      }),
    );
  });

  it("does not depend on user attributes", () => {
    fc.assert(
      fc.property(event, maybeProfile, userAttributes, (trigger, user, otherAttributes) => {
        const withOther = {
          ...trigger,
          request: { ...trigger.request, userAttributes: otherAttributes },
        };
        expect(buildClaimsResponse(withOther, user as Profile, catalog)).toEqual(
          buildClaimsResponse(trigger, user as Profile, catalog),
        );
      }),
    );
  });
});

describe("compatibility with @types/aws-lambda", () => {
  it("accepts the typed trigger events and returns their response types", () => {
    // Assess: compile-time checks (tsc), so handlers need no casts beyond picking the version.
    expectTypeOf<PreTokenGenerationTriggerEvent>().toExtend<PreTokenGenerationRequest>();
    expectTypeOf<PreTokenGenerationV2TriggerEvent>().toExtend<PreTokenGenerationRequest>();
    expectTypeOf<ClaimsResponseV1>().toExtend<PreTokenGenerationTriggerEvent["response"]>();
    expectTypeOf<ClaimsResponseV2>().toExtend<PreTokenGenerationV2TriggerEvent["response"]>();
  });
});

describe("claim lists", () => {
  it("allow-list and forbidden list are disjoint", () => {
    // Assess
    expect(ALLOWED_CLAIMS.filter((name) => FORBIDDEN_CLAIMS.has(name))).toEqual([]);
  });
});
