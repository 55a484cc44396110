/**
 * MFA operations: AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference,
 * AdminSetUserMFAPreference, GetUserPoolMfaConfig, SetUserPoolMfaConfig, and the
 * SOFTWARE_TOKEN_MFA and MFA_SETUP answers of RespondToAuthChallenge.
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import { requireSignInAllowed } from "../credentials";
import { validatePoolDefinition } from "../definitions";
import { invalidParameter, notAuthorized } from "../errors";
import {
  checkTotp,
  EMAIL_NOT_EMULATED,
  findMfaSession,
  MFA_CODE_MISMATCH,
  type MfaContext,
  type MfaSession,
  openMfaSession,
  requireTotpPool,
  SMS_NOT_EMULATED,
  sessionFailure,
  spendSession,
} from "../mfa";
import {
  type ClientRecord,
  SESSION_INVALID,
  type UserPoolDefinition,
  type UserRecord,
} from "../model";
import {
  draft,
  findUser,
  missingUser,
  type PoolState,
  putUser,
  redraft,
  requirePool,
  requireUser,
  type StoreContext,
} from "../state";
import { authenticateAccessToken, issueTokens, type TokenContext } from "../token-issuer";
import { seal } from "../tokens";
import { generateTotpSecret } from "../totp";
import { type Input, type Operation, optionalString, requireString, stringMap } from "../wire";

type MfaOperationContext = StoreContext & MfaContext & TokenContext;

/** AssociateSoftwareToken / VerifySoftwareToken: the caller names itself by exactly one. */
function accessTokenOrSession(input: Input): {
  accessToken?: string;
  sessionToken?: string;
} {
  const accessToken = optionalString(input, "AccessToken");
  const sessionToken = optionalString(input, "Session");
  if ((accessToken === undefined) === (sessionToken === undefined)) {
    throw invalidParameter("Exactly one of AccessToken and Session must be given.");
  }
  return { accessToken, sessionToken };
}

function associateSoftwareToken(ctx: MfaOperationContext, input: Input) {
  const { accessToken, sessionToken } = accessTokenOrSession(input);
  const secret = generateTotpSecret();
  if (accessToken !== undefined) {
    const { pool, user } = authenticateAccessToken(ctx, accessToken);
    requireTotpPool(pool);
    user.totp = { ...user.totp, pendingSecret: secret };
    putUser(ctx, pool, user);
    return { SecretCode: secret };
  }
  const { pool, session } = findMfaSession(ctx, sessionToken ?? "");
  if (session.k !== "MFA_SETUP" || session.g === "verified") {
    throw notAuthorized(SESSION_INVALID);
  }
  requireTotpPool(pool);
  const user = redraft(pool, session.u);
  user.totp = { ...user.totp, pendingSecret: secret };
  putUser(ctx, pool, user);
  spendSession(ctx, session);
  const next: MfaSession = { ...session, j: randomUUID(), g: "associated" };
  return { SecretCode: secret, Session: seal(pool.keys.sealKey, next) };
}

function verifySoftwareToken(ctx: MfaOperationContext, input: Input) {
  const { accessToken, sessionToken } = accessTokenOrSession(input);
  const code = requireString(input, "UserCode");
  const deviceName = optionalString(input, "FriendlyDeviceName");
  let pool: PoolState;
  let user: UserRecord;
  let session: MfaSession | undefined;
  if (accessToken !== undefined) {
    ({ pool, user } = authenticateAccessToken(ctx, accessToken));
  } else {
    ({ pool, session } = findMfaSession(ctx, sessionToken ?? ""));
    if (session.k !== "MFA_SETUP" || session.g !== "associated") {
      throw notAuthorized(SESSION_INVALID);
    }
    user = redraft(pool, session.u);
  }
  requireTotpPool(pool);
  const pending = user.totp?.pendingSecret;
  if (!pending) {
    throw new AwsServiceError(
      "SoftwareTokenMFANotFoundException",
      "Software token MFA has not been associated with the user: call AssociateSoftwareToken first.",
    );
  }
  try {
    checkTotp(
      ctx,
      pool,
      user,
      pending,
      code,
      () =>
        new AwsServiceError(
          "EnableSoftwareTokenMFAException",
          "Code mismatch and fail enable Software Token MFA",
        ),
    );
  } catch (error) {
    if (session) sessionFailure(ctx, session);
    throw error;
  }
  const totp = { ...user.totp, secret: pending };
  delete totp.pendingSecret;
  if (deviceName !== undefined) totp.deviceName = deviceName;
  else delete totp.deviceName;
  // MFA_SETUP turns TOTP on for the user, as Cognito does once the setup completes.
  if (session) Object.assign(totp, { enabled: true, preferred: true });
  user.totp = totp;
  putUser(ctx, pool, user);
  if (!session) return { Status: "SUCCESS" };
  spendSession(ctx, session);
  const next: MfaSession = { ...session, j: randomUUID(), g: "verified" };
  return { Status: "SUCCESS", Session: seal(pool.keys.sealKey, next) };
}

/** SetUserMFAPreference / AdminSetUserMFAPreference: only the software token settings work. */
function setMfaPreference(
  ctx: MfaOperationContext,
  pool: PoolState,
  user: UserRecord,
  input: Input,
): object {
  for (const other of ["SMSMfaSettings", "EmailMfaSettings"] as const) {
    const settings = input[other] as { Enabled?: unknown; PreferredMfa?: unknown } | undefined;
    if (settings && (settings.Enabled === true || settings.PreferredMfa === true)) {
      throw invalidParameter(other === "SMSMfaSettings" ? SMS_NOT_EMULATED : EMAIL_NOT_EMULATED);
    }
  }
  const settings = input.SoftwareTokenMfaSettings as
    | { Enabled?: unknown; PreferredMfa?: unknown }
    | undefined;
  if (!settings) return {};
  const enabled = settings.Enabled === true;
  const preferred = settings.PreferredMfa === true;
  if ((enabled || preferred) && !user.totp?.secret) {
    throw invalidParameter("User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA");
  }
  if (preferred && !enabled) {
    throw invalidParameter("Preferred MFA must be enabled.");
  }
  user.totp = { ...user.totp, enabled, preferred };
  putUser(ctx, pool, user);
  return {};
}

function getUserPoolMfaConfig(ctx: MfaOperationContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const def = pool.record.definition;
  return {
    MfaConfiguration: def.MfaConfiguration ?? "OFF",
    SoftwareTokenMfaConfiguration: {
      Enabled: def.EnabledMfas?.includes("SOFTWARE_TOKEN_MFA") === true,
    },
  };
}

function setUserPoolMfaConfig(ctx: MfaOperationContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  for (const other of ["SmsMfaConfiguration", "EmailMfaConfiguration"] as const) {
    const config = input[other];
    if (config && typeof config === "object" && Object.keys(config).length > 0) {
      throw invalidParameter(
        other === "SmsMfaConfiguration" ? SMS_NOT_EMULATED : EMAIL_NOT_EMULATED,
      );
    }
  }
  const def = structuredClone(pool.record.definition);
  const mode = optionalString(input, "MfaConfiguration");
  if (mode !== undefined) def.MfaConfiguration = mode as UserPoolDefinition["MfaConfiguration"];
  const software = input.SoftwareTokenMfaConfiguration as { Enabled?: unknown } | undefined;
  if (software && typeof software.Enabled === "boolean") {
    const others = (def.EnabledMfas ?? []).filter((kind) => kind !== "SOFTWARE_TOKEN_MFA");
    def.EnabledMfas = software.Enabled ? [...others, "SOFTWARE_TOKEN_MFA"] : others;
  }
  validatePoolDefinition(def);
  ctx.journal.commit({ op: "putPool", pool: { ...pool.record, definition: def } });
  return getUserPoolMfaConfig(ctx, input);
}

/** RespondToAuthChallenge for SOFTWARE_TOKEN_MFA and MFA_SETUP. */
export async function respondToMfaChallenge(
  ctx: MfaOperationContext,
  pool: PoolState,
  client: ClientRecord,
  challengeName: "SOFTWARE_TOKEN_MFA" | "MFA_SETUP",
  input: Input,
  responses: Record<string, string>,
): Promise<object> {
  const session = openMfaSession(ctx, pool, requireString(input, "Session"));
  if (session.c !== client.clientId || session.k !== challengeName) {
    throw notAuthorized(SESSION_INVALID);
  }
  const name = responses.USERNAME;
  if (!name) throw invalidParameter("Missing required parameter USERNAME");
  const user = findUser(pool, session.u);
  if (!user) throw missingUser(client);
  if (findUser(pool, name)?.username !== user.username) {
    throw notAuthorized(SESSION_INVALID);
  }
  requireSignInAllowed(user);
  if (challengeName === "SOFTWARE_TOKEN_MFA") {
    const code = responses.SOFTWARE_TOKEN_MFA_CODE;
    if (!code) throw invalidParameter("Missing required parameter SOFTWARE_TOKEN_MFA_CODE");
    const secret = user.totp?.secret;
    if (!secret) {
      throw new AwsServiceError(
        "SoftwareTokenMFANotFoundException",
        "Software Token MFA does not exist for the user.",
      );
    }
    try {
      checkTotp(
        ctx,
        pool,
        user,
        secret,
        code,
        () => new AwsServiceError("CodeMismatchException", MFA_CODE_MISMATCH),
      );
    } catch (error) {
      sessionFailure(ctx, session);
      throw error;
    }
  } else if (session.g !== "verified" || !user.totp?.secret) {
    throw notAuthorized(SESSION_INVALID);
  }
  spendSession(ctx, session);
  return {
    ChallengeParameters: {},
    AuthenticationResult: await issueTokens(
      ctx,
      pool,
      client,
      user,
      session.s,
      undefined,
      stringMap(input.ClientMetadata),
    ),
  };
}

function setUserMfaPreferenceOperation(ctx: MfaOperationContext, input: Input) {
  const { pool, user } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  return setMfaPreference(ctx, pool, user, input);
}

function adminSetUserMfaPreference(ctx: MfaOperationContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  return setMfaPreference(ctx, pool, user, input);
}

export const mfaOperations: Record<string, Operation<MfaOperationContext>> = {
  AssociateSoftwareToken: associateSoftwareToken,
  VerifySoftwareToken: verifySoftwareToken,
  SetUserMFAPreference: setUserMfaPreferenceOperation,
  AdminSetUserMFAPreference: adminSetUserMfaPreference,
  GetUserPoolMfaConfig: getUserPoolMfaConfig,
  SetUserPoolMfaConfig: setUserPoolMfaConfig,
};
