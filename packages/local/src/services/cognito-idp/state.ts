/**
 * The user pool's state: what is journaled (pools, clients, groups, users, revocations), the
 * memory-only bookkeeping (throttles, lockouts, spent sessions), the user lookups by name and
 * alias, and the one way a user changes (`putUser`, through the journal).
 *
 * Every mutation is journaled (append-only, fsync) under `dataDir`, so pools, keys and users
 * survive a restart and tokens issued before it still verify. Sign-ins write nothing: refresh
 * tokens and challenge sessions are sealed, self-contained blobs.
 */

import { Journal } from "../../journal";
import { AwsServiceError } from "../../protocol/errors";
import { notAuthorized, userNotFound } from "./errors";
import type {
  ClientRecord,
  GroupRecord,
  JournalRecord,
  OutboxMessage,
  PoolRecord,
  UserRecord,
} from "./model";
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "./passwords";
import { loadPoolKeys, type PoolKeys } from "./tokens";
import type { InvokeTrigger } from "./triggers";
import { epochSeconds } from "./wire";

export interface PoolState {
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

/**
 * Everything the operations share. Each module takes a `Pick` of it: only what it needs, so a
 * reader sees at the signature what an operation can touch.
 */
export interface UserPoolContext {
  region: string;
  /** Base of the issuer, e.g. `http://127.0.0.1:4566`: tokens carry `<endpoint>/<poolId>`. */
  endpoint: () => string;
  /** Clock (ms). */
  now: () => number;
  log: (line: string) => void;
  journal: Journal<JournalRecord>;
  pools: Map<string, PoolState>;
  clients: Map<string, ClientRecord>;
  /** Codes delivered so far, oldest first (memory only). */
  outboxMessages: OutboxMessage[];
  /** Failed code attempts and code sends per user (memory only: throttles reset on restart). */
  codeAttempts: Map<string, number>;
  codeSends: Map<string, number[]>;
  /** Consecutive wrong passwords per user, for Cognito's lockout (memory only). */
  failedSignIns: Map<string, { failures: number; lockedUntil: number }>;
  /**
   * Software token MFA bookkeeping (memory only, like the lockout): the last TOTP time step each
   * user spent (a code is refused for a step at or before it), the MFA sessions spent (id → expiry,
   * s) and the wrong codes each MFA session took.
   */
  spentTotpSteps: Map<string, number>;
  spentSessions: Map<string, number>;
  mfaSessionFailures: Map<string, number>;
  /** Runs a trigger; without it configured triggers are skipped. */
  invokeTrigger?: InvokeTrigger;
  /** Cognito's 5 s by default. */
  triggerTimeoutMs: number;
}

/** The state of the lookups and writes below: the journaled maps and the clock. */
export type StoreContext = Pick<UserPoolContext, "pools" | "clients" | "journal" | "now">;

export function openUserPoolContext(
  options: Omit<
    UserPoolContext,
    | "journal"
    | "pools"
    | "clients"
    | "outboxMessages"
    | "codeAttempts"
    | "codeSends"
    | "failedSignIns"
    | "spentTotpSteps"
    | "spentSessions"
    | "mfaSessionFailures"
  > & {
    dataDir?: string;
  },
): UserPoolContext {
  const { dataDir, ...rest } = options;
  const pools = new Map<string, PoolState>();
  const clients = new Map<string, ClientRecord>();
  const maps = { pools, clients, now: options.now };
  const journal = Journal.open<JournalRecord>(
    { dataDir, name: "cognito-idp", snapshot: () => snapshot(maps), compactAfter: 5000 },
    (record) => apply(maps, record),
  );
  return {
    ...rest,
    journal,
    pools,
    clients,
    outboxMessages: [],
    codeAttempts: new Map(),
    codeSends: new Map(),
    failedSignIns: new Map(),
    spentTotpSteps: new Map(),
    spentSessions: new Map(),
    mfaSessionFailures: new Map(),
  };
}

/** Forgets everything, on disk too (the control API's reset). */
export function resetUserPoolContext(state: UserPoolContext): void {
  state.pools.clear();
  state.clients.clear();
  state.outboxMessages.length = 0;
  state.codeAttempts.clear();
  state.codeSends.clear();
  state.failedSignIns.clear();
  state.spentTotpSteps.clear();
  state.spentSessions.clear();
  state.mfaSessionFailures.clear();
  state.journal.reset();
}

export function normalize(pool: PoolState, value: string): string {
  return pool.record.definition.UsernameConfiguration?.CaseSensitive === false
    ? value.toLowerCase()
    : value;
}

export function aliasKeys(pool: PoolState, user: UserRecord): string[] {
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

export function normalizeAlias(pool: PoolState, value: string): string {
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

function apply(state: Pick<UserPoolContext, "pools" | "clients">, record: JournalRecord): void {
  switch (record.op) {
    case "putPool": {
      const existing = state.pools.get(record.pool.id);
      const policy = {
        ...DEFAULT_PASSWORD_POLICY,
        ...record.pool.definition.Policies?.PasswordPolicy,
      };
      if (existing) {
        existing.record = record.pool;
        existing.policy = policy;
      } else {
        state.pools.set(record.pool.id, {
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
      state.clients.set(record.client.clientId, record.client);
      break;
    case "putGroup":
      state.pools.get(record.group.poolId)?.groups.set(record.group.GroupName, record.group);
      break;
    case "putUser": {
      const pool = state.pools.get(record.poolId);
      if (!pool) break;
      const key = normalize(pool, record.user.username);
      pool.users.set(key, record.user);
      indexUser(pool, record.user, key);
      break;
    }
    case "deleteUser": {
      const pool = state.pools.get(record.poolId);
      if (!pool) break;
      const key = normalize(pool, record.username);
      pool.users.delete(key);
      indexUser(pool, undefined, key);
      break;
    }
    case "revoke":
      state.pools.get(record.poolId)?.revoked.set(record.originJti, record.expires);
      break;
  }
}

function snapshot(state: Pick<UserPoolContext, "pools" | "clients" | "now">): JournalRecord[] {
  const records: JournalRecord[] = [];
  const nowSeconds = epochSeconds(state.now());
  for (const pool of state.pools.values()) {
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
  for (const client of state.clients.values()) records.push({ op: "putClient", client });
  return records;
}

export function requirePool(ctx: Pick<UserPoolContext, "pools">, poolId: string): PoolState {
  const pool = ctx.pools.get(poolId);
  if (!pool) {
    throw new AwsServiceError("ResourceNotFoundException", `User pool ${poolId} does not exist.`);
  }
  return pool;
}

export function requireClient(
  ctx: Pick<UserPoolContext, "pools" | "clients">,
  clientId: string,
): { client: ClientRecord; pool: PoolState } {
  const client = ctx.clients.get(clientId);
  const pool = client ? ctx.pools.get(client.poolId) : undefined;
  if (!client || !pool) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `User pool client ${clientId} does not exist.`,
    );
  }
  return { client, pool };
}

export function findUser(pool: PoolState, name: string): UserRecord | undefined {
  const direct = pool.users.get(normalize(pool, name));
  if (direct) return direct;
  for (const kind of ["email", "phone_number", "preferred_username"]) {
    const key = pool.aliases.get(`${kind}:${normalizeAlias(pool, name)}`);
    const user = key ? pool.users.get(key) : undefined;
    if (user) return user;
  }
  return undefined;
}

export function requireUser(pool: PoolState, name: string): UserRecord {
  const user = findUser(pool, name);
  if (!user) throw userNotFound();
  return user;
}

/** UserNotFoundException, or Cognito's generic failure when the client hides existence. */
export function missingUser(client: ClientRecord): AwsServiceError {
  return client.definition.PreventUserExistenceErrors === "ENABLED"
    ? notAuthorized()
    : userNotFound();
}

/**
 * A private copy of a user to change and then `putUser`: the live record only ever changes
 * through the journal, so a failure halfway through an operation leaves memory as on disk.
 */
export function draft<T extends UserRecord | undefined>(user: T): T {
  return user === undefined ? user : structuredClone(user);
}

export function putUser(
  ctx: Pick<UserPoolContext, "journal" | "now">,
  pool: PoolState,
  user: UserRecord,
): void {
  user.modified = ctx.now();
  ctx.journal.commit({ op: "putUser", poolId: pool.record.id, user });
}

/** The live user again, drafted, after an await (it may have changed or gone meanwhile). */
export function redraft(pool: PoolState, username: string): UserRecord {
  const user = draft(findUser(pool, username));
  if (!user) throw userNotFound();
  return user;
}
