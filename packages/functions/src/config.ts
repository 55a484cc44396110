import type { ProfileDefaults } from "@boarding-pass/core/profile";
import { parseSignUpPolicy, type SignUpPolicy } from "@boarding-pass/core/sign-up";
import { parseRoleCatalog, type RoleCatalog } from "@boarding-pass/core/token-claims";
// zod/mini through core: one zod per bundle (see core/src/zod.ts); a namespace import so esbuild
// tree-shakes.
import * as z from "@boarding-pass/core/zod";

/**
 * Parses a handler's environment once, at cold start, and fails fast naming what is missing:
 * a misconfigured function should never reach its first event.
 */
export function parseEnvironment<T extends z.core.$ZodShape>(
  shape: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodMiniObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
      .join("; ");
    throw new Error(`Invalid function configuration: ${problems}`);
  }
  return result.data;
}

const required = z.string().check(z.minLength(1, "is required"));
const slug = z
  .string()
  .check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "must be a lowercase slug"));

/** Set on every function by sst.config.ts (STAGE) and by the stacks (TABLE_NAME). */
const common = {
  STAGE: required,
  TABLE_NAME: required,
  /** Tenant and plan of a profile created by a trigger; optional, server-side only. */
  DEFAULT_TENANT: z._default(slug, "default"),
  DEFAULT_PLAN: z._default(slug, "free"),
};

/** The event destinations of a function that publishes (also the identity routes', api/config.ts). */
export const events = {
  EVENTS_TOPIC_ARN: z.string().check(z.startsWith("arn:", "must be an SNS topic ARN")),
  EVENTS_STREAM_NAME: required,
};

interface EventsConfig {
  topicArn: string;
  streamName: string;
}

interface BaseConfig {
  stage: string;
  tableName: string;
}

interface PreSignUpConfig extends BaseConfig {
  policy: SignUpPolicy;
  defaults: ProfileDefaults;
  /** Absent in the stack today: the link event is then left to the relay (ADR 0004). */
  events?: EventsConfig;
}

export function preSignUpConfig(env: NodeJS.ProcessEnv = process.env): PreSignUpConfig {
  const parsed = parseEnvironment(
    {
      ...common,
      SIGNUP_POLICY: required,
      EVENTS_TOPIC_ARN: z.optional(events.EVENTS_TOPIC_ARN),
      EVENTS_STREAM_NAME: z.optional(required),
    },
    env,
  );
  const config: PreSignUpConfig = {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    policy: parseSignUpPolicy(parsed.SIGNUP_POLICY),
    defaults: { tenant: parsed.DEFAULT_TENANT, plan: parsed.DEFAULT_PLAN, roles: [] },
  };
  if (parsed.EVENTS_TOPIC_ARN !== undefined && parsed.EVENTS_STREAM_NAME !== undefined) {
    config.events = { topicArn: parsed.EVENTS_TOPIC_ARN, streamName: parsed.EVENTS_STREAM_NAME };
  }
  return config;
}

interface PostConfirmationConfig extends BaseConfig {
  events: EventsConfig;
  defaultGroup: string;
  defaults: ProfileDefaults;
}

export function postConfirmationConfig(
  env: NodeJS.ProcessEnv = process.env,
): PostConfirmationConfig {
  const parsed = parseEnvironment({ ...common, ...events, DEFAULT_GROUP: slug }, env);
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    events: { topicArn: parsed.EVENTS_TOPIC_ARN, streamName: parsed.EVENTS_STREAM_NAME },
    defaultGroup: parsed.DEFAULT_GROUP,
    // The default group is also the profile's first role: the group that grants it in Cognito and
    // the role the profile names stay in step.
    defaults: {
      tenant: parsed.DEFAULT_TENANT,
      plan: parsed.DEFAULT_PLAN,
      roles: [parsed.DEFAULT_GROUP],
    },
  };
}

interface PreTokenGenerationConfig extends BaseConfig {
  catalog: RoleCatalog;
  defaults: ProfileDefaults;
  /** `signUpPolicy.foldMailboxAliases` of the stage: claim addresses as pre sign-up makes them. */
  foldMailboxAliases: boolean;
}

export function preTokenGenerationConfig(
  env: NodeJS.ProcessEnv = process.env,
): PreTokenGenerationConfig {
  // EVENTS_* may be set (the stack passes them) but are not used: the relay publishes repairs.
  const parsed = parseEnvironment(
    {
      ...common,
      ROLE_CATALOG: required,
      // Absent means on, as in the sign-up policy.
      FOLD_MAILBOX_ALIASES: z._default(z.enum(["true", "false"]), "true"),
    },
    env,
  );
  const catalog = parseRoleCatalog(parsed.ROLE_CATALOG);
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    catalog,
    foldMailboxAliases: parsed.FOLD_MAILBOX_ALIASES === "true",
    // A repaired profile holds the catalog's default role: never elevated.
    defaults: {
      tenant: parsed.DEFAULT_TENANT,
      plan: parsed.DEFAULT_PLAN,
      roles: [catalog.defaultRole],
    },
  };
}

interface OutboxRelayConfig extends BaseConfig {
  events: EventsConfig;
  graceMs: number;
}

export function outboxRelayConfig(env: NodeJS.ProcessEnv = process.env): OutboxRelayConfig {
  const parsed = parseEnvironment(
    {
      ...common,
      ...events,
      RELAY_GRACE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(600)), 30),
    },
    env,
  );
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    events: { topicArn: parsed.EVENTS_TOPIC_ARN, streamName: parsed.EVENTS_STREAM_NAME },
    graceMs: parsed.RELAY_GRACE_SECONDS * 1000,
  };
}
