import * as z from "../zod";
import { events, required, slug } from "./shared";

export { parseEnvironment } from "./shared";

/** `STAGE` is set on every function by sst.config.ts, `TABLE_NAME` by the stacks. */
const common = {
  STAGE: required,
  TABLE_NAME: required,
  /** Tenant and plan of a profile created by a trigger; server-side only. */
  DEFAULT_TENANT: z._default(slug, "default"),
  DEFAULT_PLAN: z._default(slug, "free"),
};

/** The user pool's triggers (stacks/Auth.ts) and the outbox relay (stacks/Events.ts). */
export const preSignUpEnvironment = () => ({
  ...common,
  SIGNUP_POLICY: required,
  /** Optional: without them a federated link's event is left to the relay (ADR 0004). */
  EVENTS_TOPIC_ARN: z.optional(events.EVENTS_TOPIC_ARN),
  EVENTS_STREAM_NAME: z.optional(required),
});

export const postConfirmationEnvironment = () => ({ ...common, ...events, DEFAULT_GROUP: slug });

export const preTokenGenerationEnvironment = () => ({
  ...common,
  ROLE_CATALOG: required,
  /** Absent means on, as in the sign-up policy. */
  FOLD_MAILBOX_ALIASES: z._default(z.enum(["true", "false"]), "true"),
});

export const outboxRelayEnvironment = () => ({
  ...common,
  ...events,
  RELAY_GRACE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(600)), 30),
});
