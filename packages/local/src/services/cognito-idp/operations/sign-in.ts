/**
 * Sign-in: InitiateAuth (USER_SRP_AUTH, USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH),
 * GetTokensFromRefreshToken, RespondToAuthChallenge (PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED, and
 * the MFA challenges through operations/mfa.ts), AdminInitiateAuth and AdminRespondToAuthChallenge.
 */

import { AwsServiceError } from "../../../protocol/errors";
import {
  assertNotLockedOut,
  type CredentialContext,
  passwordSecrets,
  recordFailedSignIn,
  requireFlow,
  requireSignInAllowed,
} from "../credentials";
import { enforceWriteAttributes, validateAttributes } from "../definitions";
import { invalidParameter, notAuthorized, userNotFound } from "../errors";
import { type MfaContext, mfaChallenge, spendSession } from "../mfa";
import {
  type ClientRecord,
  type NewPasswordSession,
  type RefreshPayload,
  SESSION_EXPIRED,
  SESSION_INVALID,
  SESSION_SECONDS,
  SESSION_SPENT,
  type UserRecord,
} from "../model";
import {
  openSrpSession,
  passwordClaimMatches,
  passwordVerifierChallenge,
  readPasswordClaim,
  readSrpStart,
  requireParameter,
} from "../password-verifier";
import { enforcePasswordPolicy, verifyPassword } from "../passwords";
import {
  findUser,
  missingUser,
  type PoolState,
  putUser,
  redraft,
  requireClient,
  requirePool,
  type StoreContext,
} from "../state";
import { isRevoked, issueTokens, type TokenContext } from "../token-issuer";
import { seal, unseal } from "../tokens";
import { epochSeconds, type Input, type Operation, requireString, stringMap } from "../wire";
import { respondToMfaChallenge } from "./mfa";

type SignInContext = StoreContext & TokenContext & MfaContext & CredentialContext;

/** After a password proved right: tokens, or the NEW_PASSWORD_REQUIRED challenge. */
async function completeSignIn(
  ctx: SignInContext,
  pool: PoolState,
  client: ClientRecord,
  user: UserRecord,
  clientMetadata?: Record<string, string>,
): Promise<object> {
  requireSignInAllowed(user);
  if (user.status === "FORCE_CHANGE_PASSWORD") {
    if (user.temporaryPasswordExpires !== undefined && user.temporaryPasswordExpires < ctx.now()) {
      throw notAuthorized("Temporary password has expired and must be reset by an administrator.");
    }
    const session: NewPasswordSession = {
      t: "new-password",
      p: pool.record.id,
      c: client.clientId,
      u: user.username,
      exp: epochSeconds(ctx.now()) + SESSION_SECONDS,
    };
    const shown = { ...user.attributes };
    delete shown.sub;
    const required = (pool.record.definition.Schema ?? [])
      .filter((attribute) => attribute.Required && !user.attributes[attribute.Name])
      .map((attribute) => `userAttributes.${attribute.Name}`);
    return {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      Session: seal(pool.keys.sealKey, session),
      ChallengeParameters: {
        USER_ID_FOR_SRP: user.username,
        requiredAttributes: JSON.stringify(required),
        userAttributes: JSON.stringify(shown),
      },
    };
  }
  return (
    mfaChallenge(ctx, pool, client, user, "TokenGeneration_Authentication") ?? {
      ChallengeParameters: {},
      AuthenticationResult: await issueTokens(
        ctx,
        pool,
        client,
        user,
        "TokenGeneration_Authentication",
        undefined,
        clientMetadata,
      ),
    }
  );
}

async function initiateAuth(ctx: SignInContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const flow = requireString(input, "AuthFlow");
  const parameters = stringMap(input.AuthParameters) ?? {};
  switch (flow) {
    case "USER_PASSWORD_AUTH":
      requireFlow(client, "USER_PASSWORD_AUTH");
      return passwordSignIn(ctx, pool, client, parameters);
    case "USER_SRP_AUTH":
      return srpSignIn(ctx, pool, client, parameters);
    case "REFRESH_TOKEN_AUTH":
    case "REFRESH_TOKEN": {
      requireFlow(client, "REFRESH_TOKEN_AUTH");
      const token = parameters.REFRESH_TOKEN;
      if (!token) throw invalidParameter("Missing required parameter REFRESH_TOKEN");
      const payload = unseal<RefreshPayload>(pool.keys.sealKey, token);
      if (payload?.t !== "refresh" || payload.c !== client.clientId) {
        throw notAuthorized("Invalid Refresh Token");
      }
      if (payload.exp <= epochSeconds(ctx.now())) throw notAuthorized("Refresh Token has expired");
      const user = findUser(pool, payload.u);
      if (!user) throw notAuthorized("User does not exist.");
      if (isRevoked(pool, user, payload.o, payload.iat)) {
        throw notAuthorized("Refresh Token has been revoked");
      }
      if (!user.enabled) throw notAuthorized("User is disabled.");
      return {
        ChallengeParameters: {},
        AuthenticationResult: await issueTokens(
          ctx,
          pool,
          client,
          user,
          "TokenGeneration_RefreshTokens",
          { originJti: payload.o, authTime: payload.a },
        ),
      };
    }
    default:
      throw invalidParameter(`AuthFlow ${flow} is not supported by the local user pool.`);
  }
}

/**
 * GetTokensFromRefreshToken (the refresh Amplify v6 uses): REFRESH_TOKEN_AUTH under its own
 * name, answering only the tokens. Refresh token rotation is not emulated: no new refresh token.
 */
async function getTokensFromRefreshToken(ctx: SignInContext, input: Input) {
  const refreshed = (await initiateAuth(ctx, {
    ClientId: requireString(input, "ClientId"),
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: requireString(input, "RefreshToken") },
  })) as { AuthenticationResult: object };
  return { AuthenticationResult: refreshed.AuthenticationResult };
}

async function passwordSignIn(
  ctx: SignInContext,
  pool: PoolState,
  client: ClientRecord,
  parameters: Record<string, string>,
): Promise<object> {
  const name = parameters.USERNAME;
  const password = parameters.PASSWORD;
  if (!name) throw invalidParameter("Missing required parameter USERNAME");
  if (!password) throw invalidParameter("Missing required parameter PASSWORD");
  const user = findUser(pool, name);
  if (!user) throw missingUser(client);
  assertNotLockedOut(ctx, pool, user);
  if (!user.passwordHash || !(await verifyPassword(password, user.passwordHash))) {
    recordFailedSignIn(ctx, pool, user);
    throw notAuthorized();
  }
  ctx.failedSignIns.delete(`${pool.record.id}/${user.username}`);
  return completeSignIn(ctx, pool, client, user);
}

/** AdminInitiateAuth: the server-side flows, for a client of the named pool. */
async function adminInitiateAuth(ctx: SignInContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const { client } = requireClient(ctx, requireString(input, "ClientId"));
  if (client.poolId !== pool.record.id) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `User pool client ${client.clientId} does not exist.`,
    );
  }
  const flow = requireString(input, "AuthFlow");
  if (flow === "ADMIN_USER_PASSWORD_AUTH" || flow === "ADMIN_NO_SRP_AUTH") {
    requireFlow(client, "ADMIN_USER_PASSWORD_AUTH");
    return passwordSignIn(ctx, pool, client, stringMap(input.AuthParameters) ?? {});
  }
  // AdminInitiateAuth documents USER_SRP_AUTH too (API reference, AuthFlow), answered with
  // PASSWORD_VERIFIER through AdminRespondToAuthChallenge.
  if (flow === "USER_SRP_AUTH") {
    return srpSignIn(ctx, pool, client, stringMap(input.AuthParameters) ?? {});
  }
  if (flow === "REFRESH_TOKEN_AUTH" || flow === "REFRESH_TOKEN") return initiateAuth(ctx, input);
  throw invalidParameter(`AuthFlow ${flow} is not supported by the local user pool.`);
}

/** USER_SRP_AUTH: the PASSWORD_VERIFIER challenge (password-verifier.ts). */
function srpSignIn(
  ctx: SignInContext,
  pool: PoolState,
  client: ClientRecord,
  parameters: Record<string, string>,
) {
  requireFlow(client, "USER_SRP_AUTH");
  const start = readSrpStart(parameters);
  const user = findUser(pool, start.name);
  const hidden = client.definition.PreventUserExistenceErrors === "ENABLED";
  if (!user && !hidden) throw userNotFound();
  if (user && !user.srp) throw notAuthorized();
  return passwordVerifierChallenge({
    poolId: pool.record.id,
    clientId: client.clientId,
    sealKey: pool.keys.sealKey,
    start,
    user: user?.srp ? { username: user.username, srp: user.srp } : undefined,
    lifetimeSeconds: SESSION_SECONDS,
    nowSeconds: epochSeconds(ctx.now()),
  });
}

/**
 * AdminRespondToAuthChallenge: RespondToAuthChallenge for a client of the named pool.
 * `UserPoolId` is required (API reference) and must be the client's pool, as AdminInitiateAuth
 * checks it; a session sealed by another pool does not open here.
 */
async function adminRespondToAuthChallenge(ctx: SignInContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const { client } = requireClient(ctx, requireString(input, "ClientId"));
  if (client.poolId !== pool.record.id) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `User pool client ${client.clientId} does not exist.`,
    );
  }
  return respondToAuthChallenge(ctx, input);
}

async function respondToAuthChallenge(ctx: SignInContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const challengeName = requireString(input, "ChallengeName");
  const responses = stringMap(input.ChallengeResponses) ?? {};
  // Passed to pre token generation from (Admin)RespondToAuthChallenge only: InitiateAuth and
  // AdminInitiateAuth invoke it "but don't pass ClientMetadata" (API reference, ClientMetadata).
  const clientMetadata = stringMap(input.ClientMetadata);
  if (challengeName === "PASSWORD_VERIFIER") {
    const claim = readPasswordClaim(responses);
    const session = openSrpSession(pool.keys.sealKey, claim);
    if (!session || session.p !== pool.record.id || session.c !== client.clientId) {
      throw notAuthorized();
    }
    if (session.exp <= epochSeconds(ctx.now())) throw notAuthorized(SESSION_EXPIRED);
    // The same secret block and signature answered twice: refused, as Cognito's sessions are
    // single-use. Spent on the first answer, right or wrong.
    if (ctx.spentSessions.has(session.j)) throw notAuthorized(SESSION_SPENT);
    spendSession(ctx, session);
    const user = session.fake ? undefined : findUser(pool, session.u);
    if (!user?.srp) throw notAuthorized();
    if (findUser(pool, claim.username)?.username !== user.username) throw notAuthorized();
    assertNotLockedOut(ctx, pool, user);
    if (!passwordClaimMatches(session, user.srp.verifier, claim)) {
      recordFailedSignIn(ctx, pool, user);
      throw notAuthorized();
    }
    ctx.failedSignIns.delete(`${pool.record.id}/${user.username}`);
    return completeSignIn(ctx, pool, client, user, clientMetadata);
  }
  if (challengeName === "NEW_PASSWORD_REQUIRED") {
    const session = unseal<NewPasswordSession>(pool.keys.sealKey, requireString(input, "Session"));
    if (session?.t !== "new-password" || session.c !== client.clientId) {
      throw notAuthorized(SESSION_INVALID);
    }
    if (session.exp <= epochSeconds(ctx.now())) {
      throw notAuthorized("Invalid session for the user, session is expired.");
    }
    const found = findUser(pool, session.u);
    if (!found) throw missingUser(client);
    if (found.status !== "FORCE_CHANGE_PASSWORD") {
      throw notAuthorized(SESSION_INVALID);
    }
    const password = requireParameter(responses, "NEW_PASSWORD");
    // "NEW_PASSWORD_REQUIRED: NEW_PASSWORD, USERNAME" (API reference, ChallengeResponses).
    const claimed = requireParameter(responses, "USERNAME");
    if (findUser(pool, claimed)?.username !== found.username) {
      throw notAuthorized(SESSION_INVALID);
    }
    enforcePasswordPolicy(password, pool.policy);
    const updates: Record<string, string> = {};
    for (const [name, value] of Object.entries(responses)) {
      if (name.startsWith("userAttributes.")) updates[name.slice("userAttributes.".length)] = value;
    }
    enforceWriteAttributes(client, updates);
    validateAttributes(pool, updates);
    const secrets = await passwordSecrets(pool, found.username, password);
    const user = redraft(pool, found.username);
    if (user.status !== "FORCE_CHANGE_PASSWORD") {
      throw notAuthorized(SESSION_INVALID);
    }
    Object.assign(user.attributes, updates);
    for (const attribute of pool.record.definition.Schema ?? []) {
      if (attribute.Required && !user.attributes[attribute.Name]) {
        throw invalidParameter(
          `Attributes did not conform to the schema: ${attribute.Name}: The attribute ${attribute.Name} is required`,
        );
      }
    }
    Object.assign(user, secrets);
    user.status = "CONFIRMED";
    delete user.temporaryPasswordExpires;
    putUser(ctx, pool, user);
    return (
      mfaChallenge(ctx, pool, client, user, "TokenGeneration_NewPasswordChallenge") ?? {
        ChallengeParameters: {},
        AuthenticationResult: await issueTokens(
          ctx,
          pool,
          client,
          user,
          "TokenGeneration_NewPasswordChallenge",
          undefined,
          clientMetadata,
        ),
      }
    );
  }
  if (challengeName === "SOFTWARE_TOKEN_MFA" || challengeName === "MFA_SETUP") {
    return respondToMfaChallenge(ctx, pool, client, challengeName, input, responses);
  }
  throw invalidParameter(`ChallengeName ${challengeName} is not supported by the local user pool.`);
}

export const signInOperations: Record<string, Operation<SignInContext>> = {
  InitiateAuth: initiateAuth,
  GetTokensFromRefreshToken: getTokensFromRefreshToken,
  RespondToAuthChallenge: respondToAuthChallenge,
  AdminInitiateAuth: adminInitiateAuth,
  AdminRespondToAuthChallenge: adminRespondToAuthChallenge,
};
