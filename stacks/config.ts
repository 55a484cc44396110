/**
 * Stage defaults. Everything that differs between stages lives here, not in handler code:
 * a deploy to `prod` changes behaviour only through these values.
 */
export interface SignUpPolicyConfig {
  /** Canonical email domains that may sign up; empty means every domain not denied. */
  allowedDomains: string[];
  /** Canonical email domains that may never sign up. Wins over `allowedDomains`. */
  deniedDomains: string[];
  /** Domains whose users are auto-confirmed and auto-verified at sign-up. */
  autoConfirmDomains: string[];
  /** Federated identity providers whose verified emails may be linked to native users. */
  trustedFederationProviders: string[];
  /**
   * One account per mailbox across documented provider aliases (Gmail dots and `+tags`,
   * `googlemail.com`, Outlook.com and Fastmail `+tags`, ...; packages/core/src/sign-up/mailbox.ts).
   * On in every stage by default; docs/sign-up-policy.md says what switching it changes.
   */
  foldMailboxAliases: boolean;
}

export interface StageConfig {
  isProduction: boolean;
  logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
  signUpPolicy: SignUpPolicyConfig;
  /** The user-pool group every confirmed user joins, and the app role of a new profile. */
  defaultGroup: string;
  /** Tenant and plan of a new profile (slugs; they become token claims). */
  defaultTenant: string;
  defaultPlan: string;
  /**
   * Irreversible operations (`DELETE /identity/me`) need a sign-in at most this old (the access
   * token's `auth_time`, which a token refresh keeps): otherwise 401 `ReauthenticationRequired`
   * (ADR 0007).
   */
  recentSessionMaxAgeSeconds: number;
  /** HTTP API throttling (API Gateway's token bucket: `rateLimit` per second, `burstLimit` deep). */
  apiThrottling: {
    /** Every route without its own limit (the stage's default route settings). */
    stage: ThrottleLimits;
    /**
     * `POST /identity/guest-proof`: anyone may become a guest, and each proof is an RSA `kms:Sign`
     * (KMS's RSA request quota is shared by the whole account and Region).
     */
    guestProof: ThrottleLimits;
    /** The other guest routes (`GET`/`PUT /identity/preferences`): one DynamoDB call each. */
    guestData: ThrottleLimits;
  };
}

export interface ThrottleLimits {
  /** Steady-state requests per second. */
  rateLimit: number;
  /** Bucket size: requests accepted at once before the rate applies. */
  burstLimit: number;
}

const PRODUCTION_STAGES = new Set(["prod", "production"]);

export function stageConfig(stage: string): StageConfig {
  const isProduction = PRODUCTION_STAGES.has(stage);
  return {
    isProduction,
    logLevel: isProduction ? "INFO" : "DEBUG",
    signUpPolicy: isProduction
      ? {
          allowedDomains: [],
          deniedDomains: ["mailinator.com", "*.mailinator.com"],
          autoConfirmDomains: [],
          trustedFederationProviders: [],
          foldMailboxAliases: true,
        }
      : {
          allowedDomains: [],
          deniedDomains: ["blocked.example"],
          autoConfirmDomains: ["autoconfirm.example"],
          trustedFederationProviders: ["Google", "SignInWithApple"],
          foldMailboxAliases: true,
        },
    defaultGroup: "member",
    defaultTenant: "default",
    defaultPlan: "free",
    recentSessionMaxAgeSeconds: 15 * 60,
    apiThrottling: {
      stage: { rateLimit: 100, burstLimit: 200 },
      guestProof: { rateLimit: 10, burstLimit: 20 },
      guestData: { rateLimit: 50, burstLimit: 100 },
    },
  };
}

/**
 * Trigger functions must finish inside Cognito's fixed 5 s window ("Customizing user pool workflows
 * with Lambda triggers",
 * https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html).
 */
export const TRIGGER_TIMEOUT_SECONDS = 5;

/** The identity id as IAM and IoT policy variables see it (not the user-pool `sub`). */
export const IDENTITY_ID_VARIABLE = "${cognito-identity.amazonaws.com:sub}";

/** Every identity publishes and subscribes only under `<IOT_TOPIC_ROOT>/<identityId>/...`. */
export const IOT_TOPIC_ROOT = "boardingpass/identities";
