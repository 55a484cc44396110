/**
 * Administering users: AdminCreateUser, AdminGetUser, AdminSetUserPassword,
 * AdminUpdateUserAttributes, AdminConfirmSignUp, AdminDeleteUser, AdminDisableUser,
 * AdminEnableUser, AdminUserGlobalSignOut, AdminLinkProviderForUser, ListUsers.
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import { type CodeContext, deliver } from "../codes";
import { passwordSecrets } from "../credentials";
import { userAttributes, validateAttributes } from "../definitions";
import { invalidParameter, notAuthorized } from "../errors";
import { mfaSettings } from "../mfa";
import type { LinkedIdentity, UserRecord } from "../model";
import { enforcePasswordPolicy, generateTemporaryPassword } from "../passwords";
import {
  draft,
  findUser,
  putUser,
  redraft,
  requirePool,
  requireUser,
  type StoreContext,
} from "../state";
import type { TokenContext } from "../token-issuer";
import { runPostConfirmation, runPreSignUp, triggerContext } from "../triggers/pool-triggers";
import {
  attributeList,
  epochSeconds,
  type Input,
  type Operation,
  optionalString,
  requireString,
  stringMap,
  toAttributeList,
} from "../wire";
import { assertNewUserIsFree, isUuid, resolveNewUsername } from "./sign-up";
import { changeAttributes } from "./user-attributes";

type AdminUserContext = StoreContext & CodeContext & TokenContext;

const ADMIN_CLIENT = "CLIENT_ID_NOT_APPLICABLE";
const MAX_LINKED_IDENTITIES = 5;

function userShape(user: UserRecord, attributesKey: "Attributes" | "UserAttributes") {
  return {
    Username: user.username,
    [attributesKey]: toAttributeList(userAttributes(user)),
    UserCreateDate: epochSeconds(user.created),
    UserLastModifiedDate: epochSeconds(user.modified),
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

async function adminCreateUser(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const name = requireString(input, "Username");
  const attributes = attributeList(input.UserAttributes);
  validateAttributes(pool, attributes);
  const { username, attributes: withLogin } = resolveNewUsername(pool, name, attributes);
  const messageAction = optionalString(input, "MessageAction");
  if (messageAction === "RESEND") {
    const found = requireUser(pool, name);
    const temporary = generateTemporaryPassword(pool.policy);
    const secrets = await passwordSecrets(pool, found.username, temporary);
    const user = redraft(pool, found.username);
    if (user.status !== "FORCE_CHANGE_PASSWORD") {
      throw new AwsServiceError(
        "UnsupportedUserStateException",
        "User is not in FORCE_CHANGE_PASSWORD state.",
      );
    }
    Object.assign(user, secrets);
    user.temporaryPasswordExpires =
      ctx.now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000;
    putUser(ctx, pool, user);
    deliver(ctx, pool, user, "invitation", temporary);
    return { User: userShape(user, "Attributes") };
  }
  assertNewUserIsFree(pool, username, withLogin, "admin");
  const given = optionalString(input, "TemporaryPassword");
  if (given) enforcePasswordPolicy(given, pool.policy);
  // Flags in the response are ignored for AdminCreateUser, as in Cognito.
  await runPreSignUp(
    ctx,
    pool,
    "PreSignUp_AdminCreateUser",
    triggerContext(ctx, pool, username, ADMIN_CLIENT),
    {
      userAttributes: withLogin,
      validationData: input.ValidationData ? attributeList(input.ValidationData) : undefined,
      clientMetadata: stringMap(input.ClientMetadata),
    },
  );
  const temporary = given ?? generateTemporaryPassword(pool.policy);
  const user: UserRecord = {
    username,
    attributes: { sub: isUuid(username) ? username : randomUUID(), ...withLogin },
    status: "FORCE_CHANGE_PASSWORD",
    enabled: true,
    created: ctx.now(),
    modified: ctx.now(),
    temporaryPasswordExpires: ctx.now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000,
    groups: [],
    codes: [],
    identities: [],
  };
  Object.assign(user, await passwordSecrets(pool, username, temporary));
  // The trigger and the hash ran asynchronously: someone may have taken the name meanwhile.
  assertNewUserIsFree(pool, username, withLogin, "admin");
  putUser(ctx, pool, user);
  if (messageAction !== "SUPPRESS") deliver(ctx, pool, user, "invitation", temporary);
  return { User: userShape(user, "Attributes") };
}

async function adminSetUserPassword(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const found = requireUser(pool, requireString(input, "Username"));
  const password = requireString(input, "Password");
  enforcePasswordPolicy(password, pool.policy);
  const secrets = await passwordSecrets(pool, found.username, password);
  const user = redraft(pool, found.username);
  Object.assign(user, secrets);
  if (input.Permanent === true) {
    user.status = "CONFIRMED";
    delete user.temporaryPasswordExpires;
  } else {
    user.status = "FORCE_CHANGE_PASSWORD";
    user.temporaryPasswordExpires =
      ctx.now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000;
  }
  putUser(ctx, pool, user);
  return {};
}

function adminUpdateUserAttributes(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  return changeAttributes(ctx, pool, user, attributeList(input.UserAttributes));
}

function adminGetUser(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  return { ...userShape(user, "UserAttributes"), MFAOptions: [], ...mfaSettings(user) };
}

async function adminConfirmSignUp(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  if (user.status !== "UNCONFIRMED") {
    throw notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
  }
  user.status = "CONFIRMED";
  user.codes = user.codes.filter((code) => code.kind !== "signup");
  putUser(ctx, pool, user);
  await runPostConfirmation(
    ctx,
    pool,
    "PostConfirmation_ConfirmSignUp",
    user,
    ADMIN_CLIENT,
    stringMap(input.ClientMetadata),
  );
  return {};
}

function adminDeleteUser(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  ctx.journal.commit({ op: "deleteUser", poolId: pool.record.id, username: user.username });
  return {};
}

function adminSetEnabled(ctx: AdminUserContext, input: Input, enabled: boolean) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  user.enabled = enabled;
  putUser(ctx, pool, user);
  return {};
}

function adminUserGlobalSignOut(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  user.signedOutAt = ctx.now();
  putUser(ctx, pool, user);
  return {};
}

function adminLinkProviderForUser(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const destination = (input.DestinationUser ?? {}) as Record<string, unknown>;
  const source = (input.SourceUser ?? {}) as Record<string, unknown>;
  if (
    destination.ProviderName !== "Cognito" ||
    typeof destination.ProviderAttributeValue !== "string"
  ) {
    throw invalidParameter("DestinationUser must be a native (Cognito) user.");
  }
  const providerName = typeof source.ProviderName === "string" ? source.ProviderName : "";
  const providerUserId =
    typeof source.ProviderAttributeValue === "string" ? source.ProviderAttributeValue : "";
  if (!providerName || providerName === "Cognito" || !providerUserId) {
    throw invalidParameter("SourceUser must name an external provider and its subject.");
  }
  const user = draft(requireUser(pool, destination.ProviderAttributeValue));
  for (const other of pool.users.values()) {
    if (
      other.identities.some(
        (identity) => identity.providerName === providerName && identity.userId === providerUserId,
      )
    ) {
      throw new AwsServiceError("AliasExistsException", "SourceUser is already linked to a user.");
    }
  }
  if (findUser(pool, `${providerName}_${providerUserId}`)) {
    throw invalidParameter(
      "Merging is not currently supported, provide a SourceUser that does not exist in the system or use deleteUser to remove the SourceUser",
    );
  }
  if (user.identities.length >= MAX_LINKED_IDENTITIES) {
    throw new AwsServiceError(
      "LimitExceededException",
      `A user can be linked to at most ${MAX_LINKED_IDENTITIES} external identities.`,
    );
  }
  const identity: LinkedIdentity = {
    providerName,
    providerType: providerType(providerName),
    userId: providerUserId,
    dateCreated: ctx.now(),
  };
  user.identities.push(identity);
  putUser(ctx, pool, user);
  return {};
}

export function providerType(providerName: string): string {
  if (["Google", "Facebook", "SignInWithApple"].includes(providerName)) return providerName;
  if (providerName === "LoginWithAmazon") return "LoginWithAmazon";
  return "OIDC";
}

const FILTERABLE: Record<string, (user: UserRecord) => string | undefined> = {
  username: (user) => user.username,
  "cognito:user_status": (user) => user.status,
  status: (user) => (user.enabled ? "Enabled" : "Disabled"),
};
for (const name of [
  "email",
  "phone_number",
  "name",
  "given_name",
  "family_name",
  "preferred_username",
  "sub",
]) {
  FILTERABLE[name] = (user) => user.attributes[name];
}

function listUsers(ctx: AdminUserContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const filter = optionalString(input, "Filter");
  let matches = (_user: UserRecord) => true;
  if (filter) {
    const parsed = /^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(filter);
    const read = parsed ? FILTERABLE[parsed[1] ?? ""] : undefined;
    if (!parsed || !read) throw invalidParameter("Error while parsing filter.");
    const [, , operator, raw] = parsed;
    const value = (raw ?? "").replace(/\\(.)/g, "$1");
    matches = (user) => {
      const actual = read(user);
      if (actual === undefined) return false;
      return operator === "=" ? actual === value : actual.startsWith(value);
    };
  }
  const limit = typeof input.Limit === "number" ? Math.min(Math.max(input.Limit, 1), 60) : 60;
  const start = Number(optionalString(input, "PaginationToken") ?? "0") || 0;
  const all = [...pool.users.values()].filter(matches).sort((a, b) => a.created - b.created);
  const page = all.slice(start, start + limit);
  const attributesToGet = Array.isArray(input.AttributesToGet)
    ? (input.AttributesToGet as string[])
    : undefined;
  return {
    Users: page.map((user) => {
      const shape = userShape(user, "Attributes");
      if (attributesToGet) {
        shape.Attributes = (shape.Attributes as Array<{ Name: string; Value: string }>).filter(
          (attribute) => attributesToGet.includes(attribute.Name),
        );
      }
      return shape;
    }),
    ...(start + limit < all.length ? { PaginationToken: String(start + limit) } : {}),
  };
}

export const adminUserOperations: Record<string, Operation<AdminUserContext>> = {
  AdminCreateUser: adminCreateUser,
  AdminGetUser: adminGetUser,
  AdminSetUserPassword: adminSetUserPassword,
  AdminUpdateUserAttributes: adminUpdateUserAttributes,
  AdminConfirmSignUp: adminConfirmSignUp,
  AdminDeleteUser: adminDeleteUser,
  AdminDisableUser: (ctx, input) => adminSetEnabled(ctx, input, false),
  AdminEnableUser: (ctx, input) => adminSetEnabled(ctx, input, true),
  AdminUserGlobalSignOut: adminUserGlobalSignOut,
  AdminLinkProviderForUser: adminLinkProviderForUser,
  ListUsers: listUsers,
};
