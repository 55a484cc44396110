import * as z from "../zod";

/**
 * What every function's environment schema is made of, and the one parser: the variables of a
 * function are written once in env/triggers.ts or env/routes.ts (one module per kind, so a
 * trigger's bundle holds no route's schemas), and env.ts gathers them for the stacks.
 */

export const required = z.string().check(z.minLength(1, "is required"));
export const slug = z
  .string()
  .check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "must be a lowercase slug"));
const topicArn = z.string().check(z.startsWith("arn:", "must be an SNS topic ARN"));
export const events = { EVENTS_TOPIC_ARN: topicArn, EVENTS_STREAM_NAME: required };

/** Thrown at cold start when a variable is missing or malformed; names each such variable. */
export class FunctionConfigurationError extends Error {
  constructor(
    readonly fn: string,
    readonly variables: string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FunctionConfigurationError";
  }
}

/**
 * Parses `env` with a function's schema; throws `FunctionConfigurationError` naming what is
 * wrong, so a misconfigured function fails its init, never a request.
 */
export function parseEnvironment<S extends z.core.$ZodShape>(
  fn: string,
  shape: S,
  env: Record<string, string | undefined>,
): z.infer<z.ZodMiniObject<S>> {
  const result = z.object(shape).safeParse(env);
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
  return result.data;
}
