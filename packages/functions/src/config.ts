import {
  outboxRelayEnvironment,
  parseEnvironment,
  postConfirmationEnvironment,
  preSignUpEnvironment,
  preTokenGenerationEnvironment,
} from "@boarding-pass/contracts/env/triggers";
import type { ProfileDefaults } from "@boarding-pass/core/profile";
import { parseSignUpPolicy, type SignUpPolicy } from "@boarding-pass/core/sign-up";
import { parseRoleCatalog, type RoleCatalog } from "@boarding-pass/core/token-claims";

/**
 * The triggers' and the relay's configuration: each parses its environment with its schema in
 * packages/contracts/env.ts (the one the stacks build it from), once, at cold start, and fails
 * fast naming what is missing: a misconfigured function never reaches its first event.
 */

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
  const parsed = parseEnvironment("preSignUp", preSignUpEnvironment(), env);
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
  const parsed = parseEnvironment("postConfirmation", postConfirmationEnvironment(), env);
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
  const parsed = parseEnvironment("preTokenGeneration", preTokenGenerationEnvironment(), env);
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
  const parsed = parseEnvironment("outboxRelay", outboxRelayEnvironment(), env);
  return {
    stage: parsed.STAGE,
    tableName: parsed.TABLE_NAME,
    events: { topicArn: parsed.EVENTS_TOPIC_ARN, streamName: parsed.EVENTS_STREAM_NAME },
    graceMs: parsed.RELAY_GRACE_SECONDS * 1000,
  };
}
