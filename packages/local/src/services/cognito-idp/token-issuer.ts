/**
 * Issuing and checking the pool's tokens: Cognito's claims, pre token generation, refresh tokens
 * (sealed, never stored), revocation and global sign-out, and access-token authentication.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { peekClaims } from "../../protocol/jwt";
import { readableAttributes, tokenValidity, userAttributes } from "./definitions";
import { notAuthorized, userNotFound } from "./errors";
import type {
  AuthenticationResult,
  ClientRecord,
  GroupRecord,
  RefreshPayload,
  UserRecord,
} from "./model";
import { draft, findUser, type PoolState, type UserPoolContext } from "./state";
import { readJwt, seal, signJwt } from "./tokens";
import type { GroupConfiguration, TokenClaims, TokenGenerationSource } from "./triggers";
import { type PoolTriggerContext, runPreTokenGeneration } from "./triggers/pool-triggers";
import { epochSeconds } from "./wire";

export type TokenContext = Pick<UserPoolContext, "endpoint" | "now" | "pools" | "clients"> &
  PoolTriggerContext;

const SIGNIN_SCOPE = "aws.cognito.signin.user.admin";

/** UUID v7: a UUID whose first 48 bits are the issue time (ms), so revocation can compare times. */
function uuidV7(nowMs: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidTime(uuid: string): number | undefined {
  const hex = uuid.replace(/-/g, "");
  if (hex.length !== 32 || hex[12] !== "7") return undefined;
  return Number.parseInt(hex.slice(0, 12), 16);
}

export function issuer(ctx: Pick<UserPoolContext, "endpoint">, poolId: string): string {
  return `${ctx.endpoint()}/${poolId}`;
}

export function sortedGroups(pool: PoolState, user: UserRecord): GroupRecord[] {
  return user.groups
    .map((name) => pool.groups.get(name))
    .filter((group): group is GroupRecord => group !== undefined)
    .sort(
      (a, b) =>
        (a.Precedence ?? Number.MAX_SAFE_INTEGER) - (b.Precedence ?? Number.MAX_SAFE_INTEGER) ||
        a.GroupName.localeCompare(b.GroupName),
    );
}

function groupConfiguration(pool: PoolState, user: UserRecord): GroupConfiguration {
  const groups = sortedGroups(pool, user);
  const roles = [...new Set(groups.flatMap((group) => (group.RoleArn ? [group.RoleArn] : [])))];
  // The preferred role is the role of the group with the lowest precedence, when that is unique.
  const withRoles = groups.filter((group) => group.RoleArn && group.Precedence !== undefined);
  const best = withRoles[0];
  const tied = withRoles.filter(
    (group) => group.Precedence === best?.Precedence && group.RoleArn !== best?.RoleArn,
  );
  return {
    groupsToOverride: groups.map((group) => group.GroupName),
    iamRolesToOverride: roles,
    preferredRole: best && tied.length === 0 ? (best.RoleArn ?? null) : null,
  };
}

export async function issueTokens(
  ctx: TokenContext,
  pool: PoolState,
  client: ClientRecord,
  user: UserRecord,
  source: TokenGenerationSource,
  session?: { originJti: string; authTime: number },
  clientMetadata?: Record<string, string>,
): Promise<AuthenticationResult> {
  const nowMs = ctx.now();
  const iat = epochSeconds(nowMs);
  const validity = tokenValidity(client.definition);
  const originJti = session?.originJti ?? uuidV7(nowMs);
  const authTime = session?.authTime ?? iat;
  const eventId = randomUUID();
  const groups = groupConfiguration(pool, user);
  const attributes = readableAttributes(client, userAttributes(user));
  const sub = user.attributes.sub ?? user.username;

  const id: Record<string, unknown> = { sub };
  if (groups.groupsToOverride.length > 0) id["cognito:groups"] = groups.groupsToOverride;
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "sub") continue;
    if (name === "email_verified" || name === "phone_number_verified") {
      id[name] = value === "true";
    } else if (name === "identities") {
      id.identities = (JSON.parse(value) as Array<Record<string, unknown>>).map((identity) => ({
        ...identity,
        primary: String(identity.primary),
        dateCreated: String(identity.dateCreated),
      }));
    } else {
      id[name] = value;
    }
  }
  Object.assign(id, {
    iss: issuer(ctx, pool.record.id),
    "cognito:username": user.username,
    origin_jti: originJti,
    aud: client.clientId,
    event_id: eventId,
    token_use: "id",
    auth_time: authTime,
  });
  if (groups.iamRolesToOverride.length > 0) id["cognito:roles"] = groups.iamRolesToOverride;
  if (groups.preferredRole) id["cognito:preferred_role"] = groups.preferredRole;

  const access: Record<string, unknown> = { sub };
  if (groups.groupsToOverride.length > 0) access["cognito:groups"] = groups.groupsToOverride;
  Object.assign(access, {
    iss: issuer(ctx, pool.record.id),
    client_id: client.clientId,
    origin_jti: originJti,
    event_id: eventId,
    token_use: "access",
    scope: SIGNIN_SCOPE,
    auth_time: authTime,
  });

  const claims: TokenClaims = { id, access };
  await runPreTokenGeneration(ctx, pool, user, client.clientId, source, claims, {
    groupConfiguration: groups,
    scopes: [SIGNIN_SCOPE],
    ...(clientMetadata ? { clientMetadata } : {}),
  });

  // Registered time claims last, as Cognito orders them; nothing may override them.
  Object.assign(id, { exp: iat + validity.id, iat, jti: randomUUID() });
  Object.assign(access, {
    exp: iat + validity.access,
    iat,
    jti: randomUUID(),
    username: user.username,
  });
  const result: AuthenticationResult = {
    AccessToken: signJwt(pool.keys, access),
    ExpiresIn: validity.access,
    TokenType: "Bearer",
    IdToken: signJwt(pool.keys, id),
  };
  if (!session) {
    const refresh: RefreshPayload = {
      t: "refresh",
      p: pool.record.id,
      c: client.clientId,
      u: user.username,
      o: originJti,
      a: authTime,
      iat,
      exp: iat + validity.refresh,
    };
    result.RefreshToken = seal(pool.keys.sealKey, refresh);
  }
  return result;
}

export function isRevoked(
  pool: PoolState,
  user: UserRecord,
  originJti: string,
  iat: number,
): boolean {
  if (pool.revoked.has(originJti)) return true;
  if (user.signedOutAt === undefined) return false;
  const issuedMs = uuidTime(originJti) ?? iat * 1000;
  return issuedMs <= user.signedOutAt;
}

/** Resolves an access token to its pool, client and user, failing as Cognito does. */
export function authenticateAccessToken(
  ctx: Pick<UserPoolContext, "pools" | "clients" | "now">,
  token: string,
) {
  const invalid = () => notAuthorized("Invalid Access Token");
  const unverified = peekClaims(token);
  const poolId = typeof unverified?.iss === "string" ? unverified.iss.split("/").pop() : undefined;
  const pool = poolId ? ctx.pools.get(poolId) : undefined;
  if (!pool) throw invalid();
  const claims = readJwt(pool.keys, token);
  if (claims?.token_use !== "access") throw invalid();
  if (typeof claims.exp !== "number" || claims.exp <= epochSeconds(ctx.now())) {
    throw notAuthorized("Access Token has expired");
  }
  const client = ctx.clients.get(String(claims.client_id));
  const user = findUser(pool, String(claims.username));
  if (!client || !user || user.attributes.sub !== claims.sub) throw userNotFound();
  if (isRevoked(pool, user, String(claims.origin_jti), Number(claims.iat))) {
    throw notAuthorized("Access Token has been revoked");
  }
  if (!user.enabled) throw notAuthorized("User is disabled.");
  return { pool, client, user: draft(user) };
}

export async function isTokenActive(
  ctx: Pick<UserPoolContext, "pools">,

  input: {
    issuer: string;
    claims: Record<string, unknown>;
  },
): Promise<boolean> {
  const poolId = input.issuer.replace(/\/+$/, "").split("/").pop() ?? "";
  const pool = ctx.pools.get(poolId);
  const { claims } = input;
  const username = claims["cognito:username"] ?? claims.username;
  if (!pool || typeof username !== "string" || typeof claims.origin_jti !== "string") {
    return false;
  }
  const user = findUser(pool, username);
  if (!user?.enabled || user.attributes.sub !== claims.sub) return false;
  return !isRevoked(pool, user, claims.origin_jti, Number(claims.iat));
}
