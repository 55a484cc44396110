/**
 * The keys and aliases in memory and their journal (`<dataDir>/kms`): every change is one record,
 * written and fsynced before it is applied, so a key KMS has answered for survives kill -9.
 */

import { Journal } from "../../journal";
import { AwsServiceError } from "../../protocol/errors";
import {
  type Body,
  type KmsJournalRecord,
  type StoredAlias,
  type StoredKey,
  UUID,
  validation,
} from "./model";

interface KmsStateOptions {
  region: string;
  accountId: string;
  dataDir?: string;
  compactAfter?: number;
  now: () => number;
}

export class KmsState {
  readonly keys = new Map<string, StoredKey>();
  readonly aliases = new Map<string, StoredAlias>();
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
  readonly #journal: Journal<KmsJournalRecord>;

  constructor(options: KmsStateOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.now = options.now;
    this.#journal = Journal.open<KmsJournalRecord>(
      {
        dataDir: options.dataDir,
        name: "kms",
        snapshot: () => this.#snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.#apply(record),
    );
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: KmsJournalRecord): void {
    this.#journal.commit(record);
  }

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }

  /** Key id, key ARN, alias name or alias ARN, as every KMS operation accepts. */
  resolveKey(value: unknown, field = "keyId"): StoredKey {
    if (typeof value !== "string" || value.length === 0 || value.length > 2048) {
      throw validation(`Value at '${field}' failed to satisfy constraint: Member must not be null`);
    }
    const arn = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/.exec(value);
    let resource = value;
    if (arn) {
      if (arn[1] !== this.region || arn[2] !== this.accountId) {
        throw new AwsServiceError("NotFoundException", `Invalid arn ${value}`);
      }
      resource = arn[3]!;
    }
    if (resource.startsWith("alias/")) {
      const alias = this.aliases.get(resource);
      const key = alias && this.keys.get(alias.targetKeyId);
      if (!key)
        throw new AwsServiceError(
          "NotFoundException",
          `Alias ${this.aliasArn(resource)} is not found.`,
        );
      return key;
    }
    const keyId = resource.startsWith("key/") ? resource.slice(4) : resource;
    if (!UUID.test(keyId)) throw new AwsServiceError("NotFoundException", `Invalid keyId ${value}`);
    const key = this.keys.get(keyId);
    if (!key)
      throw new AwsServiceError("NotFoundException", `Key '${this.keyArn(keyId)}' does not exist`);
    return key;
  }

  reset(): void {
    this.keys.clear();
    this.aliases.clear();
    this.#journal.reset();
  }

  close(): void {
    this.#journal.close();
  }

  #apply(record: KmsJournalRecord): void {
    switch (record.op) {
      case "createKey":
        this.keys.set(record.key.keyId, record.key);
        break;
      case "setEnabled": {
        const key = this.keys.get(record.keyId);
        if (key) key.enabled = record.enabled;
        break;
      }
      case "putAlias":
        this.aliases.set(record.alias.aliasName, record.alias);
        break;
      case "deleteAlias":
        this.aliases.delete(record.aliasName);
        break;
    }
  }

  #snapshot(): KmsJournalRecord[] {
    return [
      ...[...this.keys.values()].map((key): KmsJournalRecord => ({ op: "createKey", key })),
      ...[...this.aliases.values()].map((alias): KmsJournalRecord => ({ op: "putAlias", alias })),
    ];
  }
}

/** An operation by its AWS name: reads the state, commits its changes, returns the output. */
export type KmsOperation = (state: KmsState, body: Body) => unknown;
