/**
 * Passwords: ForgotPassword, ConfirmForgotPassword, ChangePassword.
 */

import { AwsServiceError } from "../../../protocol/errors";
import {
  CODE_MISMATCH,
  type CodeContext,
  consumeCode,
  deliver,
  issueCode,
  RESET_CODE_MS,
  throttleSends,
} from "../codes";
import { passwordSecrets } from "../credentials";
import { isEmail } from "../definitions";
import { invalidParameter, notAuthorized, userNotFound } from "../errors";
import { enforcePasswordPolicy, verifyPassword } from "../passwords";
import { draft, findUser, putUser, redraft, requireClient, type StoreContext } from "../state";
import { authenticateAccessToken, type TokenContext } from "../token-issuer";
import { runPostConfirmation } from "../triggers/pool-triggers";
import { type Input, maskDestination, type Operation, requireString, stringMap } from "../wire";

type PasswordContext = StoreContext & TokenContext & CodeContext;

function forgotPassword(ctx: PasswordContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const user = draft(findUser(pool, requireString(input, "Username")));
  const hidden = client.definition.PreventUserExistenceErrors === "ENABLED";
  if (!user) {
    if (!hidden) throw userNotFound();
    const name = String(input.Username);
    return {
      CodeDeliveryDetails: {
        Destination: maskDestination(isEmail(name) ? name : "x@x"),
        DeliveryMedium: "EMAIL",
        AttributeName: "email",
      },
    };
  }
  if (!user.enabled) throw notAuthorized("User is disabled.");
  const verified =
    (user.attributes.email && user.attributes.email_verified === "true") ||
    (user.attributes.phone_number && user.attributes.phone_number_verified === "true");
  if (!verified) {
    throw invalidParameter(
      "Cannot reset password for the user as there is no registered/verified email or phone_number",
    );
  }
  throttleSends(ctx, pool, user);
  const code = issueCode(ctx, pool, user, "reset", RESET_CODE_MS);
  putUser(ctx, pool, user);
  return { CodeDeliveryDetails: deliver(ctx, pool, user, "reset", code) };
}

async function confirmForgotPassword(ctx: PasswordContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const found = findUser(pool, requireString(input, "Username"));
  const code = requireString(input, "ConfirmationCode");
  const password = requireString(input, "Password");
  if (!found) {
    if (client.definition.PreventUserExistenceErrors === "ENABLED") {
      throw new AwsServiceError("CodeMismatchException", CODE_MISMATCH);
    }
    throw userNotFound();
  }
  enforcePasswordPolicy(password, pool.policy);
  const secrets = await passwordSecrets(pool, found.username, password);
  const user = redraft(pool, found.username);
  consumeCode(ctx, pool, user, "reset", code);
  Object.assign(user, secrets);
  if (user.status === "RESET_REQUIRED" || user.status === "FORCE_CHANGE_PASSWORD") {
    user.status = "CONFIRMED";
  }
  putUser(ctx, pool, user);
  await runPostConfirmation(
    ctx,
    pool,
    "PostConfirmation_ConfirmForgotPassword",
    user,
    client.clientId,
    stringMap(input.ClientMetadata),
  );
  return {};
}

async function changePassword(ctx: PasswordContext, input: Input) {
  const { pool, user: found } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  const previous = requireString(input, "PreviousPassword");
  const proposed = requireString(input, "ProposedPassword");
  if (!found.passwordHash || !(await verifyPassword(previous, found.passwordHash))) {
    throw notAuthorized();
  }
  enforcePasswordPolicy(proposed, pool.policy);
  const secrets = await passwordSecrets(pool, found.username, proposed);
  const user = redraft(pool, found.username);
  Object.assign(user, secrets);
  putUser(ctx, pool, user);
  return {};
}

export const passwordOperations: Record<string, Operation<PasswordContext>> = {
  ForgotPassword: forgotPassword,
  ConfirmForgotPassword: confirmForgotPassword,
  ChangePassword: changePassword,
};
