import { z } from "zod";

/**
 * Parses a handler's environment once, at cold start, and fails fast naming what is missing:
 * a misconfigured function should never reach its first event.
 */
export function parseEnvironment<T extends z.ZodRawShape>(
  shape: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
      .join("; ");
    throw new Error(`Invalid function configuration: ${problems}`);
  }
  return result.data;
}
