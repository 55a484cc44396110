/**
 * A signed-in user's own attributes: GetUser, UpdateUserAttributes, VerifyUserAttribute (and the
 * attribute change AdminUpdateUserAttributes shares).
 */

import {
  type CodeContext,
  consumeCode,
  deliver,
  issueCode,
  SIGNUP_CODE_MS,
  throttleSends,
} from "../codes";
import {
  enforceWriteAttributes,
  readableAttributes,
  schemaOf,
  userAttributes,
  validateAttributes,
} from "../definitions";
import { invalidParameter } from "../errors";
import { mfaSettings } from "../mfa";
import type { UserRecord } from "../model";
import { type PoolState, putUser, type StoreContext } from "../state";
import { authenticateAccessToken, type TokenContext } from "../token-issuer";
import { attributeList, type Input, type Operation, requireString, toAttributeList } from "../wire";

type UserAttributeContext = StoreContext & TokenContext & CodeContext;

function getUser(ctx: UserAttributeContext, input: Input) {
  const { client, user } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  return {
    Username: user.username,
    UserAttributes: toAttributeList(readableAttributes(client, userAttributes(user))),
    MFAOptions: [],
    ...mfaSettings(user),
  };
}

function updateUserAttributes(ctx: UserAttributeContext, input: Input) {
  const { pool, client, user } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  const updates = attributeList(input.UserAttributes);
  enforceWriteAttributes(client, updates);
  return changeAttributes(ctx, pool, user, updates);
}

/** Attribute changes (self-service or admin): a new email is unverified until its code. */
export function changeAttributes(
  ctx: UserAttributeContext,
  pool: PoolState,
  user: UserRecord,
  updates: Record<string, string>,
) {
  validateAttributes(pool, updates);
  for (const name of Object.keys(updates)) {
    if (schemaOf(pool, name)?.Mutable === false && user.attributes[name] !== undefined) {
      throw invalidParameter(`Cannot modify an already provided immutable attribute: ${name}`);
    }
  }
  const emailChanged = updates.email !== undefined && updates.email !== user.attributes.email;
  Object.assign(user.attributes, updates);
  const deliveries = [];
  let code: string | undefined;
  if (emailChanged && updates.email_verified === undefined) {
    user.attributes.email_verified = "false";
    if (pool.record.definition.AutoVerifiedAttributes?.includes("email")) {
      throttleSends(ctx, pool, user);
      code = issueCode(ctx, pool, user, "verify-email", SIGNUP_CODE_MS);
    }
  }
  putUser(ctx, pool, user);
  if (code) {
    const delivery = deliver(ctx, pool, user, "verify-email", code);
    if (delivery) deliveries.push(delivery);
  }
  return { CodeDeliveryDetailsList: deliveries };
}

function verifyUserAttribute(ctx: UserAttributeContext, input: Input) {
  const { pool, user } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  const attribute = requireString(input, "AttributeName");
  if (attribute !== "email") throw invalidParameter(`Cannot verify attribute ${attribute}.`);
  consumeCode(ctx, pool, user, "verify-email", requireString(input, "Code"));
  user.attributes.email_verified = "true";
  putUser(ctx, pool, user);
  return {};
}

export const userAttributeOperations: Record<string, Operation<UserAttributeContext>> = {
  GetUser: getUser,
  UpdateUserAttributes: updateUserAttributes,
  VerifyUserAttribute: verifyUserAttribute,
};
