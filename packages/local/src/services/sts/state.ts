/**
 * The roles, issuers' signing keys and issued credentials in memory, and their journal
 * (`<dataDir>/sts`): credentials handed out survive a restart, so the edge still knows who signs.
 */
import { Journal } from "../../journal";
import type { Jwks } from "./jwt";
import {
  type IssuedCredentials,
  KEEP_EXPIRED_MS,
  type Role,
  roleName,
  type StsJournalRecord,
} from "./model";
import { parseTrustPolicy } from "./trust";

interface StsStateOptions {
  accountId: string;
  dataDir?: string;
  compactAfter?: number;
  now: () => number;
}

export class StsState {
  readonly roles = new Map<string, Role>();
  readonly jwksByProvider = new Map<string, Jwks>();
  /** By access key id. */
  readonly credentials = new Map<string, IssuedCredentials>();
  readonly accountId: string;
  readonly now: () => number;
  readonly #journal: Journal<StsJournalRecord>;

  constructor(options: StsStateOptions) {
    this.accountId = options.accountId;
    this.now = options.now;
    this.#journal = Journal.open<StsJournalRecord>(
      {
        dataDir: options.dataDir,
        name: "sts",
        snapshot: () => this.#snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.#apply(record),
    );
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: StsJournalRecord): void {
    this.#journal.commit(record);
  }

  reset(): void {
    this.roles.clear();
    this.jwksByProvider.clear();
    this.credentials.clear();
    this.#journal.reset();
  }

  close(): void {
    this.#journal.close();
  }

  #apply(record: StsJournalRecord): void {
    switch (record.op) {
      case "putRole": {
        const { arn, trustPolicy, maxSessionDuration } = record.role;
        this.roles.set(arn, {
          arn,
          name: roleName(arn),
          trustPolicy,
          statements: parseTrustPolicy(trustPolicy),
          maxSessionDuration,
        });
        break;
      }
      case "registerJwks":
        this.jwksByProvider.set(record.provider, record.jwks);
        break;
      case "issue":
        this.credentials.set(record.credentials.accessKeyId, record.credentials);
        break;
    }
  }

  /** Roles and keys, and credentials until a day past their expiry. */
  #snapshot(): StsJournalRecord[] {
    const out: StsJournalRecord[] = [];
    for (const r of this.roles.values()) {
      out.push({
        op: "putRole",
        role: { arn: r.arn, trustPolicy: r.trustPolicy, maxSessionDuration: r.maxSessionDuration },
      });
    }
    for (const [provider, jwks] of this.jwksByProvider) {
      out.push({ op: "registerJwks", provider, jwks });
    }
    const cutoff = this.now() - KEEP_EXPIRED_MS;
    for (const c of this.credentials.values()) {
      if (Date.parse(c.expiration) > cutoff) out.push({ op: "issue", credentials: c });
    }
    return out;
  }
}
