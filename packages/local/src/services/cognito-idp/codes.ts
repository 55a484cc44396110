/**
 * Verification codes and the outbox: issuing, checking and throttling the codes Cognito would have
 * emailed or texted, and the log of every delivery (read by tests and the control API).
 */

import { randomInt } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";
import type { OutboxMessage, PendingCode, UserRecord } from "./model";
import type { PoolState, UserPoolContext } from "./state";
import { maskDestination } from "./wire";

export type CodeContext = Pick<
  UserPoolContext,
  "now" | "log" | "outboxMessages" | "codeAttempts" | "codeSends"
>;

export const SIGNUP_CODE_MS = 24 * 3600 * 1000;
export const RESET_CODE_MS = 3600 * 1000;
const MAX_CODE_ATTEMPTS = 5;
const MAX_CODE_SENDS = 10;
const CODE_SEND_WINDOW_MS = 15 * 60 * 1000;
export const CODE_MISMATCH = "Invalid verification code provided, please try again.";
const CODE_EXPIRED = "Invalid code provided, please request a code again.";
const ATTEMPTS_EXCEEDED = "Attempt limit exceeded, please try after some time.";

export function throttleSends(ctx: CodeContext, pool: PoolState, user: UserRecord): void {
  const key = `${pool.record.id}/${user.username}`;
  const recent = (ctx.codeSends.get(key) ?? []).filter(
    (at) => at > ctx.now() - CODE_SEND_WINDOW_MS,
  );
  if (recent.length >= MAX_CODE_SENDS) {
    throw new AwsServiceError("LimitExceededException", ATTEMPTS_EXCEEDED);
  }
  recent.push(ctx.now());
  ctx.codeSends.set(key, recent);
}

export function deliver(
  ctx: CodeContext,
  pool: PoolState,
  user: UserRecord,
  kind: OutboxMessage["kind"],
  code: string,
): { Destination: string; DeliveryMedium: "EMAIL" | "SMS"; AttributeName: string } | undefined {
  const attribute = user.attributes.email
    ? "email"
    : user.attributes.phone_number
      ? "phone_number"
      : undefined;
  if (!attribute) return undefined;
  const destination = user.attributes[attribute] ?? "";
  const message: OutboxMessage = {
    poolId: pool.record.id,
    username: user.username,
    kind,
    attribute,
    destination,
    code,
    sentAt: new Date(ctx.now()).toISOString(),
  };
  ctx.outboxMessages.push(message);
  if (ctx.outboxMessages.length > 10_000) ctx.outboxMessages.shift();
  ctx.log(
    `[cognito-idp] ${kind} code ${code} for ${pool.record.id}/${user.username} to ${maskDestination(destination)}`,
  );
  return {
    Destination: maskDestination(destination),
    DeliveryMedium: attribute === "email" ? "EMAIL" : "SMS",
    AttributeName: attribute,
  };
}

export function issueCode(
  ctx: CodeContext,
  pool: PoolState,
  user: UserRecord,
  kind: PendingCode["kind"],
  lifetimeMs: number,
): string {
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  user.codes = user.codes.filter((pending) => pending.kind !== kind);
  user.codes.push({ code, kind, expires: ctx.now() + lifetimeMs });
  ctx.codeAttempts.delete(`${pool.record.id}/${user.username}/${kind}`);
  return code;
}

/** Checks and consumes a code; the caller commits the user afterwards. */
export function consumeCode(
  ctx: CodeContext,
  pool: PoolState,
  user: UserRecord,
  kind: PendingCode["kind"],
  code: string,
): void {
  const attemptsKey = `${pool.record.id}/${user.username}/${kind}`;
  const attempts = ctx.codeAttempts.get(attemptsKey) ?? 0;
  if (attempts >= MAX_CODE_ATTEMPTS) {
    throw new AwsServiceError("LimitExceededException", ATTEMPTS_EXCEEDED);
  }
  const pending = user.codes.find((entry) => entry.kind === kind);
  if (!pending || pending.code !== code) {
    ctx.codeAttempts.set(attemptsKey, attempts + 1);
    throw new AwsServiceError("CodeMismatchException", CODE_MISMATCH);
  }
  if (pending.expires < ctx.now()) throw new AwsServiceError("ExpiredCodeException", CODE_EXPIRED);
  ctx.codeAttempts.delete(attemptsKey);
  user.codes = user.codes.filter((entry) => entry !== pending);
}

export function outbox(
  ctx: CodeContext,
  filter: { email?: string; username?: string; poolId?: string } = {},
) {
  return ctx.outboxMessages.filter(
    (message) =>
      (!filter.email ||
        (message.attribute === "email" &&
          message.destination.toLowerCase() === filter.email.toLowerCase())) &&
      (!filter.username || message.username === filter.username) &&
      (!filter.poolId || message.poolId === filter.poolId),
  );
}
