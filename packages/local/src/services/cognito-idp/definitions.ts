/**
 * Pool, client and group definitions (CloudFormation properties or the Create* operations):
 * validation, ids, ARNs, and the attribute schema the other operations check against.
 */

import { randomInt } from "node:crypto";
import { AwsServiceError } from "../../protocol/errors";
import { LOCAL_ACCOUNT_ID } from "../../types";
import { invalidParameter, notAuthorized } from "./errors";
import {
  type ClientRecord,
  type ExplicitAuthFlow,
  type GroupDefinition,
  type GroupRecord,
  type PoolRecord,
  STANDARD_ATTRIBUTES,
  type TokenUnit,
  type UserPoolClientDefinition,
  type UserPoolDefinition,
  type UserRecord,
} from "./model";
import { type PoolState, requirePool, type UserPoolContext } from "./state";
import { generatePoolKeyMaterial } from "./tokens";

export type DefinitionContext = Pick<
  UserPoolContext,
  "region" | "now" | "log" | "journal" | "pools" | "clients"
>;

export const DEFAULT_FLOWS: ExplicitAuthFlow[] = [
  "ALLOW_USER_SRP_AUTH",
  "ALLOW_CUSTOM_AUTH",
  "ALLOW_REFRESH_TOKEN_AUTH",
];
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomString(length: number, alphabet: string): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function unitSeconds(unit: TokenUnit | undefined, fallback: TokenUnit): number {
  switch (unit ?? fallback) {
    case "seconds":
      return 1;
    case "minutes":
      return 60;
    case "hours":
      return 3600;
    case "days":
      return 86_400;
  }
}

export function tokenValidity(definition: UserPoolClientDefinition) {
  const units = definition.TokenValidityUnits ?? {};
  return {
    access: (definition.AccessTokenValidity ?? 60) * unitSeconds(units.AccessToken, "minutes"),
    id: (definition.IdTokenValidity ?? 60) * unitSeconds(units.IdToken, "minutes"),
    refresh: (definition.RefreshTokenValidity ?? 30) * unitSeconds(units.RefreshToken, "days"),
  };
}

export function isEmail(value: string): boolean {
  return /^[^@\s]+@[^@\s]+$/.test(value);
}

export function isPhone(value: string): boolean {
  return /^\+\d{4,15}$/.test(value);
}

export function validatePoolDefinition(definition: UserPoolDefinition): void {
  const mfa = definition.MfaConfiguration ?? "OFF";
  if (mfa !== "OFF" && mfa !== "OPTIONAL" && mfa !== "ON") {
    throw invalidParameter(
      `1 validation error detected: Value '${String(mfa)}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]`,
    );
  }
  if (mfa === "ON" && !definition.EnabledMfas?.includes("SOFTWARE_TOKEN_MFA")) {
    throw invalidParameter(
      "MfaConfiguration ON needs SOFTWARE_TOKEN_MFA in EnabledMfas: the local user pool emulates only software token (TOTP) MFA, so no user could ever sign in.",
    );
  }
  if (definition.UsernameAttributes?.length && definition.AliasAttributes?.length) {
    throw invalidParameter(
      "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
    );
  }
  // "In user pools with the Essentials or Plus feature plan, you can generate the version two
  // or V2_0 trigger event ... and the version three or V3_0" (Pre token generation Lambda
  // trigger); CreateUserPool's UserPoolTier "Defaults to ESSENTIALS" (API reference), so only
  // an explicit LITE refuses them. The message is ours: AWS documents only the exception.
  const version = definition.LambdaConfig?.PreTokenGenerationConfig?.LambdaVersion;
  const tier = definition.UserPoolTier ?? "ESSENTIALS";
  if ((version === "V2_0" || version === "V3_0") && tier === "LITE") {
    throw new AwsServiceError(
      "FeatureUnavailableInTierException",
      `Pre token generation ${version} requires the Essentials or Plus feature plan; this user pool's UserPoolTier is LITE.`,
    );
  }
}

/** SMS and email MFA in a definition: said once per write, never pretended to work. */
function warnUnemulatedMfa(
  ctx: DefinitionContext,
  id: string,
  definition: UserPoolDefinition,
): void {
  const others = (definition.EnabledMfas ?? []).filter((kind) => kind !== "SOFTWARE_TOKEN_MFA");
  if ((definition.MfaConfiguration ?? "OFF") !== "OFF" && others.length > 0) {
    ctx.log(
      `[cognito-idp] ${id}: ${others.join(", ")} not emulated; users are only ever challenged for software token (TOTP) MFA`,
    );
  }
}

export function createUserPool(ctx: DefinitionContext, definition: UserPoolDefinition) {
  validatePoolDefinition(definition);
  let id: string;
  do {
    id = `${ctx.region}_${randomString(9, ALPHANUMERIC)}`;
  } while (ctx.pools.has(id));
  warnUnemulatedMfa(ctx, id, definition);
  return writePool(ctx, id, definition);
}

/**
 * Create-or-update under an id the caller chose (the template provisioner derives it from the
 * stack and logical id), so a restart or a changed template keeps the pool, its users and its
 * signing keys, as a CloudFormation update would.
 */
export function putUserPool(ctx: DefinitionContext, id: string, definition: UserPoolDefinition) {
  validatePoolDefinition(definition);
  if (!id.startsWith(`${ctx.region}_`) || !/^[\w-]+_[0-9A-Za-z]{1,55}$/.test(id)) {
    throw invalidParameter(`Invalid user pool id ${id}.`);
  }
  warnUnemulatedMfa(ctx, id, definition);
  const existing = ctx.pools.get(id)?.record;
  if (!existing) return writePool(ctx, id, definition);
  const record: PoolRecord = {
    ...existing,
    name: definition.UserPoolName ?? id,
    definition: structuredClone(definition),
  };
  ctx.journal.commit({ op: "putPool", pool: record });
  return { Id: id, Arn: poolArn(ctx, id), Name: record.name };
}

function writePool(ctx: DefinitionContext, id: string, definition: UserPoolDefinition) {
  const record: PoolRecord = {
    id,
    name: definition.UserPoolName ?? id,
    created: ctx.now(),
    definition: structuredClone(definition),
    ...generatePoolKeyMaterial(),
  };
  ctx.journal.commit({ op: "putPool", pool: record });
  return { Id: id, Arn: poolArn(ctx, id), Name: record.name };
}

export function poolArn(ctx: DefinitionContext, poolId: string): string {
  return `arn:aws:cognito-idp:${ctx.region}:${LOCAL_ACCOUNT_ID}:userpool/${poolId}`;
}

export function createUserPoolClient(
  ctx: DefinitionContext,
  poolId: string,
  definition: UserPoolClientDefinition,
  chosenId?: string,
) {
  const pool = requirePool(ctx, poolId);
  if (chosenId !== undefined && !/^[a-z0-9]{1,128}$/.test(chosenId)) {
    throw invalidParameter(`Invalid client id ${chosenId}.`);
  }
  const existing = chosenId === undefined ? undefined : ctx.clients.get(chosenId);
  if (existing && existing.poolId !== poolId) {
    throw invalidParameter(`Client ${chosenId} belongs to another pool.`);
  }
  if (definition.GenerateSecret) {
    throw invalidParameter("The local user pool does not support client secrets (GenerateSecret).");
  }
  for (const attribute of [
    ...(definition.ReadAttributes ?? []),
    ...(definition.WriteAttributes ?? []),
  ]) {
    if (!attributeExists(pool, attribute)) {
      throw invalidParameter(`Invalid read or write attribute: ${attribute}`);
    }
  }
  const clientId = chosenId ?? randomString(26, "abcdefghijklmnopqrstuvwxyz0123456789");
  const client: ClientRecord = {
    clientId,
    poolId,
    created: existing?.created ?? ctx.now(),
    definition: structuredClone(definition),
  };
  ctx.journal.commit({ op: "putClient", client });
  return { ClientId: clientId, ClientName: definition.ClientName ?? clientId };
}

export function createGroup(
  ctx: DefinitionContext,
  poolId: string,
  definition: GroupDefinition,
  upsert = false,
): GroupRecord {
  const pool = requirePool(ctx, poolId);
  if (!definition.GroupName) throw invalidParameter("GroupName is required.");
  const existing = pool.groups.get(definition.GroupName);
  if (existing && !upsert) {
    throw new AwsServiceError("GroupExistsException", "A group with the name already exists.");
  }
  const group: GroupRecord = {
    GroupName: definition.GroupName,
    ...(definition.RoleArn ? { RoleArn: definition.RoleArn } : {}),
    ...(definition.Precedence !== undefined ? { Precedence: definition.Precedence } : {}),
    ...(definition.Description ? { Description: definition.Description } : {}),
    poolId,
    created: existing?.created ?? ctx.now(),
    modified: ctx.now(),
  };
  ctx.journal.commit({ op: "putGroup", group });
  return group;
}

function attributeExists(pool: PoolState, name: string): boolean {
  if (STANDARD_ATTRIBUTES.has(name)) return true;
  return (pool.record.definition.Schema ?? []).some(
    (attribute) => attribute.Name === name || `custom:${attribute.Name}` === name,
  );
}

export function schemaOf(pool: PoolState, name: string) {
  return (pool.record.definition.Schema ?? []).find(
    (attribute) => attribute.Name === name || `custom:${attribute.Name}` === name,
  );
}

export function validateAttributes(pool: PoolState, attributes: Record<string, string>): void {
  for (const name of Object.keys(attributes)) {
    if (name === "sub" || !attributeExists(pool, name)) {
      throw invalidParameter(
        `Attributes did not conform to the schema: ${name}: Attribute does not exist in the schema.`,
      );
    }
  }
}

export function enforceWriteAttributes(
  client: ClientRecord,
  attributes: Record<string, string>,
): void {
  const writable = client.definition.WriteAttributes;
  if (!writable) return;
  for (const name of Object.keys(attributes)) {
    if (!writable.includes(name)) {
      throw notAuthorized("A client attempted to write unauthorized attribute");
    }
  }
}

export function readableAttributes(
  client: ClientRecord | undefined,
  attributes: Record<string, string>,
): Record<string, string> {
  const readable = client?.definition.ReadAttributes;
  if (!readable) return { ...attributes };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    // `sub` and the linked `identities` are always in Cognito's tokens, whatever the client reads.
    if (name === "sub" || name === "identities" || readable.includes(name)) out[name] = value;
  }
  return out;
}

export function userAttributes(user: UserRecord): Record<string, string> {
  const attributes = { ...user.attributes };
  if (user.identities.length > 0) {
    attributes.identities = JSON.stringify(
      user.identities.map((identity) => ({
        userId: identity.userId,
        providerName: identity.providerName,
        providerType: identity.providerType,
        issuer: null,
        // The attribute holds JSON booleans and numbers; the ID token carries them as strings.
        primary: identity.primary === true,
        dateCreated: identity.dateCreated,
      })),
    );
  }
  return attributes;
}
