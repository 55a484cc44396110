import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { finishInvocation, startInvocation, type TriggerContext } from "../observability";
import { errorResponse } from "./http";

/**
 * The lifecycle every HTTP API route shares, as the triggers have theirs (kit/trigger.ts):
 * request-scoped log keys (the request id and the route key, never the body), the work, errors
 * mapped to a status and a JSON body only here at the edge (kit/http.ts), and the metrics flush.
 */
type RouteResponse = APIGatewayProxyStructuredResultV2;

export function route<E>(
  handle: (event: E) => Promise<RouteResponse>,
): (event: E, context?: TriggerContext) => Promise<RouteResponse> {
  return async function runRoute(event, context) {
    const routeKey = (event as { routeKey?: unknown } | null)?.routeKey;
    startInvocation(context, typeof routeKey === "string" ? { routeKey } : {});
    try {
      return await handle(event);
    } catch (error) {
      return errorResponse(error);
    } finally {
      finishInvocation();
    }
  };
}

/**
 * Whether this module runs as a Lambda function (Lambda sets `AWS_LAMBDA_FUNCTION_NAME`, "Defined
 * runtime environment variables", AWS Lambda Developer Guide): only there does init prime the SDK
 * clients, where credentials come from the environment; a test importing a handler resolves none.
 */
export function inLambda(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.AWS_LAMBDA_FUNCTION_NAME ?? "") !== "";
}

/**
 * Init-phase work of a route's entry module, awaited at top level so Lambda finishes it before the
 * first request ("Lambda execution environment lifecycle", AWS Lambda Developer Guide): the first
 * request then finds the SDK's modules loaded, its credentials resolved and its pipelines run once.
 * Priming never fails init; configuration errors do, earlier, when the route is built.
 */
export async function primeAtInit(...primers: Array<() => Promise<void>>): Promise<void> {
  if (!inLambda()) return;
  await Promise.all(primers.map((prime) => prime()));
}
