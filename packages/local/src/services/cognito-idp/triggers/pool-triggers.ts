/**
 * The pool's side of its triggers: which function each source calls (the pool's LambdaConfig),
 * what the event carries of the user, and what the pool does with the answer. How the call itself
 * behaves (budget, retries, errors) is in index.ts.
 */
import { userAttributes } from "../definitions";
import type { PreTokenGenerationVersion, UserRecord } from "../model";
import { normalize, type PoolState, type UserPoolContext } from "../state";
import {
  applyPreTokenGenerationResponse,
  invokeWithCognitoSemantics,
  type PostConfirmationSource,
  type PreSignUpSource,
  postConfirmationEvent,
  preSignUpEvent,
  preTokenGenerationEvent,
  type TokenClaims,
  type TokenGenerationSource,
  type TriggerContext,
} from "./index";

export type PoolTriggerContext = Pick<
  UserPoolContext,
  "region" | "invokeTrigger" | "triggerTimeoutMs"
>;

export function triggerContext(
  ctx: PoolTriggerContext,
  pool: PoolState,
  user: UserRecord | string,
  clientId: string,
): TriggerContext {
  return {
    region: ctx.region,
    userPoolId: pool.record.id,
    userName: typeof user === "string" ? user : user.username,
    clientId,
  };
}

function triggerAttributes(user: UserRecord): Record<string, string> {
  return { ...userAttributes(user), "cognito:user_status": user.status };
}

/** `cognito:email_alias` / `cognito:phone_number_alias` when that attribute signs the user in. */
function signInAliases(pool: PoolState, user: UserRecord): Record<string, string> {
  const key = normalize(pool, user.username);
  const aliases: Record<string, string> = {};
  for (const alias of pool.aliasesOfUser.get(key) ?? []) {
    const [kind] = alias.split(":", 1);
    if (kind === "email" && user.attributes.email) {
      aliases["cognito:email_alias"] = user.attributes.email;
    }
    if (kind === "phone_number" && user.attributes.phone_number) {
      aliases["cognito:phone_number_alias"] = user.attributes.phone_number;
    }
  }
  return aliases;
}

export async function runPreSignUp(
  ctx: PoolTriggerContext,
  pool: PoolState,
  source: PreSignUpSource,
  context: TriggerContext,
  request: Parameters<typeof preSignUpEvent>[2],
) {
  const arn = pool.record.definition.LambdaConfig?.PreSignUp;
  if (!arn || !ctx.invokeTrigger) return undefined;
  const result = await invokeWithCognitoSemantics(
    ctx.invokeTrigger,
    "PreSignUp",
    arn,
    preSignUpEvent(source, context, request),
    ctx.triggerTimeoutMs,
  );
  return result.response as Partial<{
    autoConfirmUser: boolean;
    autoVerifyEmail: boolean;
    autoVerifyPhone: boolean;
  }> | null;
}

export async function runPostConfirmation(
  ctx: PoolTriggerContext,
  pool: PoolState,
  source: PostConfirmationSource,
  user: UserRecord,
  clientId: string,
  clientMetadata: Record<string, string> | undefined,
): Promise<void> {
  const arn = pool.record.definition.LambdaConfig?.PostConfirmation;
  if (!arn || !ctx.invokeTrigger) return;
  await invokeWithCognitoSemantics(
    ctx.invokeTrigger,
    "PostConfirmation",
    arn,
    postConfirmationEvent(source, triggerContext(ctx, pool, user, clientId), {
      userAttributes: { ...triggerAttributes(user), ...signInAliases(pool, user) },
      clientMetadata,
    }),
    ctx.triggerTimeoutMs,
  );
}

function preTokenConfig(
  pool: PoolState,
): { arn: string; version: PreTokenGenerationVersion } | undefined {
  const config = pool.record.definition.LambdaConfig;
  if (config?.PreTokenGenerationConfig?.LambdaArn) {
    return {
      arn: config.PreTokenGenerationConfig.LambdaArn,
      version: config.PreTokenGenerationConfig.LambdaVersion ?? "V1_0",
    };
  }
  return config?.PreTokenGeneration
    ? { arn: config.PreTokenGeneration, version: "V1_0" }
    : undefined;
}

/** Pre token generation, when the pool has it: the response changes `claims` in place. */
export async function runPreTokenGeneration(
  ctx: PoolTriggerContext,
  pool: PoolState,
  user: UserRecord,
  clientId: string,
  source: TokenGenerationSource,
  claims: TokenClaims,
  request: Omit<Parameters<typeof preTokenGenerationEvent>[3], "userAttributes">,
): Promise<void> {
  const trigger = preTokenConfig(pool);
  if (!trigger || !ctx.invokeTrigger) return;
  const event = preTokenGenerationEvent(
    trigger.version,
    source,
    triggerContext(ctx, pool, user, clientId),
    { userAttributes: triggerAttributes(user), ...request },
  );
  const result = await invokeWithCognitoSemantics(
    ctx.invokeTrigger,
    "PreTokenGeneration",
    trigger.arn,
    event,
    ctx.triggerTimeoutMs,
  );
  applyPreTokenGenerationResponse(trigger.version, result.response, claims);
}
