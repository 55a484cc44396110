/**
 * The identity pools' state: pools, identities, their logins, merges and disabled flags, and the
 * OpenID signing key. Kept in memory and described as journal records (`../../journal`), so every
 * change is fsynced before it is applied and everything survives a restart.
 *
 * The store only records decisions; whether a login may be linked or two identities merged is
 * decided by the service (index.ts).
 */
import { randomUUID } from "node:crypto";
import { Journal } from "../../journal";
import { generateSigningKey, type SigningKeyRecord } from "./openid-tokens";
import type { IdentityPoolState } from "./pools";

export interface LoginRef {
  provider: string;
  userId: string;
}

export interface IdentityState {
  id: string;
  poolId: string;
  created: number;
  lastModified: number;
  /**
   * By provider and user. Public providers have one user per identity; a developer provider may
   * have several (MergeDeveloperIdentities joins two developer users into one identity).
   */
  logins: Map<string, LoginRef>;
  disabled: boolean;
  /** Set on an identity disabled by a merge: the parent that now owns its logins. */
  mergedInto?: string;
}

type JournalRecord =
  | { op: "key"; key: SigningKeyRecord }
  | { op: "pool"; pool: IdentityPoolState }
  | { op: "identity"; id: string; poolId: string; at: number }
  | { op: "link"; id: string; provider: string; userId: string; at: number }
  /** Removes every login of `provider` from the identity. */
  | { op: "unlink"; id: string; provider: string; at: number }
  | { op: "merge"; parent: string; child: string; at: number }
  | { op: "disable"; id: string; mergedInto?: string; at: number };

export interface IdentityStore {
  readonly pools: ReadonlyMap<string, IdentityPoolState>;
  readonly identities: ReadonlyMap<string, IdentityState>;
  /** The identity a login is linked to in a pool, if any. */
  ownerOf(poolId: string, login: LoginRef): string | undefined;
  /** The OpenID signing key, created (and persisted) on first use. */
  signingKey(): SigningKeyRecord;
  putPool(pool: IdentityPoolState): void;
  createIdentity(poolId: string): IdentityState;
  link(identityId: string, login: LoginRef): void;
  unlinkProvider(identityId: string, provider: string): void;
  /** Moves every login of `childId` to `parentId` and disables the child. */
  merge(parentId: string, childId: string): void;
  disable(identityId: string): void;
  reset(): void;
  close(): void;
}

export function openIdentityStore(options: {
  region: string;
  dataDir?: string;
  now: () => number;
}): IdentityStore {
  const { now } = options;
  const pools = new Map<string, IdentityPoolState>();
  const identities = new Map<string, IdentityState>();
  /** `<poolId> <provider> <userId>` → identity id. */
  const owners = new Map<string, string>();
  let key: SigningKeyRecord | undefined;

  const ownerKey = (poolId: string, login: LoginRef) =>
    `${poolId}\u0000${login.provider}\u0000${login.userId}`;
  const loginKey = (login: LoginRef) => `${login.provider}\u0000${login.userId}`;

  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "key":
        key = record.key;
        break;
      case "pool":
        pools.set(record.pool.IdentityPoolId, record.pool);
        break;
      case "identity":
        identities.set(record.id, {
          id: record.id,
          poolId: record.poolId,
          created: record.at,
          lastModified: record.at,
          logins: new Map(),
          disabled: false,
        });
        break;
      case "link": {
        const identity = identities.get(record.id);
        if (!identity) break;
        const login = { provider: record.provider, userId: record.userId };
        identity.logins.set(loginKey(login), login);
        identity.lastModified = record.at;
        owners.set(ownerKey(identity.poolId, login), identity.id);
        break;
      }
      case "unlink": {
        const identity = identities.get(record.id);
        if (!identity) break;
        for (const [k, login] of identity.logins) {
          if (login.provider !== record.provider) continue;
          identity.logins.delete(k);
          owners.delete(ownerKey(identity.poolId, login));
        }
        identity.lastModified = record.at;
        break;
      }
      case "merge": {
        const parent = identities.get(record.parent);
        const child = identities.get(record.child);
        if (!parent || !child) break;
        for (const [k, login] of child.logins) {
          parent.logins.set(k, login);
          owners.set(ownerKey(parent.poolId, login), parent.id);
        }
        child.logins.clear();
        child.disabled = true;
        child.mergedInto = parent.id;
        child.lastModified = record.at;
        parent.lastModified = record.at;
        break;
      }
      case "disable": {
        const identity = identities.get(record.id);
        if (!identity) break;
        identity.disabled = true;
        if (record.mergedInto !== undefined) identity.mergedInto = record.mergedInto;
        identity.lastModified = record.at;
        break;
      }
    }
  }

  function snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [];
    if (key) out.push({ op: "key", key });
    for (const pool of pools.values()) out.push({ op: "pool", pool });
    for (const identity of identities.values()) {
      out.push({ op: "identity", id: identity.id, poolId: identity.poolId, at: identity.created });
      for (const login of identity.logins.values()) {
        out.push({ op: "link", id: identity.id, ...login, at: identity.lastModified });
      }
      if (identity.disabled) {
        const record: JournalRecord = { op: "disable", id: identity.id, at: identity.lastModified };
        if (identity.mergedInto !== undefined) record.mergedInto = identity.mergedInto;
        out.push(record);
      }
    }
    return out;
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "cognito-identity", snapshot },
    apply,
  );

  return {
    pools,
    identities,
    ownerOf: (poolId, login) => owners.get(ownerKey(poolId, login)),
    signingKey() {
      if (!key) journal.commit({ op: "key", key: generateSigningKey() });
      return key!;
    },
    putPool: (pool) => journal.commit({ op: "pool", pool }),
    createIdentity(poolId) {
      const id = `${options.region}:${randomUUID()}`;
      journal.commit({ op: "identity", id, poolId, at: now() });
      return identities.get(id)!;
    },
    link: (id, login) => journal.commit({ op: "link", id, ...login, at: now() }),
    unlinkProvider: (id, provider) => journal.commit({ op: "unlink", id, provider, at: now() }),
    merge: (parent, child) => journal.commit({ op: "merge", parent, child, at: now() }),
    disable: (id) => journal.commit({ op: "disable", id, at: now() }),
    reset() {
      pools.clear();
      identities.clear();
      owners.clear();
      key = undefined;
      journal.reset();
    },
    close: () => journal.close(),
  };
}

/** The identity's provider names, each once, in link order (DescribeIdentity's `Logins`). */
export function providersOf(identity: IdentityState): string[] {
  return [...new Set([...identity.logins.values()].map((login) => login.provider))];
}
