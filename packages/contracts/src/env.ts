import * as routes from "./env/routes";
import { parseEnvironment } from "./env/shared";
import * as triggers from "./env/triggers";
import type * as z from "./zod";

export { FunctionConfigurationError } from "./env/shared";

/**
 * Each function's environment, written once: the stacks build a function's `environment` from
 * these keys (`functionEnvironment`), and the function parses `process.env` with the same schema
 * at cold start (`parseEnvironment` with its `<name>Environment()` of env/triggers.ts or
 * env/routes.ts: a function per schema, so a bundle builds and holds only its own), failing
 * before its first event with a message that names the variable. Values are strings, as Lambda
 * passes them ("Using Lambda environment variables", AWS Lambda Developer Guide); what a value
 * means beyond its shape (the sign-up policy's JSON, the role catalog) is parsed by the
 * function's configuration.
 */
export const FUNCTION_ENVIRONMENTS = {
  preSignUp: triggers.preSignUpEnvironment(),
  postConfirmation: triggers.postConfirmationEnvironment(),
  preTokenGeneration: triggers.preTokenGenerationEnvironment(),
  outboxRelay: triggers.outboxRelayEnvironment(),
  issueGuestProof: routes.issueGuestProofEnvironment(),
  linkIdentity: routes.linkIdentityEnvironment(),
  ensureIot: routes.ensureIotEnvironment(),
  preferences: routes.preferencesEnvironment(),
  adminGetUser: routes.adminGetUserEnvironment(),
  deleteMe: routes.deleteMeEnvironment(),
  adminDeleteUser: routes.adminDeleteUserEnvironment(),
  getProfile: routes.getProfileEnvironment(),
} satisfies Record<string, z.core.$ZodShape>;

export type FunctionName = keyof typeof FUNCTION_ENVIRONMENTS;
type Shape<F extends FunctionName> = (typeof FUNCTION_ENVIRONMENTS)[F];

/** What a function's configuration reads, parsed (defaults applied). */
export type FunctionConfig<F extends FunctionName> = z.infer<z.ZodMiniObject<Shape<F>>>;

/** What the stacks may set on a function: its variables and no others, each a string. */
type FunctionEnvironmentInput<F extends FunctionName> = {
  [K in keyof Shape<F>]?: string;
};

/** `parseEnvironment` by the function's name (the stacks' and tests' side; a bundle imports its group). */
export function parseFunctionEnvironment<F extends FunctionName>(
  fn: F,
  env: Record<string, string | undefined>,
): FunctionConfig<F> {
  return parseEnvironment(fn, FUNCTION_ENVIRONMENTS[fn], env) as unknown as FunctionConfig<F>;
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
