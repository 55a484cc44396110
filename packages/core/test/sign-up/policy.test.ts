import { loadEvent } from "@boarding-pass/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoardingPassError, InvalidSignUpPolicyError, SignUpRejectedError } from "../../src/errors";
import { canonicalizeEmail } from "../../src/sign-up/email";
import {
  decideFederatedLink,
  domainMatches,
  evaluateSignUp,
  type FederatedLinkRequest,
  foldsMailboxAliases,
  isEmailVerified,
  type PreSignUpTriggerSource,
  parseSignUpPolicy,
  providerNameFromUsername,
  SIGN_UP_DENIED_MESSAGE,
  type SignUpPolicy,
} from "../../src/sign-up/policy";

interface PreSignUpFixture {
  userName: string;
  triggerSource: PreSignUpTriggerSource;
  request: { userAttributes: Record<string, string> };
}

function loadCognitoEvent(name: string): PreSignUpFixture {
  return loadEvent<PreSignUpFixture>("cognito", name);
}

const policy = (json: object): SignUpPolicy => parseSignUpPolicy(JSON.stringify(json));

describe("parseSignUpPolicy", () => {
  it("accepts an empty policy: everyone may sign up", () => {
    // Act
    const parsed = parseSignUpPolicy("{}");
    // Assess
    expect(parsed).toEqual({});
  });

  it("canonicalises domain patterns like email domains", () => {
    // Act
    const parsed = policy({
      allowedDomains: ["Example.COM.", "*.Bücher.example"],
      trustedFederationProviders: ["Google"],
    });
    // Assess
    expect(parsed.allowedDomains).toEqual(["example.com", "*.xn--bcher-kva.example"]);
    expect(parsed.trustedFederationProviders).toEqual(["Google"]);
  });

  it.each([
    { case: "invalid JSON", json: "{allowedDomains:", message: /not valid JSON/ },
    { case: "a typo in a key", json: '{"allowDomains":["example.com"]}', message: /allowDomains/ },
    { case: "a non-list", json: '{"deniedDomains":"example.com"}', message: /deniedDomains/ },
    {
      case: "a bad pattern",
      json: '{"allowedDomains":["exa mple.com"]}',
      message: /exa mple\.com/,
    },
    { case: "a mid-label wildcard", json: '{"allowedDomains":["ex*.com"]}', message: /ex\*\.com/ },
    { case: "an empty provider", json: '{"trustedFederationProviders":[""]}', message: /trusted/ },
  ])("fails fast on $case, naming the problem", ({ json, message }) => {
    // Act
    const act = () => parseSignUpPolicy(json);
    // Assess
    expect(act).toThrowError(InvalidSignUpPolicyError);
    expect(act).toThrowError(message);
  });
});

describe("sign-up errors", () => {
  it("keep the cause and a stable code, and share the BoardingPassError base", () => {
    // Act
    const error = (() => {
      try {
        parseSignUpPolicy("{");
      } catch (caught) {
        return caught;
      }
    })();
    // Assess
    expect(error).toBeInstanceOf(InvalidSignUpPolicyError);
    expect(error).toBeInstanceOf(BoardingPassError);
    expect(error).toMatchObject({
      name: "InvalidSignUpPolicyError",
      code: "INVALID_SIGN_UP_POLICY",
      cause: expect.any(SyntaxError),
    });
  });
});

describe("domainMatches", () => {
  it.each([
    ["example.com", "example.com", true],
    ["mail.example.com", "example.com", false],
    ["mail.example.com", "*.example.com", true],
    ["a.b.example.com", "*.example.com", true],
    ["example.com", "*.example.com", false],
    ["badexample.com", "*.example.com", false],
    ["example.com.evil.net", "*.example.com", false],
  ])("%s against %s → %s", (domain, pattern, expected) => {
    // Act
    const matched = domainMatches(domain, pattern);
    // Assess
    expect(matched).toBe(expected);
  });
});

describe("evaluateSignUp", () => {
  const corporate = policy({
    allowedDomains: ["example.com", "*.example.com", "partner.example"],
    deniedDomains: ["contractors.example.com"],
    autoConfirmDomains: ["example.com"],
    trustedFederationProviders: ["Google"],
  });

  it("allows a native sign-up from the fixture, auto-confirming but never auto-verifying", () => {
    // Prepare
    const event = loadCognitoEvent("pre-sign-up-sign-up");
    const { canonical } = canonicalizeEmail(event.request.userAttributes.email ?? "");
    // Act
    const decision = evaluateSignUp(corporate, {
      canonicalEmail: canonical,
      triggerSource: event.triggerSource,
    });
    // Assess
    expect(decision).toEqual({ decision: "allow", autoConfirm: true, autoVerifyEmail: false });
  });

  it("denied wins over allowed, with the same message as not-allowed", () => {
    // Act
    const denied = evaluateSignUp(corporate, {
      canonicalEmail: "x@contractors.example.com",
      triggerSource: "PreSignUp_SignUp",
    });
    const notAllowed = evaluateSignUp(corporate, {
      canonicalEmail: "x@elsewhere.example",
      triggerSource: "PreSignUp_SignUp",
    });
    // Assess
    expect(denied).toEqual({
      decision: "deny",
      userMessage: SIGN_UP_DENIED_MESSAGE,
      reason: "domain-denied",
    });
    expect(notAllowed).toEqual({
      decision: "deny",
      userMessage: SIGN_UP_DENIED_MESSAGE,
      reason: "domain-not-allowed",
    });
  });

  it("an empty allowed list allows every domain not denied", () => {
    // Prepare
    const open = policy({ allowedDomains: [], deniedDomains: ["*.spam.example"] });
    // Act
    const allowed = evaluateSignUp(open, {
      canonicalEmail: "x@anywhere.example",
      triggerSource: "PreSignUp_SignUp",
    });
    const denied = evaluateSignUp(open, {
      canonicalEmail: "x@a.spam.example",
      triggerSource: "PreSignUp_SignUp",
    });
    // Assess
    expect(allowed.decision).toBe("allow");
    expect(denied.decision).toBe("deny");
  });

  it("does not auto-confirm a subdomain unless its pattern is listed", () => {
    // Act
    const decision = evaluateSignUp(corporate, {
      canonicalEmail: "x@eu.example.com",
      triggerSource: "PreSignUp_SignUp",
    });
    // Assess
    expect(decision).toEqual({ decision: "allow", autoConfirm: false, autoVerifyEmail: false });
  });

  it("returns false flags for AdminCreateUser, which Cognito ignores, but still applies the domain lists", () => {
    // Prepare
    const event = loadCognitoEvent("pre-sign-up-admin-create-user");
    const { canonical } = canonicalizeEmail(event.request.userAttributes.email ?? "");
    // Act
    const decision = evaluateSignUp(corporate, {
      canonicalEmail: canonical,
      triggerSource: event.triggerSource,
    });
    const denied = evaluateSignUp(corporate, {
      canonicalEmail: "x@contractors.example.com",
      triggerSource: event.triggerSource,
    });
    // Assess
    expect(decision).toEqual({ decision: "allow", autoConfirm: false, autoVerifyEmail: false });
    expect(denied.decision).toBe("deny");
  });

  it.each([
    { providerName: "Google", emailVerified: "true", autoVerifyEmail: true },
    { providerName: "Google", emailVerified: true, autoVerifyEmail: true },
    { providerName: "Google", emailVerified: "false", autoVerifyEmail: false },
    { providerName: "Google", emailVerified: undefined, autoVerifyEmail: false },
    { providerName: "Google", emailVerified: "TRUE", autoVerifyEmail: false },
    { providerName: "SketchyOidc", emailVerified: "true", autoVerifyEmail: false },
    { providerName: undefined, emailVerified: "true", autoVerifyEmail: false },
  ])(
    "ExternalProvider $providerName with email_verified=$emailVerified → autoVerifyEmail $autoVerifyEmail",
    ({ providerName, emailVerified, autoVerifyEmail }) => {
      // Prepare
      const event = loadCognitoEvent("pre-sign-up-external-provider");
      const { canonical } = canonicalizeEmail(event.request.userAttributes.email ?? "");
      // Act
      const decision = evaluateSignUp(corporate, {
        canonicalEmail: canonical.replace("@example.com", "@partner.example"),
        triggerSource: event.triggerSource,
        ...(emailVerified === undefined ? {} : { emailVerified }),
        ...(providerName === undefined ? {} : { providerName }),
      });
      // Assess
      expect(decision).toEqual({ decision: "allow", autoConfirm: false, autoVerifyEmail });
    },
  );

  it("a rejection becomes a SignUpRejectedError carrying only the user-safe message", () => {
    // Prepare
    const decision = evaluateSignUp(corporate, {
      canonicalEmail: "someone@elsewhere.example",
      triggerSource: "PreSignUp_SignUp",
    });
    // Act
    const error =
      decision.decision === "deny" ? new SignUpRejectedError(decision.userMessage) : null;
    // Assess
    expect(error?.code).toBe("SIGN_UP_REJECTED");
    expect(error?.message).toBe(SIGN_UP_DENIED_MESSAGE);
    expect(error?.message).not.toContain("someone");
  });

  it("never auto-verifies a native sign-up, whatever the policy and input", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("a@example.com", "b@x.example.com", "c@partner.example"),
        fc.constantFrom<PreSignUpTriggerSource>("PreSignUp_SignUp", "PreSignUp_AdminCreateUser"),
        fc.oneof(fc.boolean(), fc.constantFrom("true", "false"), fc.constant(undefined)),
        (canonicalEmail, triggerSource, emailVerified) => {
          const decision = evaluateSignUp(corporate, {
            canonicalEmail,
            triggerSource,
            providerName: "Google",
            ...(emailVerified === undefined ? {} : { emailVerified }),
          });
          expect(decision.decision === "allow" && decision.autoVerifyEmail).toBe(false);
        },
      ),
    );
  });
});

describe("providerNameFromUsername", () => {
  it("recovers the configured spelling from Cognito's lowercased federated username", () => {
    // Prepare
    const event = loadCognitoEvent("pre-sign-up-external-provider");
    // Act
    const providerName = providerNameFromUsername(event.userName, ["SignInWithApple", "Google"]);
    // Assess
    expect(event.userName).toBe("google_104938271650938475612");
    expect(providerName).toBe("Google");
  });

  it.each([
    ["3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14", ["Google"], undefined],
    ["googlex_1", ["Google"], undefined],
    ["google", ["Google"], undefined],
    ["corp_eu_123", ["Corp", "Corp_EU"], "Corp_EU"],
    ["signinwithapple_000123.abc", ["SignInWithApple"], "SignInWithApple"],
  ])("%s with %j → %s", (userName, providers, expected) => {
    // Act
    const providerName = providerNameFromUsername(userName, providers);
    // Assess
    expect(providerName).toBe(expected);
  });
});

describe("isEmailVerified", () => {
  it.each([
    [true, true],
    ["true", true],
    [false, false],
    ["false", false],
    ["True", false],
    ["1", false],
    [1, false],
    [undefined, false],
    [null, false],
  ])("%j → %s", (value, expected) => {
    // Act
    const verified = isEmailVerified(value);
    // Assess
    expect(verified).toBe(expected);
  });
});

describe("decideFederatedLink", () => {
  const base: FederatedLinkRequest = {
    providerName: "Google",
    emailVerified: "true",
    trustedProviders: ["Google", "SignInWithApple"],
    existingNativeUser: { username: "3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14", emailVerified: "true" },
  };

  it("links a verified email from a trusted provider to a verified native user", () => {
    // Act
    const decision = decideFederatedLink(base);
    // Assess
    expect(decision).toEqual({
      action: "link",
      nativeUsername: "3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14",
    });
  });

  it.each<{ case: string; change: Partial<FederatedLinkRequest>; reason: string }>([
    { case: "no native user", change: { existingNativeUser: null }, reason: "no-native-user" },
    {
      case: "untrusted provider",
      change: { providerName: "Facebook" },
      reason: "untrusted-provider",
    },
    {
      case: "provider name differing in case",
      change: { providerName: "google" },
      reason: "untrusted-provider",
    },
    {
      case: 'email_verified "false"',
      change: { emailVerified: "false" },
      reason: "federated-email-not-verified",
    },
    {
      case: "email_verified false",
      change: { emailVerified: false },
      reason: "federated-email-not-verified",
    },
    {
      case: "email_verified missing",
      change: { emailVerified: undefined },
      reason: "federated-email-not-verified",
    },
    {
      case: "native email unverified (pre-registration hijack)",
      change: { existingNativeUser: { username: "u", emailVerified: "false" } },
      reason: "native-email-not-verified",
    },
  ])("keeps a separate user when $case", ({ change, reason }) => {
    // Act
    const decision = decideFederatedLink({ ...base, ...change });
    // Assess
    expect(decision).toEqual({ action: "separate", reason });
  });

  it("never links on an unverified federated email", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom("false", "", "True", "yes", "1"),
          fc.constant(false),
          fc.constant(undefined),
        ),
        fc.constantFrom("Google", "SignInWithApple", "Other"),
        fc.oneof(fc.constantFrom("true", "false"), fc.boolean()),
        (emailVerified, providerName, nativeVerified) => {
          const decision = decideFederatedLink({
            ...base,
            providerName,
            emailVerified,
            existingNativeUser: { username: "u", emailVerified: nativeVerified },
          });
          expect(decision.action).toBe("separate");
        },
      ),
    );
  });
});

describe("foldMailboxAliases", () => {
  it("is on when absent, off only when switched off, and refuses anything but a boolean", () => {
    expect(foldsMailboxAliases(parseSignUpPolicy("{}"))).toBe(true);
    expect(foldsMailboxAliases(parseSignUpPolicy('{"foldMailboxAliases":true}'))).toBe(true);
    expect(foldsMailboxAliases(parseSignUpPolicy('{"foldMailboxAliases":false}'))).toBe(false);
    expect(() => parseSignUpPolicy('{"foldMailboxAliases":"no"}')).toThrow(
      InvalidSignUpPolicyError,
    );
  });
});
