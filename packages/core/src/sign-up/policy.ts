import { InvalidEmailError, InvalidSignUpPolicyError } from "../errors";
// zod/mini through ./zod; a namespace import lets esbuild drop the parts of zod we do not use.
import * as z from "../zod";
import { canonicalizeDomain, domainOfCanonicalEmail } from "./email";

/**
 * Who may sign up, and who skips confirmation, decided from the canonical email domain.
 *
 * Domain patterns are either an exact domain (`example.com`) or `*.suffix`, which matches every
 * subdomain of `suffix` but NOT `suffix` itself (list both to cover both). Patterns are written in
 * any case and may be Unicode; they are canonicalised exactly like the domain of an address, so
 * `*.Bücher.example` matches `shop.xn--bcher-kva.example`.
 */

const WILDCARD_PREFIX = "*.";

const DomainPattern = z.pipe(
  z.string(),
  z.transform((pattern: string, ctx) => {
    const wildcard = pattern.startsWith(WILDCARD_PREFIX);
    try {
      const domain = canonicalizeDomain(wildcard ? pattern.slice(WILDCARD_PREFIX.length) : pattern);
      return wildcard ? `${WILDCARD_PREFIX}${domain}` : domain;
    } catch (error) {
      if (!(error instanceof InvalidEmailError)) throw error;
      // What zod's ctx.addIssue records; zod/mini hands the transform the parse payload itself.
      ctx.issues.push({
        code: "custom",
        message: `"${pattern}" is not a domain or a *.domain pattern`,
        input: pattern,
      });
      return z.NEVER;
    }
  }),
);

/** Provider names as configured on the user pool (`Google`, `SignInWithApple`, an OIDC name). */
const ProviderName = z.string().check(z.minLength(1), z.maxLength(32));

export const SignUpPolicy = z.strictObject({
  /** Empty or absent: every domain may sign up (subject to `deniedDomains`). */
  allowedDomains: z.optional(z.array(DomainPattern)),
  /** Wins over `allowedDomains`. */
  deniedDomains: z.optional(z.array(DomainPattern)),
  /** Native sign-ups from these domains are confirmed without a code (their email stays unverified). */
  autoConfirmDomains: z.optional(z.array(DomainPattern)),
  /** Identity providers whose `email_verified` we believe, for linking and auto-verification. */
  trustedFederationProviders: z.optional(z.array(ProviderName)),
  /**
   * Fold documented provider aliases (Gmail dots and `+tags`, `googlemail.com`, ...; mailbox.ts)
   * into one email claim. Absent means on: the stricter choice.
   */
  foldMailboxAliases: z.optional(z.boolean()),
});
export type SignUpPolicy = z.output<typeof SignUpPolicy>;

/**
 * Parses the policy from its JSON configuration. Unknown keys are refused so that a typo such as
 * `allowDomains` fails the deploy instead of silently allowing everyone.
 */
export function parseSignUpPolicy(json: string): SignUpPolicy {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new InvalidSignUpPolicyError("Sign-up policy is not valid JSON", { cause });
  }
  const parsed = SignUpPolicy.safeParse(value);
  if (!parsed.success) {
    throw new InvalidSignUpPolicyError(
      `Sign-up policy is invalid:\n${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

export type PreSignUpTriggerSource =
  | "PreSignUp_SignUp"
  | "PreSignUp_AdminCreateUser"
  | "PreSignUp_ExternalProvider";

interface SignUpRequest {
  /** Output of `canonicalizeEmail`; the policy never sees a raw address. */
  canonicalEmail: string;
  triggerSource: PreSignUpTriggerSource;
  /** For `PreSignUp_ExternalProvider`: the IdP's `email_verified`, as Cognito passes it. */
  emailVerified?: boolean | string;
  /** For `PreSignUp_ExternalProvider`: the provider name, from the `identities` attribute. */
  providerName?: string;
}

type SignUpDecision =
  | { decision: "allow"; autoConfirm: boolean; autoVerifyEmail: boolean }
  | {
      decision: "deny";
      /** Safe to show the user; deliberately the same for both reasons so the lists stay private. */
      userMessage: string;
      /** For logs and metrics only. */
      reason: "domain-denied" | "domain-not-allowed";
    };

export const SIGN_UP_DENIED_MESSAGE = "Sign-up with this email address is not allowed.";

/** Whether the policy folds provider aliases into one claim (on unless switched off). */
export const foldsMailboxAliases = (policy: SignUpPolicy): boolean =>
  policy.foldMailboxAliases !== false;

/** Whether a canonical domain matches an exact or `*.suffix` pattern. */
export function domainMatches(domain: string, pattern: string): boolean {
  if (pattern.startsWith(WILDCARD_PREFIX)) {
    return domain.endsWith(`.${pattern.slice(WILDCARD_PREFIX.length)}`);
  }
  return domain === pattern;
}

const matchesAny = (domain: string, patterns: readonly string[] | undefined): boolean =>
  (patterns ?? []).some((pattern) => domainMatches(domain, pattern));

/**
 * Cognito passes attributes as strings ("true"/"false") but IdP mappings and our own callers may use
 * booleans. Anything but an explicit true is false: a wrong "no" only costs a verification email, a
 * wrong "yes" is an account takeover.
 */
export function isEmailVerified(value: unknown): boolean {
  return value === true || value === "true";
}

export function evaluateSignUp(policy: SignUpPolicy, request: SignUpRequest): SignUpDecision {
  const domain = domainOfCanonicalEmail(request.canonicalEmail);
  if (matchesAny(domain, policy.deniedDomains)) {
    return { decision: "deny", userMessage: SIGN_UP_DENIED_MESSAGE, reason: "domain-denied" };
  }
  const allowed = policy.allowedDomains ?? [];
  if (allowed.length > 0 && !matchesAny(domain, allowed)) {
    return { decision: "deny", userMessage: SIGN_UP_DENIED_MESSAGE, reason: "domain-not-allowed" };
  }

  switch (request.triggerSource) {
    case "PreSignUp_AdminCreateUser":
      // Cognito ignores the flags for AdminCreateUser: the administrator decides.
      return { decision: "allow", autoConfirm: false, autoVerifyEmail: false };
    case "PreSignUp_SignUp":
      // Auto-confirmation skips the code, but ownership of the address is still unproven, so the
      // email is never marked verified here: a verified email is what federated linking trusts.
      return {
        decision: "allow",
        autoConfirm: matchesAny(domain, policy.autoConfirmDomains),
        autoVerifyEmail: false,
      };
    case "PreSignUp_ExternalProvider": {
      // Cognito confirms federated users itself. The email is marked verified only when a provider
      // we trust says it verified it.
      const trusted =
        request.providerName !== undefined &&
        (policy.trustedFederationProviders ?? []).includes(request.providerName);
      return {
        decision: "allow",
        autoConfirm: false,
        autoVerifyEmail: trusted && isEmailVerified(request.emailVerified),
      };
    }
  }
}

/**
 * The provider of a federated user, from its Cognito username `<providerName>_<providerUserId>`
 * (the pre sign-up event has no `identities` attribute yet). Cognito lowercases that username
 * (`google_1049…` for provider `Google`), so the prefix is matched case-insensitively against the
 * configured provider names and the configured spelling is returned; undefined when none matches.
 */
export function providerNameFromUsername(
  userName: string,
  providerNames: readonly string[],
): string | undefined {
  const lowered = userName.toLowerCase();
  let best: string | undefined;
  for (const name of providerNames) {
    if (!lowered.startsWith(`${name.toLowerCase()}_`)) continue;
    // The longest configured name wins, so `Corp` does not shadow `Corp_EU`-style names.
    if (best === undefined || name.length > best.length) best = name;
  }
  return best;
}

export interface FederatedLinkRequest {
  /** Provider of the user signing in, e.g. `Google`. */
  providerName: string;
  /** The IdP's `email_verified` for the federated user, string or boolean. */
  emailVerified: boolean | string | undefined;
  trustedProviders: readonly string[];
  /** The native user holding the same canonical email, if any. */
  existingNativeUser: { username: string; emailVerified: boolean | string | undefined } | null;
}

type FederatedLinkDecision =
  | { action: "link"; nativeUsername: string }
  | {
      action: "separate";
      reason:
        | "no-native-user"
        | "untrusted-provider"
        | "federated-email-not-verified"
        | "native-email-not-verified";
    };

/**
 * Whether a first federated sign-in should be linked (AdminLinkProviderForUser) to the native user
 * with the same email, or become a separate user. Linking needs all of: a native user, a provider we
 * trust, a verified email at the provider (else anyone can claim an address at a lax IdP and take
 * over the native account) and a verified email on the native user (else an attacker who pre-
 * registered the victim's address, never confirming it, would inherit the victim's federated login).
 */
export function decideFederatedLink(request: FederatedLinkRequest): FederatedLinkDecision {
  if (request.existingNativeUser === null) return { action: "separate", reason: "no-native-user" };
  if (!request.trustedProviders.includes(request.providerName)) {
    return { action: "separate", reason: "untrusted-provider" };
  }
  if (!isEmailVerified(request.emailVerified)) {
    return { action: "separate", reason: "federated-email-not-verified" };
  }
  if (!isEmailVerified(request.existingNativeUser.emailVerified)) {
    return { action: "separate", reason: "native-email-not-verified" };
  }
  return { action: "link", nativeUsername: request.existingNativeUser.username };
}
