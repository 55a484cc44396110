import * as z from "./zod";

/**
 * Each function's environment, written once: the stacks build a function's `environment` from
 * these keys (`functionEnvironment`), and the function parses `process.env` with the same schema
 * at cold start (`parseFunctionEnvironment`), failing before its first event with a message that
 * names the variable. Values are strings, as Lambda passes them ("Working with Lambda environment
 * variables", AWS Lambda Developer Guide); what a value means beyond its shape (the sign-up
 * policy's JSON, the role catalog) is parsed by the function's configuration.
 *
 * A variable that is absent where a default lives in core (the guest-proof issuer and limit) is
 * optional here: the function applies core's default.
 */

const required = z.string().check(z.minLength(1, "is required"));
const slug = z
  .string()
  .check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "must be a lowercase slug"));
const topicArn = z.string().check(z.startsWith("arn:", "must be an SNS topic ARN"));
/** `arn:<partition>:iam::<account>:role/<path/>name`: the role the stacks pass to admin routes. */
const iamRoleArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
      "must be an IAM role ARN",
    ),
  );
/** A positive whole number of at most `digits` digits (e.g. `"5"`). */
const positiveInteger = (digits: number) =>
  z
    .string()
    .check(
      z.regex(
        new RegExp(`^[1-9]\\d{0,${digits - 1}}$`),
        `must be a whole number from 1 to ${"9".repeat(digits)}`,
      ),
    );

/** `STAGE` is set on every function by sst.config.ts, `TABLE_NAME` by the stacks. */
const common = {
  STAGE: required,
  TABLE_NAME: required,
  /** Tenant and plan of a profile created by a trigger; server-side only. */
  DEFAULT_TENANT: z._default(slug, "default"),
  DEFAULT_PLAN: z._default(slug, "free"),
};
const events = { EVENTS_TOPIC_ARN: topicArn, EVENTS_STREAM_NAME: required };
/** What every identity route is told (stacks/Api.ts's route defaults). */
const identityRoute = { STAGE: required, TABLE_NAME: required, IDENTITY_POOL_ID: required };
/** `DELETE /identity/me` and `DELETE /admin/users/{sub}` (ADR 0007). */
const deletion = {
  ...identityRoute,
  USER_POOL_ID: required,
  IOT_POLICY_NAME: required,
  ...events,
  DEFAULT_TENANT: z._default(z.string().check(z.minLength(1)), "default"),
};

export const FUNCTION_ENVIRONMENTS = {
  preSignUp: {
    ...common,
    SIGNUP_POLICY: required,
    /** Optional: without them a federated link's event is left to the relay (ADR 0004). */
    EVENTS_TOPIC_ARN: z.optional(topicArn),
    EVENTS_STREAM_NAME: z.optional(required),
  },
  postConfirmation: { ...common, ...events, DEFAULT_GROUP: slug },
  preTokenGeneration: {
    ...common,
    ROLE_CATALOG: required,
    /** Absent means on, as in the sign-up policy. */
    FOLD_MAILBOX_ALIASES: z._default(z.enum(["true", "false"]), "true"),
  },
  outboxRelay: {
    ...common,
    ...events,
    RELAY_GRACE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(600)), 30),
  },
  issueGuestProof: {
    ...identityRoute,
    GUEST_PROOF_KEY_ID: required,
    GUEST_PROOF_LIMIT: z.optional(positiveInteger(3)),
    GUEST_PROOF_WINDOW_SECONDS: z.optional(positiveInteger(5)),
  },
  linkIdentity: {
    ...identityRoute,
    IOT_POLICY_NAME: required,
    ...events,
    GUEST_PROOF_ISSUER: z.optional(z.url()),
    GUEST_PROOF_JWKS_URI: z.optional(z.url()),
    GUEST_PROOF_KEY_ID: z.optional(required),
  },
  ensureIot: { ...identityRoute, IOT_POLICY_NAME: required },
  preferences: identityRoute,
  adminGetUser: { ...identityRoute, ADMIN_ROLE_ARN: iamRoleArn },
  deleteMe: {
    ...deletion,
    /** A sign-in older than this is not recent (stacks/config.ts). */
    RECENT_SESSION_MAX_AGE_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.positive("must be a positive number of seconds")),
      900,
    ),
  },
  adminDeleteUser: { ...deletion, ADMIN_ROLE_ARN: iamRoleArn },
  getProfile: { TABLE_NAME: required },
} satisfies Record<string, z.core.$ZodShape>;

export type FunctionName = keyof typeof FUNCTION_ENVIRONMENTS;
type Shape<F extends FunctionName> = (typeof FUNCTION_ENVIRONMENTS)[F];

/** What a function's configuration reads, parsed (defaults applied). */
export type FunctionConfig<F extends FunctionName> = z.infer<z.ZodMiniObject<Shape<F>>>;

/** What the stacks may set on a function: its variables and no others, each a string. */
export type FunctionEnvironmentInput<F extends FunctionName> = {
  [K in keyof Shape<F>]?: string;
};

/** Thrown at cold start when a variable is missing or malformed; names each such variable. */
export class FunctionConfigurationError extends Error {
  constructor(
    readonly fn: FunctionName,
    readonly variables: string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FunctionConfigurationError";
  }
}

/** Parses `env` with the function's schema; throws `FunctionConfigurationError` naming what is wrong. */
export function parseFunctionEnvironment<F extends FunctionName>(
  fn: F,
  env: Record<string, string | undefined>,
): FunctionConfig<F> {
  const result = z.object(FUNCTION_ENVIRONMENTS[fn]).safeParse(env);
  if (!result.success) {
    const issues = result.error.issues;
    const problems = issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new FunctionConfigurationError(
      fn,
      issues.map((issue) => issue.path.join(".")),
      `Invalid function configuration: ${problems}`,
      { cause: result.error },
    );
  }
  return result.data as unknown as FunctionConfig<F>;
}

/**
 * A function's `environment` for the stacks: only the function's own variables are accepted
 * (the type says which), and unset ones are left out.
 */
export function functionEnvironment<F extends FunctionName>(
  fn: F,
  values: FunctionEnvironmentInput<F>,
): Record<string, string> {
  const known = FUNCTION_ENVIRONMENTS[fn] as Record<string, unknown>;
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(values as Record<string, string | undefined>)) {
    // Spreads escape the type's excess-property check: refuse an unknown key at synthesis too.
    if (!Object.hasOwn(known, key)) {
      throw new Error(`${key} is not a variable of the ${fn} function (packages/contracts/env.ts)`);
    }
    if (value !== undefined) environment[key] = value;
  }
  return environment;
}

/** The variables a function cannot start without (no default, not optional). */
export function requiredVariables(fn: FunctionName): string[] {
  return Object.entries(FUNCTION_ENVIRONMENTS[fn] as Record<string, z.ZodMiniType>)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key]) => key);
}
