/**
 * Emulated Amazon Cognito user pools (`cognito-idp`, JSON 1.1), served behind the edge.
 *
 * Fidelity first (FIELD-GUIDE §1, §6, §7, §8): AWS-shaped pool ids, a per-pool RS256 key and JWKS
 * at `/<poolId>/.well-known/jwks.json`, tokens with Cognito's claims, real SRP-6a, Cognito's error
 * classes and messages, and Lambda triggers with Cognito's events, budget and retries.
 *
 * State lives in memory and every mutation is journaled (append-only, fsync) under `dataDir`, so
 * pools, keys and users survive a restart and tokens issued before it still verify. Sign-ins write
 * nothing: refresh tokens and challenge sessions are sealed, self-contained blobs.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { Journal } from "../../journal";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import { LOCAL_ACCOUNT_ID } from "../../types";
import { openIdConfiguration } from "./discovery";
import { CognitoIdpError, invalidParameter, notAuthorized, userNotFound } from "./errors";
import {
  type ClientRecord,
  type ExplicitAuthFlow,
  type GroupDefinition,
  type GroupRecord,
  type JournalRecord,
  type LinkedIdentity,
  type PendingCode,
  type PoolRecord,
  type PreTokenGenerationVersion,
  STANDARD_ATTRIBUTES,
  type TokenUnit,
  type UserPoolClientDefinition,
  type UserPoolDefinition,
  type UserRecord,
} from "./model";
import {
  openSrpSession,
  passwordClaimMatches,
  passwordVerifierChallenge,
  readPasswordClaim,
  readSrpStart,
  requireParameter,
  srpPoolName,
} from "./password-verifier";
import {
  DEFAULT_PASSWORD_POLICY,
  enforcePasswordPolicy,
  generateTemporaryPassword,
  hashPassword,
  type PasswordPolicy,
  verifyPassword,
} from "./passwords";
import { createVerifier } from "./srp";
import {
  generatePoolKeyMaterial,
  loadPoolKeys,
  type PoolKeys,
  peekJwt,
  readJwt,
  seal,
  signJwt,
  unseal,
} from "./tokens";
import { generateTotpSecret, matchTotp } from "./totp";
import {
  applyPreTokenGenerationResponse,
  DEFAULT_TRIGGER_TIMEOUT_MS,
  type GroupConfiguration,
  type InvokeTrigger,
  invokeWithCognitoSemantics,
  type PostConfirmationSource,
  type PreSignUpSource,
  postConfirmationEvent,
  preSignUpEvent,
  preTokenGenerationEvent,
  type TokenClaims,
  type TokenGenerationSource,
  type TriggerContext,
} from "./triggers";
import {
  attributeList,
  epochSeconds,
  errorResponse,
  type Input,
  jsonResponse,
  maskDestination,
  optionalString,
  requireString,
  stringMap,
  toAttributeList,
} from "./wire";

export { CognitoIdpError } from "./errors";
export type {
  GroupDefinition,
  UserPoolClientDefinition,
  UserPoolDefinition,
} from "./model";
export type { InvokeTrigger } from "./triggers";

export interface CognitoIdpServiceOptions {
  region: string;
  dataDir?: string;
  /** Base of the issuer, e.g. `http://127.0.0.1:4566`: tokens carry `<endpoint>/<poolId>`. */
  endpoint: () => string;
  /** Runs a trigger (later: the bundled handler); without it configured triggers are skipped. */
  invokeTrigger?: InvokeTrigger;
  /** Cognito's 5 s by default; tests lower it. */
  triggerTimeoutMs?: number;
  /** Where code deliveries are logged; console by default. */
  log?: (line: string) => void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

/** A code Cognito would have emailed: kept for tests and shown in the log. */
export interface OutboxMessage {
  poolId: string;
  username: string;
  kind: "signup" | "reset" | "verify-email" | "invitation";
  attribute: "email" | "phone_number";
  destination: string;
  code: string;
  sentAt: string;
}

export interface ExternalSignInInput {
  /** e.g. `Google`, `SignInWithApple`, or an OIDC provider name. */
  providerName: string;
  /** The IdP's subject. */
  providerUserId: string;
  attributes?: Record<string, string>;
}

export interface AuthenticationResult {
  AccessToken: string;
  IdToken: string;
  RefreshToken?: string;
  ExpiresIn: number;
  TokenType: "Bearer";
}

export interface CognitoIdpService extends LocalService {
  readonly name: "cognito-idp";
  /** Creates a pool from CloudFormation `AWS::Cognito::UserPool` properties. */
  createUserPool(definition: UserPoolDefinition): { Id: string; Arn: string; Name: string };
  createUserPoolClient(
    poolId: string,
    definition: UserPoolClientDefinition,
  ): { ClientId: string; ClientName: string };
  createGroup(poolId: string, definition: GroupDefinition): GroupRecord;
  /**
   * Create-or-update a pool, client or group under a caller-chosen id (the template provisioner
   * derives ids from the stack and logical id): a restart keeps users, keys and tokens valid.
   */
  putUserPool(
    id: string,
    definition: UserPoolDefinition,
  ): { Id: string; Arn: string; Name: string };
  putUserPoolClient(
    poolId: string,
    clientId: string,
    definition: UserPoolClientDefinition,
  ): { ClientId: string; ClientName: string };
  putGroup(poolId: string, definition: GroupDefinition): GroupRecord;
  /** `<endpoint>/<poolId>`: the `iss` of this pool's tokens. */
  issuer(poolId: string): string;
  jwks(poolId: string): { keys: object[] };
  /** Codes delivered so far, oldest first. */
  outbox(filter?: { email?: string; username?: string; poolId?: string }): OutboxMessage[];
  /**
   * A federated user's sign-in through the hosted UI, which the emulator has no pages for: runs
   * PreSignUp_ExternalProvider and PostConfirmation on first sign-in (unless linked to a native
   * user with AdminLinkProviderForUser), then TokenGeneration_HostedAuth.
   */
  signInWithExternalProvider(
    poolId: string,
    clientId: string,
    input: ExternalSignInInput,
  ): Promise<AuthenticationResult>;
  /**
   * Whether the session behind a token this pool issued is still good: the user exists and is
   * enabled, and neither RevokeToken nor a global sign-out ended it. It does not check the
   * signature or expiry (the caller verifies those); it answers what only the pool knows, as an
   * identity pool's `ServerSideTokenCheck` asks.
   */
  isTokenActive(input: { issuer: string; claims: Record<string, unknown> }): Promise<boolean>;
}

interface PoolState {
  record: PoolRecord;
  keys: PoolKeys;
  policy: Required<PasswordPolicy>;
  users: Map<string, UserRecord>;
  /** `email:<value>` / `phone_number:<value>` / `preferred_username:<value>` → user key. */
  aliases: Map<string, string>;
  aliasesOfUser: Map<string, string[]>;
  groups: Map<string, GroupRecord>;
  /** origin_jti → expiry (s) of the revoked refresh token. */
  revoked: Map<string, number>;
}

interface NewPasswordSession {
  t: "new-password";
  p: string;
  c: string;
  u: string;
  exp: number;
}

/**
 * A software token MFA challenge (SOFTWARE_TOKEN_MFA) or the MFA_SETUP one, sealed. `j` names the
 * session so it can be spent once; `g` is how far MFA_SETUP got (challenged, associated, verified);
 * `s` is the trigger source the tokens will be issued under once the challenge passes.
 */
interface MfaSession {
  t: "mfa";
  k: "SOFTWARE_TOKEN_MFA" | "MFA_SETUP";
  p: string;
  c: string;
  u: string;
  j: string;
  exp: number;
  s: TokenGenerationSource;
  g?: "challenged" | "associated" | "verified";
}

interface RefreshPayload {
  t: "refresh";
  p: string;
  c: string;
  u: string;
  o: string;
  a: number;
  iat: number;
  exp: number;
}

const DEFAULT_FLOWS: ExplicitAuthFlow[] = [
  "ALLOW_USER_SRP_AUTH",
  "ALLOW_CUSTOM_AUTH",
  "ALLOW_REFRESH_TOKEN_AUTH",
];
const ADMIN_CLIENT = "CLIENT_ID_NOT_APPLICABLE";
const SIGNIN_SCOPE = "aws.cognito.signin.user.admin";
const SESSION_SECONDS = 180;
const SIGNUP_CODE_MS = 24 * 3600 * 1000;
const RESET_CODE_MS = 3600 * 1000;
const MAX_CODE_ATTEMPTS = 5;
const MAX_CODE_SENDS = 10;
const CODE_SEND_WINDOW_MS = 15 * 60 * 1000;
const MAX_LINKED_IDENTITIES = 5;
const LOCKOUT_AFTER = 5;
const CODE_MISMATCH = "Invalid verification code provided, please try again.";
const CODE_EXPIRED = "Invalid code provided, please request a code again.";
const ATTEMPTS_EXCEEDED = "Attempt limit exceeded, please try after some time.";
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SESSION_INVALID = "Invalid session for the user.";
const SESSION_EXPIRED = "Invalid session for the user, session is expired.";
const SESSION_SPENT = "Invalid session for the user, session can only be used once.";
const MFA_CODE_MISMATCH = "Invalid code received for user";
const TOTP_REUSED = "Your software token has already been used once.";
/** Wrong codes one MFA session takes before it is spent (the user signs in again). */
const MAX_MFA_ATTEMPTS = 5;
const SMS_NOT_EMULATED =
  "SMS MFA is not emulated by the local user pool; only software token (TOTP) MFA is.";
const EMAIL_NOT_EMULATED =
  "Email MFA is not emulated by the local user pool; only software token (TOTP) MFA is.";

function randomString(length: number, alphabet: string): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

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

function tokenValidity(definition: UserPoolClientDefinition) {
  const units = definition.TokenValidityUnits ?? {};
  return {
    access: (definition.AccessTokenValidity ?? 60) * unitSeconds(units.AccessToken, "minutes"),
    id: (definition.IdTokenValidity ?? 60) * unitSeconds(units.IdToken, "minutes"),
    refresh: (definition.RefreshTokenValidity ?? 30) * unitSeconds(units.RefreshToken, "days"),
  };
}

function isEmail(value: string): boolean {
  return /^[^@\s]+@[^@\s]+$/.test(value);
}

function isPhone(value: string): boolean {
  return /^\+\d{4,15}$/.test(value);
}

export function createCognitoIdpService(options: CognitoIdpServiceOptions): CognitoIdpService {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.info(line));
  const triggerTimeoutMs = options.triggerTimeoutMs ?? DEFAULT_TRIGGER_TIMEOUT_MS;
  const pools = new Map<string, PoolState>();
  const clients = new Map<string, ClientRecord>();
  const outboxMessages: OutboxMessage[] = [];
  /** Failed code attempts and code sends per user (memory only: throttles reset on restart). */
  const codeAttempts = new Map<string, number>();
  const codeSends = new Map<string, number[]>();
  /** Consecutive wrong passwords per user, for Cognito's lockout (memory only). */
  const failedSignIns = new Map<string, { failures: number; lockedUntil: number }>();
  /**
   * Software token MFA bookkeeping (memory only, like the lockout): the last TOTP time step each
   * user spent (a code is refused for a step at or before it), the MFA sessions spent (id → expiry,
   * s) and the wrong codes each MFA session took.
   */
  const spentTotpSteps = new Map<string, number>();
  const spentSessions = new Map<string, number>();
  const mfaSessionFailures = new Map<string, number>();

  // ---------------------------------------------------------------- state and journal

  function normalize(pool: PoolState, value: string): string {
    return pool.record.definition.UsernameConfiguration?.CaseSensitive === false
      ? value.toLowerCase()
      : value;
  }

  function aliasKeys(pool: PoolState, user: UserRecord): string[] {
    const def = pool.record.definition;
    const keys: string[] = [];
    for (const attribute of ["email", "phone_number"] as const) {
      const value = user.attributes[attribute];
      if (!value) continue;
      const asUsername = def.UsernameAttributes?.includes(attribute) ?? false;
      const asAlias =
        (def.AliasAttributes?.includes(attribute) ?? false) &&
        user.attributes[`${attribute}_verified`] === "true";
      if (asUsername || asAlias) keys.push(`${attribute}:${normalizeAlias(pool, value)}`);
    }
    const preferred = user.attributes.preferred_username;
    if (preferred && def.AliasAttributes?.includes("preferred_username")) {
      keys.push(`preferred_username:${normalizeAlias(pool, preferred)}`);
    }
    return keys;
  }

  function normalizeAlias(pool: PoolState, value: string): string {
    // Email addresses are matched case-insensitively in both modes; other aliases follow the pool.
    return value.includes("@") ? value.toLowerCase() : normalize(pool, value);
  }

  function indexUser(pool: PoolState, user: UserRecord | undefined, key: string): void {
    for (const alias of pool.aliasesOfUser.get(key) ?? []) {
      if (pool.aliases.get(alias) === key) pool.aliases.delete(alias);
    }
    pool.aliasesOfUser.delete(key);
    if (!user) return;
    const keys = aliasKeys(pool, user).filter((alias) => {
      const owner = pool.aliases.get(alias);
      return owner === undefined || owner === key;
    });
    for (const alias of keys) pool.aliases.set(alias, key);
    pool.aliasesOfUser.set(key, keys);
  }

  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "putPool": {
        const existing = pools.get(record.pool.id);
        const policy = {
          ...DEFAULT_PASSWORD_POLICY,
          ...record.pool.definition.Policies?.PasswordPolicy,
        };
        if (existing) {
          existing.record = record.pool;
          existing.policy = policy;
        } else {
          pools.set(record.pool.id, {
            record: record.pool,
            keys: loadPoolKeys(record.pool),
            policy,
            users: new Map(),
            aliases: new Map(),
            aliasesOfUser: new Map(),
            groups: new Map(),
            revoked: new Map(),
          });
        }
        break;
      }
      case "putClient":
        clients.set(record.client.clientId, record.client);
        break;
      case "putGroup":
        pools.get(record.group.poolId)?.groups.set(record.group.GroupName, record.group);
        break;
      case "putUser": {
        const pool = pools.get(record.poolId);
        if (!pool) break;
        const key = normalize(pool, record.user.username);
        pool.users.set(key, record.user);
        indexUser(pool, record.user, key);
        break;
      }
      case "deleteUser": {
        const pool = pools.get(record.poolId);
        if (!pool) break;
        const key = normalize(pool, record.username);
        pool.users.delete(key);
        indexUser(pool, undefined, key);
        break;
      }
      case "revoke":
        pools.get(record.poolId)?.revoked.set(record.originJti, record.expires);
        break;
    }
  }

  function snapshot(): JournalRecord[] {
    const records: JournalRecord[] = [];
    const nowSeconds = epochSeconds(now());
    for (const pool of pools.values()) {
      records.push({ op: "putPool", pool: pool.record });
      for (const group of pool.groups.values()) records.push({ op: "putGroup", group });
      for (const user of pool.users.values()) {
        records.push({ op: "putUser", poolId: pool.record.id, user });
      }
      for (const [originJti, expires] of pool.revoked) {
        if (expires > nowSeconds) {
          records.push({ op: "revoke", poolId: pool.record.id, originJti, expires });
        }
      }
    }
    for (const client of clients.values()) records.push({ op: "putClient", client });
    return records;
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "cognito-idp", snapshot, compactAfter: 5000 },
    apply,
  );

  function requirePool(poolId: string): PoolState {
    const pool = pools.get(poolId);
    if (!pool) {
      throw new CognitoIdpError("ResourceNotFoundException", `User pool ${poolId} does not exist.`);
    }
    return pool;
  }

  function requireClient(clientId: string): { client: ClientRecord; pool: PoolState } {
    const client = clients.get(clientId);
    const pool = client ? pools.get(client.poolId) : undefined;
    if (!client || !pool) {
      throw new CognitoIdpError(
        "ResourceNotFoundException",
        `User pool client ${clientId} does not exist.`,
      );
    }
    return { client, pool };
  }

  function findUser(pool: PoolState, name: string): UserRecord | undefined {
    const direct = pool.users.get(normalize(pool, name));
    if (direct) return direct;
    for (const kind of ["email", "phone_number", "preferred_username"]) {
      const key = pool.aliases.get(`${kind}:${normalizeAlias(pool, name)}`);
      const user = key ? pool.users.get(key) : undefined;
      if (user) return user;
    }
    return undefined;
  }

  function requireUser(pool: PoolState, name: string): UserRecord {
    const user = findUser(pool, name);
    if (!user) throw userNotFound();
    return user;
  }

  /** UserNotFoundException, or Cognito's generic failure when the client hides existence. */
  function missingUser(client: ClientRecord): CognitoIdpError {
    return client.definition.PreventUserExistenceErrors === "ENABLED"
      ? notAuthorized()
      : userNotFound();
  }

  /**
   * A private copy of a user to change and then `putUser`: the live record only ever changes
   * through the journal, so a failure halfway through an operation leaves memory as on disk.
   */
  function draft<T extends UserRecord | undefined>(user: T): T {
    return user === undefined ? user : structuredClone(user);
  }

  function putUser(pool: PoolState, user: UserRecord): void {
    user.modified = now();
    journal.commit({ op: "putUser", poolId: pool.record.id, user });
  }

  // ---------------------------------------------------------------- definitions

  function validatePoolDefinition(definition: UserPoolDefinition): void {
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
      throw new CognitoIdpError(
        "FeatureUnavailableInTierException",
        `Pre token generation ${version} requires the Essentials or Plus feature plan; this user pool's UserPoolTier is LITE.`,
      );
    }
  }

  /** SMS and email MFA in a definition: said once per write, never pretended to work. */
  function warnUnemulatedMfa(id: string, definition: UserPoolDefinition): void {
    const others = (definition.EnabledMfas ?? []).filter((kind) => kind !== "SOFTWARE_TOKEN_MFA");
    if ((definition.MfaConfiguration ?? "OFF") !== "OFF" && others.length > 0) {
      log(
        `[cognito-idp] ${id}: ${others.join(", ")} not emulated; users are only ever challenged for software token (TOTP) MFA`,
      );
    }
  }

  function createUserPool(definition: UserPoolDefinition) {
    validatePoolDefinition(definition);
    let id: string;
    do {
      id = `${options.region}_${randomString(9, ALPHANUMERIC)}`;
    } while (pools.has(id));
    warnUnemulatedMfa(id, definition);
    return writePool(id, definition);
  }

  /**
   * Create-or-update under an id the caller chose (the template provisioner derives it from the
   * stack and logical id), so a restart or a changed template keeps the pool, its users and its
   * signing keys, as a CloudFormation update would.
   */
  function putUserPool(id: string, definition: UserPoolDefinition) {
    validatePoolDefinition(definition);
    if (!id.startsWith(`${options.region}_`) || !/^[\w-]+_[0-9A-Za-z]{1,55}$/.test(id)) {
      throw invalidParameter(`Invalid user pool id ${id}.`);
    }
    warnUnemulatedMfa(id, definition);
    const existing = pools.get(id)?.record;
    if (!existing) return writePool(id, definition);
    const record: PoolRecord = {
      ...existing,
      name: definition.UserPoolName ?? id,
      definition: structuredClone(definition),
    };
    journal.commit({ op: "putPool", pool: record });
    return { Id: id, Arn: poolArn(id), Name: record.name };
  }

  function writePool(id: string, definition: UserPoolDefinition) {
    const record: PoolRecord = {
      id,
      name: definition.UserPoolName ?? id,
      created: now(),
      definition: structuredClone(definition),
      ...generatePoolKeyMaterial(),
    };
    journal.commit({ op: "putPool", pool: record });
    return { Id: id, Arn: poolArn(id), Name: record.name };
  }

  function poolArn(poolId: string): string {
    return `arn:aws:cognito-idp:${options.region}:${LOCAL_ACCOUNT_ID}:userpool/${poolId}`;
  }

  function createUserPoolClient(
    poolId: string,
    definition: UserPoolClientDefinition,
    chosenId?: string,
  ) {
    const pool = requirePool(poolId);
    if (chosenId !== undefined && !/^[a-z0-9]{1,128}$/.test(chosenId)) {
      throw invalidParameter(`Invalid client id ${chosenId}.`);
    }
    const existing = chosenId === undefined ? undefined : clients.get(chosenId);
    if (existing && existing.poolId !== poolId) {
      throw invalidParameter(`Client ${chosenId} belongs to another pool.`);
    }
    if (definition.GenerateSecret) {
      throw invalidParameter(
        "The local user pool does not support client secrets (GenerateSecret).",
      );
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
      created: existing?.created ?? now(),
      definition: structuredClone(definition),
    };
    journal.commit({ op: "putClient", client });
    return { ClientId: clientId, ClientName: definition.ClientName ?? clientId };
  }

  function createGroup(poolId: string, definition: GroupDefinition, upsert = false): GroupRecord {
    const pool = requirePool(poolId);
    if (!definition.GroupName) throw invalidParameter("GroupName is required.");
    const existing = pool.groups.get(definition.GroupName);
    if (existing && !upsert) {
      throw new CognitoIdpError("GroupExistsException", "A group with the name already exists.");
    }
    const group: GroupRecord = {
      GroupName: definition.GroupName,
      ...(definition.RoleArn ? { RoleArn: definition.RoleArn } : {}),
      ...(definition.Precedence !== undefined ? { Precedence: definition.Precedence } : {}),
      ...(definition.Description ? { Description: definition.Description } : {}),
      poolId,
      created: existing?.created ?? now(),
      modified: now(),
    };
    journal.commit({ op: "putGroup", group });
    return group;
  }

  function attributeExists(pool: PoolState, name: string): boolean {
    if (STANDARD_ATTRIBUTES.has(name)) return true;
    return (pool.record.definition.Schema ?? []).some(
      (attribute) => attribute.Name === name || `custom:${attribute.Name}` === name,
    );
  }

  function schemaOf(pool: PoolState, name: string) {
    return (pool.record.definition.Schema ?? []).find(
      (attribute) => attribute.Name === name || `custom:${attribute.Name}` === name,
    );
  }

  function validateAttributes(pool: PoolState, attributes: Record<string, string>): void {
    for (const name of Object.keys(attributes)) {
      if (name === "sub" || !attributeExists(pool, name)) {
        throw invalidParameter(
          `Attributes did not conform to the schema: ${name}: Attribute does not exist in the schema.`,
        );
      }
    }
  }

  function enforceWriteAttributes(client: ClientRecord, attributes: Record<string, string>): void {
    const writable = client.definition.WriteAttributes;
    if (!writable) return;
    for (const name of Object.keys(attributes)) {
      if (!writable.includes(name)) {
        throw notAuthorized("A client attempted to write unauthorized attribute");
      }
    }
  }

  function readableAttributes(
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

  function userAttributes(user: UserRecord): Record<string, string> {
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

  // ---------------------------------------------------------------- codes and outbox

  function throttleSends(pool: PoolState, user: UserRecord): void {
    const key = `${pool.record.id}/${user.username}`;
    const recent = (codeSends.get(key) ?? []).filter((at) => at > now() - CODE_SEND_WINDOW_MS);
    if (recent.length >= MAX_CODE_SENDS) {
      throw new CognitoIdpError("LimitExceededException", ATTEMPTS_EXCEEDED);
    }
    recent.push(now());
    codeSends.set(key, recent);
  }

  function deliver(
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
      sentAt: new Date(now()).toISOString(),
    };
    outboxMessages.push(message);
    if (outboxMessages.length > 10_000) outboxMessages.shift();
    log(
      `[cognito-idp] ${kind} code ${code} for ${pool.record.id}/${user.username} to ${maskDestination(destination)}`,
    );
    return {
      Destination: maskDestination(destination),
      DeliveryMedium: attribute === "email" ? "EMAIL" : "SMS",
      AttributeName: attribute,
    };
  }

  function issueCode(
    pool: PoolState,
    user: UserRecord,
    kind: PendingCode["kind"],
    lifetimeMs: number,
  ): string {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    user.codes = user.codes.filter((pending) => pending.kind !== kind);
    user.codes.push({ code, kind, expires: now() + lifetimeMs });
    codeAttempts.delete(`${pool.record.id}/${user.username}/${kind}`);
    return code;
  }

  /** Checks and consumes a code; the caller commits the user afterwards. */
  function consumeCode(
    pool: PoolState,
    user: UserRecord,
    kind: PendingCode["kind"],
    code: string,
  ): void {
    const attemptsKey = `${pool.record.id}/${user.username}/${kind}`;
    const attempts = codeAttempts.get(attemptsKey) ?? 0;
    if (attempts >= MAX_CODE_ATTEMPTS) {
      throw new CognitoIdpError("LimitExceededException", ATTEMPTS_EXCEEDED);
    }
    const pending = user.codes.find((entry) => entry.kind === kind);
    if (!pending || pending.code !== code) {
      codeAttempts.set(attemptsKey, attempts + 1);
      throw new CognitoIdpError("CodeMismatchException", CODE_MISMATCH);
    }
    if (pending.expires < now()) throw new CognitoIdpError("ExpiredCodeException", CODE_EXPIRED);
    codeAttempts.delete(attemptsKey);
    user.codes = user.codes.filter((entry) => entry !== pending);
  }

  // ---------------------------------------------------------------- triggers

  function triggerContext(
    pool: PoolState,
    user: UserRecord | string,
    clientId: string,
  ): TriggerContext {
    return {
      region: options.region,
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

  async function runPreSignUp(
    pool: PoolState,
    source: PreSignUpSource,
    context: TriggerContext,
    request: Parameters<typeof preSignUpEvent>[2],
  ) {
    const arn = pool.record.definition.LambdaConfig?.PreSignUp;
    if (!arn || !options.invokeTrigger) return undefined;
    const result = await invokeWithCognitoSemantics(
      options.invokeTrigger,
      "PreSignUp",
      arn,
      preSignUpEvent(source, context, request),
      triggerTimeoutMs,
    );
    return result.response as Partial<{
      autoConfirmUser: boolean;
      autoVerifyEmail: boolean;
      autoVerifyPhone: boolean;
    }> | null;
  }

  async function runPostConfirmation(
    pool: PoolState,
    source: PostConfirmationSource,
    user: UserRecord,
    clientId: string,
    clientMetadata: Record<string, string> | undefined,
  ): Promise<void> {
    const arn = pool.record.definition.LambdaConfig?.PostConfirmation;
    if (!arn || !options.invokeTrigger) return;
    await invokeWithCognitoSemantics(
      options.invokeTrigger,
      "PostConfirmation",
      arn,
      postConfirmationEvent(source, triggerContext(pool, user, clientId), {
        userAttributes: { ...triggerAttributes(user), ...signInAliases(pool, user) },
        clientMetadata,
      }),
      triggerTimeoutMs,
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

  // ---------------------------------------------------------------- tokens

  function issuer(poolId: string): string {
    return `${options.endpoint()}/${poolId}`;
  }

  function sortedGroups(pool: PoolState, user: UserRecord): GroupRecord[] {
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

  async function issueTokens(
    pool: PoolState,
    client: ClientRecord,
    user: UserRecord,
    source: TokenGenerationSource,
    session?: { originJti: string; authTime: number },
    clientMetadata?: Record<string, string>,
  ): Promise<AuthenticationResult> {
    const nowMs = now();
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
      iss: issuer(pool.record.id),
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
      iss: issuer(pool.record.id),
      client_id: client.clientId,
      origin_jti: originJti,
      event_id: eventId,
      token_use: "access",
      scope: SIGNIN_SCOPE,
      auth_time: authTime,
    });

    const claims: TokenClaims = { id, access };
    const trigger = preTokenConfig(pool);
    if (trigger && options.invokeTrigger) {
      const event = preTokenGenerationEvent(
        trigger.version,
        source,
        triggerContext(pool, user, client.clientId),
        {
          userAttributes: triggerAttributes(user),
          groupConfiguration: groups,
          scopes: [SIGNIN_SCOPE],
          ...(clientMetadata ? { clientMetadata } : {}),
        },
      );
      const result = await invokeWithCognitoSemantics(
        options.invokeTrigger,
        "PreTokenGeneration",
        trigger.arn,
        event,
        triggerTimeoutMs,
      );
      applyPreTokenGenerationResponse(trigger.version, result.response, claims);
    }

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

  function isRevoked(pool: PoolState, user: UserRecord, originJti: string, iat: number): boolean {
    if (pool.revoked.has(originJti)) return true;
    if (user.signedOutAt === undefined) return false;
    const issuedMs = uuidTime(originJti) ?? iat * 1000;
    return issuedMs <= user.signedOutAt;
  }

  /** Resolves an access token to its pool, client and user, failing as Cognito does. */
  function authenticateAccessToken(token: string) {
    const invalid = () => notAuthorized("Invalid Access Token");
    const unverified = peekJwt(token);
    const poolId =
      typeof unverified?.iss === "string" ? unverified.iss.split("/").pop() : undefined;
    const pool = poolId ? pools.get(poolId) : undefined;
    if (!pool) throw invalid();
    const claims = readJwt(pool.keys, token);
    if (claims?.token_use !== "access") throw invalid();
    if (typeof claims.exp !== "number" || claims.exp <= epochSeconds(now())) {
      throw notAuthorized("Access Token has expired");
    }
    const client = clients.get(String(claims.client_id));
    const user = findUser(pool, String(claims.username));
    if (!client || !user || user.attributes.sub !== claims.sub) throw userNotFound();
    if (isRevoked(pool, user, String(claims.origin_jti), Number(claims.iat))) {
      throw notAuthorized("Access Token has been revoked");
    }
    if (!user.enabled) throw notAuthorized("User is disabled.");
    return { pool, client, user: draft(user) };
  }

  // ---------------------------------------------------------------- sign-in helpers

  function requireFlow(client: ClientRecord, flow: string): void {
    const flows = client.definition.ExplicitAuthFlows?.length
      ? client.definition.ExplicitAuthFlows
      : DEFAULT_FLOWS;
    if (!flows.includes(`ALLOW_${flow}` as ExplicitAuthFlow)) {
      throw invalidParameter(`${flow} flow not enabled for this client`);
    }
  }

  function requireSignInAllowed(user: UserRecord): void {
    if (!user.enabled) throw notAuthorized("User is disabled.");
    if (user.status === "UNCONFIRMED") {
      throw new CognitoIdpError("UserNotConfirmedException", "User is not confirmed.");
    }
    if (user.status === "RESET_REQUIRED") {
      throw new CognitoIdpError(
        "PasswordResetRequiredException",
        "Password reset required for the user",
      );
    }
  }

  /** After a password proved right: tokens, or the NEW_PASSWORD_REQUIRED challenge. */
  async function completeSignIn(
    pool: PoolState,
    client: ClientRecord,
    user: UserRecord,
    clientMetadata?: Record<string, string>,
  ): Promise<object> {
    requireSignInAllowed(user);
    if (user.status === "FORCE_CHANGE_PASSWORD") {
      if (user.temporaryPasswordExpires !== undefined && user.temporaryPasswordExpires < now()) {
        throw notAuthorized(
          "Temporary password has expired and must be reset by an administrator.",
        );
      }
      const session: NewPasswordSession = {
        t: "new-password",
        p: pool.record.id,
        c: client.clientId,
        u: user.username,
        exp: epochSeconds(now()) + SESSION_SECONDS,
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
      mfaChallenge(pool, client, user, "TokenGeneration_Authentication") ?? {
        ChallengeParameters: {},
        AuthenticationResult: await issueTokens(
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

  // ---------------------------------------------------------------- software token MFA

  /** Whether the pool challenges for TOTP at all (OPTIONAL or ON, with SOFTWARE_TOKEN_MFA). */
  function totpMfa(pool: PoolState): "OFF" | "OPTIONAL" | "ON" {
    const def = pool.record.definition;
    const mode = def.MfaConfiguration ?? "OFF";
    return mode !== "OFF" && def.EnabledMfas?.includes("SOFTWARE_TOKEN_MFA") ? mode : "OFF";
  }

  function requireTotpPool(pool: PoolState): void {
    if (totpMfa(pool) === "OFF") {
      throw new CognitoIdpError(
        "SoftwareTokenMFANotFoundException",
        "Software token MFA is not enabled for this user pool (MfaConfiguration and EnabledMfas).",
      );
    }
  }

  function mfaSessionFor(
    pool: PoolState,
    client: ClientRecord,
    user: UserRecord,
    kind: MfaSession["k"],
    source: TokenGenerationSource,
  ): MfaSession {
    return {
      t: "mfa",
      k: kind,
      p: pool.record.id,
      c: client.clientId,
      u: user.username,
      j: randomUUID(),
      exp: epochSeconds(now()) + SESSION_SECONDS,
      s: source,
      ...(kind === "MFA_SETUP" ? { g: "challenged" as const } : {}),
    };
  }

  /**
   * After the password: SOFTWARE_TOKEN_MFA for a user with a verified token (and TOTP enabled, or
   * MFA required), MFA_SETUP when the pool requires MFA and the user has none, else nothing.
   */
  function mfaChallenge(
    pool: PoolState,
    client: ClientRecord,
    user: UserRecord,
    source: TokenGenerationSource,
  ): object | undefined {
    const mode = totpMfa(pool);
    if (mode === "OFF") return undefined;
    const verified = user.totp?.secret !== undefined;
    if (verified && (mode === "ON" || user.totp?.enabled)) {
      const session = mfaSessionFor(pool, client, user, "SOFTWARE_TOKEN_MFA", source);
      return {
        ChallengeName: "SOFTWARE_TOKEN_MFA",
        Session: seal(pool.keys.sealKey, session),
        ChallengeParameters: user.totp?.deviceName
          ? { FRIENDLY_DEVICE_NAME: user.totp.deviceName }
          : {},
      };
    }
    if (mode === "ON") {
      const session = mfaSessionFor(pool, client, user, "MFA_SETUP", source);
      return {
        ChallengeName: "MFA_SETUP",
        Session: seal(pool.keys.sealKey, session),
        ChallengeParameters: { MFAS_CAN_SETUP: JSON.stringify(["SOFTWARE_TOKEN_MFA"]) },
      };
    }
    return undefined;
  }

  function openMfaSession(pool: PoolState, token: string): MfaSession {
    return checkMfaSession(pool, unseal<MfaSession>(pool.keys.sealKey, token));
  }

  /** An MFA session, checked: sealed by this pool, unexpired and not yet spent. */
  function checkMfaSession(pool: PoolState, session: MfaSession | undefined): MfaSession {
    if (session?.t !== "mfa" || session.p !== pool.record.id) {
      throw notAuthorized(SESSION_INVALID);
    }
    if (session.exp <= epochSeconds(now())) throw notAuthorized(SESSION_EXPIRED);
    if (spentSessions.has(session.j)) throw notAuthorized(SESSION_SPENT);
    return session;
  }

  /** AssociateSoftwareToken and VerifySoftwareToken take a Session without naming the pool. */
  function findMfaSession(token: string): { pool: PoolState; session: MfaSession } {
    for (const pool of pools.values()) {
      const session = unseal<MfaSession>(pool.keys.sealKey, token);
      if (session) return { pool, session: checkMfaSession(pool, session) };
    }
    throw notAuthorized(SESSION_INVALID);
  }

  /** Marks a challenge session (MFA or SRP) used: Cognito's sessions are good once. */
  function spendSession(session: { j: string; exp: number }): void {
    const nowSeconds = epochSeconds(now());
    for (const [id, expires] of spentSessions) {
      if (expires <= nowSeconds) {
        spentSessions.delete(id);
        mfaSessionFailures.delete(id);
      }
    }
    spentSessions.set(session.j, session.exp);
    mfaSessionFailures.delete(session.j);
  }

  /** A wrong code against a session: the session dies after MAX_MFA_ATTEMPTS of them. */
  function sessionFailure(session: MfaSession): void {
    const failures = (mfaSessionFailures.get(session.j) ?? 0) + 1;
    mfaSessionFailures.set(session.j, failures);
    if (failures >= MAX_MFA_ATTEMPTS) spendSession(session);
  }

  /**
   * Checks a TOTP code against a secret: CodeMismatch (as `mismatch`) when it matches no step in
   * the window, ExpiredCodeException when its step is one this user already spent. Marks the step
   * spent on success.
   */
  function checkTotp(
    pool: PoolState,
    user: UserRecord,
    secret: string,
    code: string,
    mismatch: () => CognitoIdpError,
  ): void {
    const step = matchTotp(secret, code, now());
    if (step === undefined) throw mismatch();
    const key = `${pool.record.id}/${user.username}`;
    const spent = spentTotpSteps.get(key);
    if (spent !== undefined && step <= spent) {
      throw new CognitoIdpError("ExpiredCodeException", TOTP_REUSED);
    }
    spentTotpSteps.set(key, step);
  }

  /** AssociateSoftwareToken / VerifySoftwareToken: the caller names itself by exactly one. */
  function accessTokenOrSession(input: Input): { accessToken?: string; sessionToken?: string } {
    const accessToken = optionalString(input, "AccessToken");
    const sessionToken = optionalString(input, "Session");
    if ((accessToken === undefined) === (sessionToken === undefined)) {
      throw invalidParameter("Exactly one of AccessToken and Session must be given.");
    }
    return { accessToken, sessionToken };
  }

  function associateSoftwareToken(input: Input) {
    const { accessToken, sessionToken } = accessTokenOrSession(input);
    const secret = generateTotpSecret();
    if (accessToken !== undefined) {
      const { pool, user } = authenticateAccessToken(accessToken);
      requireTotpPool(pool);
      user.totp = { ...user.totp, pendingSecret: secret };
      putUser(pool, user);
      return { SecretCode: secret };
    }
    const { pool, session } = findMfaSession(sessionToken ?? "");
    if (session.k !== "MFA_SETUP" || session.g === "verified") {
      throw notAuthorized(SESSION_INVALID);
    }
    requireTotpPool(pool);
    const user = redraft(pool, session.u);
    user.totp = { ...user.totp, pendingSecret: secret };
    putUser(pool, user);
    spendSession(session);
    const next: MfaSession = { ...session, j: randomUUID(), g: "associated" };
    return { SecretCode: secret, Session: seal(pool.keys.sealKey, next) };
  }

  function verifySoftwareToken(input: Input) {
    const { accessToken, sessionToken } = accessTokenOrSession(input);
    const code = requireString(input, "UserCode");
    const deviceName = optionalString(input, "FriendlyDeviceName");
    let pool: PoolState;
    let user: UserRecord;
    let session: MfaSession | undefined;
    if (accessToken !== undefined) {
      ({ pool, user } = authenticateAccessToken(accessToken));
    } else {
      ({ pool, session } = findMfaSession(sessionToken ?? ""));
      if (session.k !== "MFA_SETUP" || session.g !== "associated") {
        throw notAuthorized(SESSION_INVALID);
      }
      user = redraft(pool, session.u);
    }
    requireTotpPool(pool);
    const pending = user.totp?.pendingSecret;
    if (!pending) {
      throw new CognitoIdpError(
        "SoftwareTokenMFANotFoundException",
        "Software token MFA has not been associated with the user: call AssociateSoftwareToken first.",
      );
    }
    try {
      checkTotp(
        pool,
        user,
        pending,
        code,
        () =>
          new CognitoIdpError(
            "EnableSoftwareTokenMFAException",
            "Code mismatch and fail enable Software Token MFA",
          ),
      );
    } catch (error) {
      if (session) sessionFailure(session);
      throw error;
    }
    const totp = { ...user.totp, secret: pending };
    delete totp.pendingSecret;
    if (deviceName !== undefined) totp.deviceName = deviceName;
    else delete totp.deviceName;
    // MFA_SETUP turns TOTP on for the user, as Cognito does once the setup completes.
    if (session) Object.assign(totp, { enabled: true, preferred: true });
    user.totp = totp;
    putUser(pool, user);
    if (!session) return { Status: "SUCCESS" };
    spendSession(session);
    const next: MfaSession = { ...session, j: randomUUID(), g: "verified" };
    return { Status: "SUCCESS", Session: seal(pool.keys.sealKey, next) };
  }

  /** SetUserMFAPreference / AdminSetUserMFAPreference: only the software token settings work. */
  function setMfaPreference(pool: PoolState, user: UserRecord, input: Input): object {
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
      throw invalidParameter(
        "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA",
      );
    }
    if (preferred && !enabled) {
      throw invalidParameter("Preferred MFA must be enabled.");
    }
    user.totp = { ...user.totp, enabled, preferred };
    putUser(pool, user);
    return {};
  }

  /** `UserMFASettingList` and `PreferredMfaSetting` for GetUser / AdminGetUser. */
  function mfaSettings(user: UserRecord): object {
    if (!user.totp?.secret || !user.totp.enabled) return {};
    return {
      UserMFASettingList: ["SOFTWARE_TOKEN_MFA"],
      ...(user.totp.preferred ? { PreferredMfaSetting: "SOFTWARE_TOKEN_MFA" } : {}),
    };
  }

  function getUserPoolMfaConfig(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const def = pool.record.definition;
    return {
      MfaConfiguration: def.MfaConfiguration ?? "OFF",
      SoftwareTokenMfaConfiguration: {
        Enabled: def.EnabledMfas?.includes("SOFTWARE_TOKEN_MFA") === true,
      },
    };
  }

  function setUserPoolMfaConfig(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
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
    journal.commit({ op: "putPool", pool: { ...pool.record, definition: def } });
    return getUserPoolMfaConfig(input);
  }

  /** RespondToAuthChallenge for SOFTWARE_TOKEN_MFA and MFA_SETUP. */
  async function respondToMfaChallenge(
    pool: PoolState,
    client: ClientRecord,
    challengeName: "SOFTWARE_TOKEN_MFA" | "MFA_SETUP",
    input: Input,
    responses: Record<string, string>,
  ): Promise<object> {
    const session = openMfaSession(pool, requireString(input, "Session"));
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
        throw new CognitoIdpError(
          "SoftwareTokenMFANotFoundException",
          "Software Token MFA does not exist for the user.",
        );
      }
      try {
        checkTotp(
          pool,
          user,
          secret,
          code,
          () => new CognitoIdpError("CodeMismatchException", MFA_CODE_MISMATCH),
        );
      } catch (error) {
        sessionFailure(session);
        throw error;
      }
    } else if (session.g !== "verified" || !user.totp?.secret) {
      throw notAuthorized(SESSION_INVALID);
    }
    spendSession(session);
    return {
      ChallengeParameters: {},
      AuthenticationResult: await issueTokens(
        pool,
        client,
        user,
        session.s,
        undefined,
        stringMap(input.ClientMetadata),
      ),
    };
  }

  /**
   * The stored forms of a password. Computed before drafting a user: an await between a draft and
   * its commit would let a concurrent change to the same user be overwritten.
   */
  async function passwordSecrets(
    pool: PoolState,
    username: string,
    password: string,
  ): Promise<Pick<UserRecord, "passwordHash" | "srp">> {
    return {
      passwordHash: await hashPassword(password),
      srp: createVerifier(srpPoolName(pool.record.id), username, password),
    };
  }

  /** The live user again, drafted, after an await (it may have changed or gone meanwhile). */
  function redraft(pool: PoolState, username: string): UserRecord {
    const user = draft(findUser(pool, username));
    if (!user) throw userNotFound();
    return user;
  }

  // ---------------------------------------------------------------- operations

  async function signUp(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
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
      pool,
      "PreSignUp_SignUp",
      triggerContext(pool, username, client.clientId),
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
      created: now(),
      modified: now(),
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
    const code = needsCode ? issueCode(pool, user, "signup", SIGNUP_CODE_MS) : undefined;
    putUser(pool, user);
    if (code) delivery = deliver(pool, user, "signup", code);
    if (user.status === "CONFIRMED") {
      await runPostConfirmation(
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

  function isUuid(value: string): boolean {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
  }

  /** Email/phone-as-username pools get a UUID username (also the `sub`); others keep the name. */
  function resolveNewUsername(
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

  function assertNewUserIsFree(
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
          throw new CognitoIdpError(
            "UsernameExistsException",
            via === "admin"
              ? "An account with the given email already exists."
              : `An account with the given ${attribute === "email" ? "email" : "phone_number"} already exists.`,
          );
        }
      }
    }
    if (pool.users.has(normalize(pool, username))) {
      throw new CognitoIdpError(
        "UsernameExistsException",
        via === "admin" ? "User account already exists" : "User already exists",
      );
    }
  }

  async function confirmSignUp(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
    const user = draft(findUser(pool, requireString(input, "Username")));
    const code = requireString(input, "ConfirmationCode");
    if (!user) {
      if (client.definition.PreventUserExistenceErrors === "ENABLED") {
        throw new CognitoIdpError("CodeMismatchException", CODE_MISMATCH);
      }
      throw userNotFound();
    }
    if (user.status !== "UNCONFIRMED") {
      throw notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
    }
    consumeCode(pool, user, "signup", code);
    user.status = "CONFIRMED";
    const verifiedBy = pool.record.definition.AutoVerifiedAttributes ?? [];
    if (verifiedBy.includes("email") && user.attributes.email)
      user.attributes.email_verified = "true";
    else if (verifiedBy.includes("phone_number") && user.attributes.phone_number) {
      user.attributes.phone_number_verified = "true";
    }
    const displaced = claimAliases(pool, user, input.ForceAliasCreation === true);
    for (const other of displaced) putUser(pool, other);
    putUser(pool, user);
    // Cognito confirms first: a failing trigger fails the call but the user stays confirmed.
    await runPostConfirmation(
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
        throw new CognitoIdpError(
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

  function resendConfirmationCode(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
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
    throttleSends(pool, user);
    const code = issueCode(pool, user, "signup", SIGNUP_CODE_MS);
    putUser(pool, user);
    const delivery = deliver(pool, user, "signup", code);
    return delivery ? { CodeDeliveryDetails: delivery } : {};
  }

  async function initiateAuth(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
    const flow = requireString(input, "AuthFlow");
    const parameters = stringMap(input.AuthParameters) ?? {};
    switch (flow) {
      case "USER_PASSWORD_AUTH":
        requireFlow(client, "USER_PASSWORD_AUTH");
        return passwordSignIn(pool, client, parameters);
      case "USER_SRP_AUTH":
        return srpSignIn(pool, client, parameters);
      case "REFRESH_TOKEN_AUTH":
      case "REFRESH_TOKEN": {
        requireFlow(client, "REFRESH_TOKEN_AUTH");
        const token = parameters.REFRESH_TOKEN;
        if (!token) throw invalidParameter("Missing required parameter REFRESH_TOKEN");
        const payload = unseal<RefreshPayload>(pool.keys.sealKey, token);
        if (payload?.t !== "refresh" || payload.c !== client.clientId) {
          throw notAuthorized("Invalid Refresh Token");
        }
        if (payload.exp <= epochSeconds(now())) throw notAuthorized("Refresh Token has expired");
        const user = findUser(pool, payload.u);
        if (!user) throw notAuthorized("User does not exist.");
        if (isRevoked(pool, user, payload.o, payload.iat)) {
          throw notAuthorized("Refresh Token has been revoked");
        }
        if (!user.enabled) throw notAuthorized("User is disabled.");
        return {
          ChallengeParameters: {},
          AuthenticationResult: await issueTokens(
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
  async function getTokensFromRefreshToken(input: Input) {
    const refreshed = (await initiateAuth({
      ClientId: requireString(input, "ClientId"),
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: requireString(input, "RefreshToken") },
    })) as { AuthenticationResult: object };
    return { AuthenticationResult: refreshed.AuthenticationResult };
  }

  async function passwordSignIn(
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
    assertNotLockedOut(pool, user);
    if (!user.passwordHash || !(await verifyPassword(password, user.passwordHash))) {
      recordFailedSignIn(pool, user);
      throw notAuthorized();
    }
    failedSignIns.delete(`${pool.record.id}/${user.username}`);
    return completeSignIn(pool, client, user);
  }

  /**
   * Cognito's lockout: after five wrong passwords in a row, sign-in is refused for a time that
   * starts at one second and doubles with each further failure, up to about 15 minutes.
   */
  function assertNotLockedOut(pool: PoolState, user: UserRecord): void {
    const state = failedSignIns.get(`${pool.record.id}/${user.username}`);
    if (state && state.lockedUntil > now()) throw notAuthorized("Password attempts exceeded");
  }

  function recordFailedSignIn(pool: PoolState, user: UserRecord): void {
    const key = `${pool.record.id}/${user.username}`;
    const failures = (failedSignIns.get(key)?.failures ?? 0) + 1;
    const lockMs =
      failures >= LOCKOUT_AFTER ? Math.min(1000 * 2 ** (failures - LOCKOUT_AFTER), 900_000) : 0;
    failedSignIns.set(key, { failures, lockedUntil: now() + lockMs });
  }

  /** AdminInitiateAuth: the server-side flows, for a client of the named pool. */
  async function adminInitiateAuth(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const { client } = requireClient(requireString(input, "ClientId"));
    if (client.poolId !== pool.record.id) {
      throw new CognitoIdpError(
        "ResourceNotFoundException",
        `User pool client ${client.clientId} does not exist.`,
      );
    }
    const flow = requireString(input, "AuthFlow");
    if (flow === "ADMIN_USER_PASSWORD_AUTH" || flow === "ADMIN_NO_SRP_AUTH") {
      requireFlow(client, "ADMIN_USER_PASSWORD_AUTH");
      return passwordSignIn(pool, client, stringMap(input.AuthParameters) ?? {});
    }
    // AdminInitiateAuth documents USER_SRP_AUTH too (API reference, AuthFlow), answered with
    // PASSWORD_VERIFIER through AdminRespondToAuthChallenge.
    if (flow === "USER_SRP_AUTH") {
      return srpSignIn(pool, client, stringMap(input.AuthParameters) ?? {});
    }
    if (flow === "REFRESH_TOKEN_AUTH" || flow === "REFRESH_TOKEN") return initiateAuth(input);
    throw invalidParameter(`AuthFlow ${flow} is not supported by the local user pool.`);
  }

  /** USER_SRP_AUTH: the PASSWORD_VERIFIER challenge (password-verifier.ts). */
  function srpSignIn(pool: PoolState, client: ClientRecord, parameters: Record<string, string>) {
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
      nowSeconds: epochSeconds(now()),
    });
  }

  /**
   * AdminRespondToAuthChallenge: RespondToAuthChallenge for a client of the named pool.
   * `UserPoolId` is required (API reference) and must be the client's pool, as AdminInitiateAuth
   * checks it; a session sealed by another pool does not open here.
   */
  async function adminRespondToAuthChallenge(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const { client } = requireClient(requireString(input, "ClientId"));
    if (client.poolId !== pool.record.id) {
      throw new CognitoIdpError(
        "ResourceNotFoundException",
        `User pool client ${client.clientId} does not exist.`,
      );
    }
    return respondToAuthChallenge(input);
  }

  async function respondToAuthChallenge(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
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
      if (session.exp <= epochSeconds(now())) throw notAuthorized(SESSION_EXPIRED);
      // The same secret block and signature answered twice: refused, as Cognito's sessions are
      // single-use. Spent on the first answer, right or wrong.
      if (spentSessions.has(session.j)) throw notAuthorized(SESSION_SPENT);
      spendSession(session);
      const user = session.fake ? undefined : findUser(pool, session.u);
      if (!user?.srp) throw notAuthorized();
      if (findUser(pool, claim.username)?.username !== user.username) throw notAuthorized();
      assertNotLockedOut(pool, user);
      if (!passwordClaimMatches(session, user.srp.verifier, claim)) {
        recordFailedSignIn(pool, user);
        throw notAuthorized();
      }
      failedSignIns.delete(`${pool.record.id}/${user.username}`);
      return completeSignIn(pool, client, user, clientMetadata);
    }
    if (challengeName === "NEW_PASSWORD_REQUIRED") {
      const session = unseal<NewPasswordSession>(
        pool.keys.sealKey,
        requireString(input, "Session"),
      );
      if (session?.t !== "new-password" || session.c !== client.clientId) {
        throw notAuthorized(SESSION_INVALID);
      }
      if (session.exp <= epochSeconds(now())) {
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
        if (name.startsWith("userAttributes."))
          updates[name.slice("userAttributes.".length)] = value;
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
      putUser(pool, user);
      return (
        mfaChallenge(pool, client, user, "TokenGeneration_NewPasswordChallenge") ?? {
          ChallengeParameters: {},
          AuthenticationResult: await issueTokens(
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
      return respondToMfaChallenge(pool, client, challengeName, input, responses);
    }
    throw invalidParameter(
      `ChallengeName ${challengeName} is not supported by the local user pool.`,
    );
  }

  function getUser(input: Input) {
    const { client, user } = authenticateAccessToken(requireString(input, "AccessToken"));
    return {
      Username: user.username,
      UserAttributes: toAttributeList(readableAttributes(client, userAttributes(user))),
      MFAOptions: [],
      ...mfaSettings(user),
    };
  }

  function updateUserAttributes(input: Input) {
    const { pool, client, user } = authenticateAccessToken(requireString(input, "AccessToken"));
    const updates = attributeList(input.UserAttributes);
    enforceWriteAttributes(client, updates);
    return changeAttributes(pool, user, updates);
  }

  /** Attribute changes (self-service or admin): a new email is unverified until its code. */
  function changeAttributes(pool: PoolState, user: UserRecord, updates: Record<string, string>) {
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
        throttleSends(pool, user);
        code = issueCode(pool, user, "verify-email", SIGNUP_CODE_MS);
      }
    }
    putUser(pool, user);
    if (code) {
      const delivery = deliver(pool, user, "verify-email", code);
      if (delivery) deliveries.push(delivery);
    }
    return { CodeDeliveryDetailsList: deliveries };
  }

  function verifyUserAttribute(input: Input) {
    const { pool, user } = authenticateAccessToken(requireString(input, "AccessToken"));
    const attribute = requireString(input, "AttributeName");
    if (attribute !== "email") throw invalidParameter(`Cannot verify attribute ${attribute}.`);
    consumeCode(pool, user, "verify-email", requireString(input, "Code"));
    user.attributes.email_verified = "true";
    putUser(pool, user);
    return {};
  }

  function forgotPassword(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
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
    throttleSends(pool, user);
    const code = issueCode(pool, user, "reset", RESET_CODE_MS);
    putUser(pool, user);
    return { CodeDeliveryDetails: deliver(pool, user, "reset", code) };
  }

  async function confirmForgotPassword(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
    const found = findUser(pool, requireString(input, "Username"));
    const code = requireString(input, "ConfirmationCode");
    const password = requireString(input, "Password");
    if (!found) {
      if (client.definition.PreventUserExistenceErrors === "ENABLED") {
        throw new CognitoIdpError("CodeMismatchException", CODE_MISMATCH);
      }
      throw userNotFound();
    }
    enforcePasswordPolicy(password, pool.policy);
    const secrets = await passwordSecrets(pool, found.username, password);
    const user = redraft(pool, found.username);
    consumeCode(pool, user, "reset", code);
    Object.assign(user, secrets);
    if (user.status === "RESET_REQUIRED" || user.status === "FORCE_CHANGE_PASSWORD") {
      user.status = "CONFIRMED";
    }
    putUser(pool, user);
    await runPostConfirmation(
      pool,
      "PostConfirmation_ConfirmForgotPassword",
      user,
      client.clientId,
      stringMap(input.ClientMetadata),
    );
    return {};
  }

  async function changePassword(input: Input) {
    const { pool, user: found } = authenticateAccessToken(requireString(input, "AccessToken"));
    const previous = requireString(input, "PreviousPassword");
    const proposed = requireString(input, "ProposedPassword");
    if (!found.passwordHash || !(await verifyPassword(previous, found.passwordHash))) {
      throw notAuthorized();
    }
    enforcePasswordPolicy(proposed, pool.policy);
    const secrets = await passwordSecrets(pool, found.username, proposed);
    const user = redraft(pool, found.username);
    Object.assign(user, secrets);
    putUser(pool, user);
    return {};
  }

  function globalSignOut(input: Input) {
    const { pool, user } = authenticateAccessToken(requireString(input, "AccessToken"));
    user.signedOutAt = now();
    putUser(pool, user);
    return {};
  }

  function revokeToken(input: Input) {
    const { client, pool } = requireClient(requireString(input, "ClientId"));
    const payload = unseal<RefreshPayload>(pool.keys.sealKey, requireString(input, "Token"));
    if (payload?.t !== "refresh") {
      throw new CognitoIdpError(
        "UnsupportedTokenTypeException",
        "The token is not a refresh token.",
      );
    }
    if (payload.c !== client.clientId) {
      throw new CognitoIdpError("UnauthorizedException", "Token does not belong to the client");
    }
    if (!pool.revoked.has(payload.o)) {
      journal.commit({
        op: "revoke",
        poolId: pool.record.id,
        originJti: payload.o,
        expires: payload.exp,
      });
    }
    return {};
  }

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

  async function adminCreateUser(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
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
        throw new CognitoIdpError(
          "UnsupportedUserStateException",
          "User is not in FORCE_CHANGE_PASSWORD state.",
        );
      }
      Object.assign(user, secrets);
      user.temporaryPasswordExpires =
        now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000;
      putUser(pool, user);
      deliver(pool, user, "invitation", temporary);
      return { User: userShape(user, "Attributes") };
    }
    assertNewUserIsFree(pool, username, withLogin, "admin");
    const given = optionalString(input, "TemporaryPassword");
    if (given) enforcePasswordPolicy(given, pool.policy);
    // Flags in the response are ignored for AdminCreateUser, as in Cognito.
    await runPreSignUp(
      pool,
      "PreSignUp_AdminCreateUser",
      triggerContext(pool, username, ADMIN_CLIENT),
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
      created: now(),
      modified: now(),
      temporaryPasswordExpires: now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000,
      groups: [],
      codes: [],
      identities: [],
    };
    Object.assign(user, await passwordSecrets(pool, username, temporary));
    // The trigger and the hash ran asynchronously: someone may have taken the name meanwhile.
    assertNewUserIsFree(pool, username, withLogin, "admin");
    putUser(pool, user);
    if (messageAction !== "SUPPRESS") deliver(pool, user, "invitation", temporary);
    return { User: userShape(user, "Attributes") };
  }

  async function adminSetUserPassword(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
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
        now() + pool.policy.TemporaryPasswordValidityDays * 86_400_000;
    }
    putUser(pool, user);
    return {};
  }

  function adminUpdateUserAttributes(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    return changeAttributes(pool, user, attributeList(input.UserAttributes));
  }

  function adminGetUser(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    return { ...userShape(user, "UserAttributes"), MFAOptions: [], ...mfaSettings(user) };
  }

  async function adminConfirmSignUp(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    if (user.status !== "UNCONFIRMED") {
      throw notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
    }
    user.status = "CONFIRMED";
    user.codes = user.codes.filter((code) => code.kind !== "signup");
    putUser(pool, user);
    await runPostConfirmation(
      pool,
      "PostConfirmation_ConfirmSignUp",
      user,
      ADMIN_CLIENT,
      stringMap(input.ClientMetadata),
    );
    return {};
  }

  function requireGroup(pool: PoolState, name: string): GroupRecord {
    const group = pool.groups.get(name);
    if (!group) throw new CognitoIdpError("ResourceNotFoundException", "Group not found.");
    return group;
  }

  function groupShape(group: GroupRecord) {
    return {
      GroupName: group.GroupName,
      UserPoolId: group.poolId,
      ...(group.Description ? { Description: group.Description } : {}),
      ...(group.RoleArn ? { RoleArn: group.RoleArn } : {}),
      ...(group.Precedence !== undefined ? { Precedence: group.Precedence } : {}),
      LastModifiedDate: epochSeconds(group.modified),
      CreationDate: epochSeconds(group.created),
    };
  }

  function adminAddUserToGroup(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const group = requireGroup(pool, requireString(input, "GroupName"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    if (!user.groups.includes(group.GroupName)) {
      user.groups.push(group.GroupName);
      putUser(pool, user);
    }
    return {};
  }

  function adminRemoveUserFromGroup(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const group = requireGroup(pool, requireString(input, "GroupName"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    if (user.groups.includes(group.GroupName)) {
      user.groups = user.groups.filter((name) => name !== group.GroupName);
      putUser(pool, user);
    }
    return {};
  }

  function adminListGroupsForUser(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    return { Groups: sortedGroups(pool, user).map(groupShape) };
  }

  function adminDeleteUser(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    journal.commit({ op: "deleteUser", poolId: pool.record.id, username: user.username });
    return {};
  }

  function adminSetEnabled(input: Input, enabled: boolean) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    user.enabled = enabled;
    putUser(pool, user);
    return {};
  }

  function adminUserGlobalSignOut(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const user = draft(requireUser(pool, requireString(input, "Username")));
    user.signedOutAt = now();
    putUser(pool, user);
    return {};
  }

  function adminLinkProviderForUser(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
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
          (identity) =>
            identity.providerName === providerName && identity.userId === providerUserId,
        )
      ) {
        throw new CognitoIdpError(
          "AliasExistsException",
          "SourceUser is already linked to a user.",
        );
      }
    }
    if (findUser(pool, `${providerName}_${providerUserId}`)) {
      throw invalidParameter(
        "Merging is not currently supported, provide a SourceUser that does not exist in the system or use deleteUser to remove the SourceUser",
      );
    }
    if (user.identities.length >= MAX_LINKED_IDENTITIES) {
      throw new CognitoIdpError(
        "LimitExceededException",
        `A user can be linked to at most ${MAX_LINKED_IDENTITIES} external identities.`,
      );
    }
    const identity: LinkedIdentity = {
      providerName,
      providerType: providerType(providerName),
      userId: providerUserId,
      dateCreated: now(),
    };
    user.identities.push(identity);
    putUser(pool, user);
    return {};
  }

  function providerType(providerName: string): string {
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

  function listUsers(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
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

  function listGroups(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const all = [...pool.groups.values()].sort((a, b) => a.GroupName.localeCompare(b.GroupName));
    const limit = typeof input.Limit === "number" ? Math.min(Math.max(input.Limit, 1), 60) : 60;
    const start = Number(optionalString(input, "NextToken") ?? "0") || 0;
    return {
      Groups: all.slice(start, start + limit).map(groupShape),
      ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}),
    };
  }

  /**
   * A page of a listing, as Cognito pages: `MaxResults` (1 to 60; required where the API requires
   * it) and an opaque `NextToken`, here the offset into the sorted listing.
   */
  function page<T>(input: Input, all: readonly T[], maxRequired: boolean) {
    const max = input.MaxResults;
    if (max === undefined && maxRequired) {
      throw invalidParameter(
        "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
      );
    }
    if (
      max !== undefined &&
      (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 60)
    ) {
      throw invalidParameter(
        "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60",
      );
    }
    const limit = typeof max === "number" ? max : 60;
    const token = optionalString(input, "NextToken");
    const start = token === undefined ? 0 : Number(token);
    if (!Number.isInteger(start) || start < 0 || start > all.length) {
      throw invalidParameter("Invalid pagination token.");
    }
    const items = all.slice(start, start + limit);
    return {
      items,
      nextToken: start + limit < all.length ? String(start + limit) : undefined,
    };
  }

  function listUserPools(input: Input) {
    const all = [...pools.values()].sort((a, b) => a.record.id.localeCompare(b.record.id));
    const { items, nextToken } = page(input, all, true);
    return {
      UserPools: items.map((pool) => ({
        Id: pool.record.id,
        Name: pool.record.name,
        LambdaConfig: pool.record.definition.LambdaConfig ?? {},
        CreationDate: epochSeconds(pool.record.created),
        LastModifiedDate: epochSeconds(pool.record.created),
      })),
      ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    };
  }

  function listUserPoolClients(input: Input) {
    const pool = requirePool(requireString(input, "UserPoolId"));
    const all = [...clients.values()]
      .filter((client) => client.poolId === pool.record.id)
      .sort((a, b) => a.clientId.localeCompare(b.clientId));
    const { items, nextToken } = page(input, all, false);
    return {
      UserPoolClients: items.map((client) => ({
        ClientId: client.clientId,
        UserPoolId: client.poolId,
        ClientName: client.definition.ClientName ?? client.clientId,
      })),
      ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
    };
  }

  function createUserPoolOperation(input: Input) {
    const { PoolName, ...rest } = input as Input & { PoolName?: string };
    const created = createUserPool({
      ...(rest as UserPoolDefinition),
      UserPoolName: requireString({ PoolName }, "PoolName"),
    });
    return { UserPool: describePool(requirePool(created.Id)) };
  }

  function describePool(pool: PoolState) {
    const def = pool.record.definition;
    return {
      Id: pool.record.id,
      Name: pool.record.name,
      Arn: poolArn(pool.record.id),
      CreationDate: epochSeconds(pool.record.created),
      LastModifiedDate: epochSeconds(pool.record.created),
      Policies: { PasswordPolicy: pool.policy },
      LambdaConfig: def.LambdaConfig ?? {},
      ...(def.UsernameAttributes ? { UsernameAttributes: def.UsernameAttributes } : {}),
      ...(def.AliasAttributes ? { AliasAttributes: def.AliasAttributes } : {}),
      AutoVerifiedAttributes: def.AutoVerifiedAttributes ?? [],
      UsernameConfiguration: { CaseSensitive: def.UsernameConfiguration?.CaseSensitive !== false },
      UserPoolTier: def.UserPoolTier ?? "ESSENTIALS",
      MfaConfiguration: def.MfaConfiguration ?? "OFF",
      EstimatedNumberOfUsers: pool.users.size,
    };
  }

  function describeClient(client: ClientRecord) {
    const def = client.definition;
    const validity = tokenValidity(def);
    return {
      UserPoolId: client.poolId,
      ClientId: client.clientId,
      ClientName: def.ClientName ?? client.clientId,
      CreationDate: epochSeconds(client.created),
      LastModifiedDate: epochSeconds(client.created),
      ExplicitAuthFlows: def.ExplicitAuthFlows?.length ? def.ExplicitAuthFlows : DEFAULT_FLOWS,
      ...(def.ReadAttributes ? { ReadAttributes: def.ReadAttributes } : {}),
      ...(def.WriteAttributes ? { WriteAttributes: def.WriteAttributes } : {}),
      AccessTokenValidity: validity.access,
      IdTokenValidity: validity.id,
      RefreshTokenValidity: validity.refresh,
      TokenValidityUnits: { AccessToken: "seconds", IdToken: "seconds", RefreshToken: "seconds" },
      PreventUserExistenceErrors: def.PreventUserExistenceErrors ?? "LEGACY",
      EnableTokenRevocation: def.EnableTokenRevocation ?? true,
    };
  }

  function createUserPoolClientOperation(input: Input) {
    const poolId = requireString(input, "UserPoolId");
    const { UserPoolId: _, ...definition } = input;
    const created = createUserPoolClient(poolId, definition as UserPoolClientDefinition);
    const client = clients.get(created.ClientId);
    return { UserPoolClient: client ? describeClient(client) : created };
  }

  async function signInWithExternalProvider(
    poolId: string,
    clientId: string,
    external: ExternalSignInInput,
  ): Promise<AuthenticationResult> {
    const pool = requirePool(poolId);
    const { client } = requireClient(clientId);
    const linked = [...pool.users.values()].find((user) =>
      user.identities.some(
        (identity) =>
          identity.providerName === external.providerName &&
          identity.userId === external.providerUserId,
      ),
    );
    // Cognito names federated users `<provider>_<subject>` with the provider part lowercased
    // (`google_1049…` for `Google`); core's provider resolution relies on that spelling.
    const username = `${external.providerName.toLowerCase()}_${external.providerUserId}`;
    let user = linked ?? findUser(pool, username);
    if (!user) {
      const attributes = { ...(external.attributes ?? {}) };
      const flags = await runPreSignUp(
        pool,
        "PreSignUp_ExternalProvider",
        triggerContext(pool, username, clientId),
        {
          userAttributes: {
            ...attributes,
            "cognito:email_alias": "",
            "cognito:phone_number_alias": "",
          },
          validationData: {},
        },
      );
      if (flags?.autoVerifyEmail && attributes.email) attributes.email_verified = "true";
      if (flags?.autoVerifyPhone && attributes.phone_number) {
        attributes.phone_number_verified = "true";
      }
      user = {
        username,
        attributes: { sub: randomUUID(), ...attributes },
        status: "EXTERNAL_PROVIDER",
        enabled: true,
        created: now(),
        modified: now(),
        groups: [],
        codes: [],
        identities: [
          {
            providerName: external.providerName,
            providerType: providerType(external.providerName),
            userId: external.providerUserId,
            dateCreated: now(),
            primary: true,
          },
        ],
      };
      // Cognito puts every federated user in a group named after the pool and provider.
      const providerGroup = `${pool.record.id}_${external.providerName}`;
      if (!pool.groups.has(providerGroup))
        createGroup(pool.record.id, { GroupName: providerGroup });
      user.groups.push(providerGroup);
      putUser(pool, user);
      await runPostConfirmation(pool, "PostConfirmation_ConfirmSignUp", user, clientId, undefined);
    }
    if (!user.enabled) throw notAuthorized("User is disabled.");
    return issueTokens(pool, client, user, "TokenGeneration_HostedAuth");
  }

  function outbox(filter: { email?: string; username?: string; poolId?: string } = {}) {
    return outboxMessages.filter(
      (message) =>
        (!filter.email ||
          (message.attribute === "email" &&
            message.destination.toLowerCase() === filter.email.toLowerCase())) &&
        (!filter.username || message.username === filter.username) &&
        (!filter.poolId || message.poolId === filter.poolId),
    );
  }

  async function isTokenActive(input: {
    issuer: string;
    claims: Record<string, unknown>;
  }): Promise<boolean> {
    const poolId = input.issuer.replace(/\/+$/, "").split("/").pop() ?? "";
    const pool = pools.get(poolId);
    const { claims } = input;
    const username = claims["cognito:username"] ?? claims.username;
    if (!pool || typeof username !== "string" || typeof claims.origin_jti !== "string") {
      return false;
    }
    const user = findUser(pool, username);
    if (!user?.enabled || user.attributes.sub !== claims.sub) return false;
    return !isRevoked(pool, user, claims.origin_jti, Number(claims.iat));
  }

  // ---------------------------------------------------------------- dispatch

  const operations: Record<string, (input: Input) => object | Promise<object>> = {
    SignUp: signUp,
    ConfirmSignUp: confirmSignUp,
    ResendConfirmationCode: resendConfirmationCode,
    InitiateAuth: initiateAuth,
    GetTokensFromRefreshToken: getTokensFromRefreshToken,
    RespondToAuthChallenge: respondToAuthChallenge,
    GetUser: getUser,
    AssociateSoftwareToken: associateSoftwareToken,
    VerifySoftwareToken: verifySoftwareToken,
    SetUserMFAPreference: (input) => {
      const { pool, user } = authenticateAccessToken(requireString(input, "AccessToken"));
      return setMfaPreference(pool, user, input);
    },
    AdminSetUserMFAPreference: (input) => {
      const pool = requirePool(requireString(input, "UserPoolId"));
      const user = draft(requireUser(pool, requireString(input, "Username")));
      return setMfaPreference(pool, user, input);
    },
    GetUserPoolMfaConfig: getUserPoolMfaConfig,
    SetUserPoolMfaConfig: setUserPoolMfaConfig,
    UpdateUserAttributes: updateUserAttributes,
    VerifyUserAttribute: verifyUserAttribute,
    ForgotPassword: forgotPassword,
    ConfirmForgotPassword: confirmForgotPassword,
    ChangePassword: changePassword,
    GlobalSignOut: globalSignOut,
    RevokeToken: revokeToken,
    AdminCreateUser: adminCreateUser,
    AdminGetUser: adminGetUser,
    AdminInitiateAuth: adminInitiateAuth,
    AdminRespondToAuthChallenge: adminRespondToAuthChallenge,
    AdminSetUserPassword: adminSetUserPassword,
    AdminUpdateUserAttributes: adminUpdateUserAttributes,
    AdminConfirmSignUp: adminConfirmSignUp,
    AdminAddUserToGroup: adminAddUserToGroup,
    AdminRemoveUserFromGroup: adminRemoveUserFromGroup,
    AdminListGroupsForUser: adminListGroupsForUser,
    AdminDeleteUser: adminDeleteUser,
    AdminDisableUser: (input) => adminSetEnabled(input, false),
    AdminEnableUser: (input) => adminSetEnabled(input, true),
    AdminUserGlobalSignOut: adminUserGlobalSignOut,
    AdminLinkProviderForUser: adminLinkProviderForUser,
    ListUsers: listUsers,
    CreateGroup: (input) => ({
      Group: groupShape(
        createGroup(requireString(input, "UserPoolId"), {
          GroupName: requireString(input, "GroupName"),
          RoleArn: optionalString(input, "RoleArn"),
          Precedence: typeof input.Precedence === "number" ? input.Precedence : undefined,
          Description: optionalString(input, "Description"),
        }),
      ),
    }),
    ListGroups: listGroups,
    CreateUserPool: createUserPoolOperation,
    DescribeUserPool: (input) => ({
      UserPool: describePool(requirePool(requireString(input, "UserPoolId"))),
    }),
    ListUserPools: listUserPools,
    CreateUserPoolClient: createUserPoolClientOperation,
    ListUserPoolClients: listUserPoolClients,
    DescribeUserPoolClient: (input) => {
      const { client } = requireClient(requireString(input, "ClientId"));
      if (client.poolId !== input.UserPoolId) {
        throw new CognitoIdpError(
          "ResourceNotFoundException",
          `User pool client ${client.clientId} does not exist.`,
        );
      }
      return { UserPoolClient: describeClient(client) };
    },
  };

  async function handleJwksPath(request: ServiceRequest): Promise<ServiceResponse> {
    const match = /^\/([^/]+)\/\.well-known\/(jwks\.json|openid-configuration)$/.exec(request.path);
    const pool = match ? pools.get(match[1] ?? "") : undefined;
    if (!match || !pool) {
      return {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "User pool not found" }),
      };
    }
    const body =
      match[2] === "jwks.json"
        ? { keys: [pool.keys.publicJwk] }
        : openIdConfiguration(issuer(pool.record.id));
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    };
  }

  return {
    name: "cognito-idp",

    async handle(request: ServiceRequest): Promise<ServiceResponse> {
      if (request.method === "GET") return handleJwksPath(request);
      const target = request.headers["x-amz-target"] ?? "";
      const operationName = target.split(".")[1] ?? "";
      const operation = operations[operationName];
      try {
        if (!operation) {
          throw new CognitoIdpError(
            "UnknownOperationException",
            `The local user pool does not implement ${operationName || "this operation"}.`,
          );
        }
        let input: Input;
        try {
          const parsed: unknown = JSON.parse(request.body.toString("utf8") || "{}");
          input = parsed && typeof parsed === "object" ? (parsed as Input) : {};
        } catch (cause) {
          throw new CognitoIdpError("SerializationException", "Request body is not valid JSON.", {
            cause,
          });
        }
        return jsonResponse(await operation(input));
      } catch (error) {
        if (error instanceof CognitoIdpError) return errorResponse(error);
        throw error;
      }
    },

    async control(path: string, query: URLSearchParams): Promise<ServiceResponse> {
      if (path === "codes") {
        const codes = outbox({
          email: query.get("email") ?? undefined,
          username: query.get("username") ?? undefined,
          poolId: query.get("poolId") ?? undefined,
        });
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ codes }),
        };
      }
      return {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: `No cognito-idp control endpoint ${path}` }),
      };
    },

    async reset() {
      pools.clear();
      clients.clear();
      outboxMessages.length = 0;
      codeAttempts.clear();
      codeSends.clear();
      failedSignIns.clear();
      spentTotpSteps.clear();
      spentSessions.clear();
      mfaSessionFailures.clear();
      journal.reset();
    },

    async close() {
      journal.close();
    },

    createUserPool,
    createUserPoolClient: (poolId, definition) => createUserPoolClient(poolId, definition),
    createGroup: (poolId, definition) => createGroup(poolId, definition),
    putUserPool,
    putUserPoolClient: (poolId, clientId, definition) =>
      createUserPoolClient(poolId, definition, clientId),
    putGroup: (poolId, definition) => createGroup(poolId, definition, true),
    issuer,
    jwks(poolId: string) {
      return { keys: [requirePool(poolId).keys.publicJwk] };
    },
    outbox,
    signInWithExternalProvider,
    isTokenActive,
  };
}
