/**
 * Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode, and the new-user rules
 * AdminCreateUser shares (usernames from email or phone, names already taken).
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  CODE_MISMATCH,
  type CodeContext,
  consumeCode,
  deliver,
  issueCode,
  SIGNUP_CODE_MS,
  throttleSends,
} from "../codes";
import { passwordSecrets } from "../credentials";
import { enforceWriteAttributes, isEmail, isPhone, validateAttributes } from "../definitions";
import { invalidParameter, notAuthorized, userNotFound } from "../errors";
import type { UserRecord } from "../model";
import { enforcePasswordPolicy } from "../passwords";
import {
  aliasKeys,
  draft,
  findUser,
  normalize,
  normalizeAlias,
  type PoolState,
  putUser,
  requireClient,
  type StoreContext,
} from "../state";
import {
  type PoolTriggerContext,
  runPostConfirmation,
  runPreSignUp,
  triggerContext,
} from "../triggers/pool-triggers";
import {
  attributeList,
  type Input,
  maskDestination,
  type Operation,
  requireString,
  stringMap,
} from "../wire";

type SignUpContext = StoreContext & CodeContext & PoolTriggerContext;

async function signUp(ctx: SignUpContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const name = requireString(input, "Username");
  const password = requireString(input, "Password");
  const def = pool.record.definition;
  if (def.AdminCreateUserConfig?.AllowAdminCreateUserOnly) {
    throw notAuthorized("SignUp is not permitted for this user pool");
  }
  const attributes = attributeList(input.UserAttributes);
  enforceWriteAttributes(client, attributes);
  validateAttributes(pool, attributes);
  const { username, attributes: withLogin } = resolveNewUsername(pool, name, attributes);
  enforcePasswordPolicy(password, pool.policy);
  assertNewUserIsFree(pool, username, withLogin, "signup");
  for (const attribute of def.Schema ?? []) {
    if (attribute.Required && !withLogin[attribute.Name]) {
      throw invalidParameter(
        `Attributes did not conform to the schema: ${attribute.Name}: The attribute ${attribute.Name} is required`,
      );
    }
  }
  const clientMetadata = stringMap(input.ClientMetadata);
  const flags = await runPreSignUp(
    ctx,
    pool,
    "PreSignUp_SignUp",
    triggerContext(ctx, pool, username, client.clientId),
    {
      userAttributes: withLogin,
      validationData: input.ValidationData ? attributeList(input.ValidationData) : undefined,
      clientMetadata,
    },
  );
  const sub = username === name || !isUuid(username) ? randomUUID() : username;
  const user: UserRecord = {
    username,
    attributes: { sub, ...withLogin },
    status: flags?.autoConfirmUser ? "CONFIRMED" : "UNCONFIRMED",
    enabled: true,
    created: ctx.now(),
    modified: ctx.now(),
    groups: [],
    codes: [],
    identities: [],
  };
  if (flags?.autoVerifyEmail && user.attributes.email) user.attributes.email_verified = "true";
  if (flags?.autoVerifyPhone && user.attributes.phone_number) {
    user.attributes.phone_number_verified = "true";
  }
  Object.assign(user, await passwordSecrets(pool, username, password));
  // The trigger and the hash ran asynchronously: someone may have taken the name meanwhile.
  assertNewUserIsFree(pool, username, withLogin, "signup");
  let delivery: ReturnType<typeof deliver>;
  const verifyBy = def.AutoVerifiedAttributes ?? [];
  const needsCode =
    user.status === "UNCONFIRMED" &&
    verifyBy.some((attribute) => user.attributes[attribute] !== undefined);
  const code = needsCode ? issueCode(ctx, pool, user, "signup", SIGNUP_CODE_MS) : undefined;
  putUser(ctx, pool, user);
  if (code) delivery = deliver(ctx, pool, user, "signup", code);
  if (user.status === "CONFIRMED") {
    await runPostConfirmation(
      ctx,
      pool,
      "PostConfirmation_ConfirmSignUp",
      user,
      client.clientId,
      clientMetadata,
    );
  }
  return {
    UserConfirmed: user.status === "CONFIRMED",
    ...(delivery ? { CodeDeliveryDetails: delivery } : {}),
    UserSub: sub,
  };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

/** Email/phone-as-username pools get a UUID username (also the `sub`); others keep the name. */
export function resolveNewUsername(
  pool: PoolState,
  name: string,
  attributes: Record<string, string>,
): { username: string; attributes: Record<string, string> } {
  const def = pool.record.definition;
  const usernameAttributes = def.UsernameAttributes ?? [];
  if (usernameAttributes.length > 0) {
    const asEmail = usernameAttributes.includes("email") && isEmail(name);
    const asPhone = usernameAttributes.includes("phone_number") && isPhone(name);
    if (!asEmail && !asPhone) {
      throw invalidParameter(
        usernameAttributes.includes("email")
          ? "Username should be an email."
          : "Username should be a phone number.",
      );
    }
    return {
      username: randomUUID(),
      attributes: { ...attributes, [asEmail ? "email" : "phone_number"]: name },
    };
  }
  if (def.AliasAttributes?.includes("email") && isEmail(name)) {
    throw invalidParameter(
      "Username cannot be of email format, since user pool is configured for email alias.",
    );
  }
  if (def.AliasAttributes?.includes("phone_number") && isPhone(name)) {
    throw invalidParameter(
      "Username cannot be of phone number format, since user pool is configured for phone_number alias.",
    );
  }
  return { username: name, attributes };
}

export function assertNewUserIsFree(
  pool: PoolState,
  username: string,
  attributes: Record<string, string>,
  via: "signup" | "admin",
): void {
  const usernameAttributes = pool.record.definition.UsernameAttributes ?? [];
  for (const attribute of ["email", "phone_number"] as const) {
    const value = attributes[attribute];
    if (value && usernameAttributes.includes(attribute)) {
      const owner = pool.aliases.get(`${attribute}:${normalizeAlias(pool, value)}`);
      if (owner) {
        throw new AwsServiceError(
          "UsernameExistsException",
          via === "admin"
            ? "An account with the given email already exists."
            : `An account with the given ${attribute === "email" ? "email" : "phone_number"} already exists.`,
        );
      }
    }
  }
  if (pool.users.has(normalize(pool, username))) {
    throw new AwsServiceError(
      "UsernameExistsException",
      via === "admin" ? "User account already exists" : "User already exists",
    );
  }
}

async function confirmSignUp(ctx: SignUpContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const user = draft(findUser(pool, requireString(input, "Username")));
  const code = requireString(input, "ConfirmationCode");
  if (!user) {
    if (client.definition.PreventUserExistenceErrors === "ENABLED") {
      throw new AwsServiceError("CodeMismatchException", CODE_MISMATCH);
    }
    throw userNotFound();
  }
  if (user.status !== "UNCONFIRMED") {
    throw notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
  }
  consumeCode(ctx, pool, user, "signup", code);
  user.status = "CONFIRMED";
  const verifiedBy = pool.record.definition.AutoVerifiedAttributes ?? [];
  if (verifiedBy.includes("email") && user.attributes.email)
    user.attributes.email_verified = "true";
  else if (verifiedBy.includes("phone_number") && user.attributes.phone_number) {
    user.attributes.phone_number_verified = "true";
  }
  const displaced = claimAliases(pool, user, input.ForceAliasCreation === true);
  for (const other of displaced) putUser(ctx, pool, other);
  putUser(ctx, pool, user);
  // Cognito confirms first: a failing trigger fails the call but the user stays confirmed.
  await runPostConfirmation(
    ctx,
    pool,
    "PostConfirmation_ConfirmSignUp",
    user,
    client.clientId,
    stringMap(input.ClientMetadata),
  );
  return {};
}

/**
 * A newly verified email or phone that another user holds as a sign-in alias: refused with
 * AliasExistsException, or with ForceAliasCreation taken over (the other user's attribute
 * becomes unverified). Returns the displaced users, drafted, to commit first.
 */
function claimAliases(pool: PoolState, user: UserRecord, force: boolean): UserRecord[] {
  const self = normalize(pool, user.username);
  const displaced: UserRecord[] = [];
  for (const alias of aliasKeys(pool, user)) {
    const owner = pool.aliases.get(alias);
    if (owner === undefined || owner === self) continue;
    const kind = alias.startsWith("email:") ? "email" : "phone_number";
    if (!force) {
      throw new AwsServiceError(
        "AliasExistsException",
        `An account with the given ${kind} already exists.`,
      );
    }
    const other = draft(pool.users.get(owner));
    if (other) {
      other.attributes[`${kind}_verified`] = "false";
      displaced.push(other);
    }
  }
  return displaced;
}

function resendConfirmationCode(ctx: SignUpContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const user = draft(findUser(pool, requireString(input, "Username")));
  if (!user) {
    if (client.definition.PreventUserExistenceErrors !== "ENABLED") throw userNotFound();
    // Hidden existence: answer as if a code went out.
    return {
      CodeDeliveryDetails: {
        Destination: maskDestination("x@x"),
        DeliveryMedium: "EMAIL",
        AttributeName: "email",
      },
    };
  }
  if (user.status !== "UNCONFIRMED") throw invalidParameter("User is already confirmed.");
  throttleSends(ctx, pool, user);
  const code = issueCode(ctx, pool, user, "signup", SIGNUP_CODE_MS);
  putUser(ctx, pool, user);
  const delivery = deliver(ctx, pool, user, "signup", code);
  return delivery ? { CodeDeliveryDetails: delivery } : {};
}

export const signUpOperations: Record<string, Operation<SignUpContext>> = {
  SignUp: signUp,
  ConfirmSignUp: confirmSignUp,
  ResendConfirmationCode: resendConfirmationCode,
};
