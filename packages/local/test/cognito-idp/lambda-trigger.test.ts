/**
 * The trigger adapter over a Lambda runtime, under Cognito's semantics: the function's response,
 * its error as UserLambdaValidationException, its own timeout retried, and Cognito's budget kept
 * by the pool's timer alone (the runtime is never handed it).
 */
import { describe, expect, it } from "vitest";
import {
  invokeWithCognitoSemantics,
  type LambdaInvocationResult,
  lambdaTrigger,
} from "../../src/services/cognito-idp/triggers";

function runtimeAnswering(...results: LambdaInvocationResult[]) {
  const calls: Array<{ arn: string; options: object }> = [];
  const invoke = lambdaTrigger(async (arn, _event, options) => {
    calls.push({ arn, options });
    const result = results.shift();
    if (!result) throw new Error("no more results");
    return result;
  });
  return { invoke, calls };
}

describe("lambdaTrigger", () => {
  it("answers the function's payload and hands the runtime no Cognito timeout", async () => {
    const { invoke, calls } = runtimeAnswering({ ok: true, payload: { response: { a: 1 } } });
    const result = await invokeWithCognitoSemantics(invoke, "PreSignUp", "arn:fn", { n: 1 }, 200);
    expect(result).toEqual({ response: { a: 1 } });
    expect(calls).toEqual([{ arn: "arn:fn", options: { source: "cognito-idp" } }]);
  });

  it("turns the function's error into UserLambdaValidationException with its message", async () => {
    const { invoke } = runtimeAnswering({
      ok: false,
      errorMessage: "profile store unavailable",
      timedOut: false,
    });
    const failing = invokeWithCognitoSemantics(invoke, "PostConfirmation", "arn:fn", {}, 200);
    await expect(failing).rejects.toMatchObject({
      name: "UserLambdaValidationException",
      message: "PostConfirmation failed with error profile store unavailable.",
    });
  });

  it("retries the function's own timeout as Cognito's, three attempts in all", async () => {
    const timedOut: LambdaInvocationResult = {
      ok: false,
      errorMessage: "Task timed out after 1.00 seconds",
      timedOut: true,
    };
    const { invoke, calls } = runtimeAnswering(timedOut, timedOut, timedOut);
    const failing = invokeWithCognitoSemantics(invoke, "PreTokenGeneration", "arn:fn", {}, 200);
    await expect(failing).rejects.toMatchObject({ name: "UnexpectedLambdaException" });
    expect(calls).toHaveLength(3);
  });
});
