/**
 * What the local KMS stores (keys, aliases, their journal records), its wire error and the
 * checks every key operation shares. KMS's documented limits are here too, so the operations read
 * the same numbers.
 */
import { AwsServiceError } from "../../protocol/errors";
import { JSON_1_1, type JsonErrorDialect } from "../../protocol/json";
import type { KeySpec, KeyUsage } from "./crypto";

/** Sign/Verify: a RAW message of at most 4096 bytes (KMS's documented limit). */
export const MAX_MESSAGE_BYTES = 4096;
/** Encrypt: at most 4096 bytes of plaintext with a symmetric key. */
export const MAX_PLAINTEXT_BYTES = 4096;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface KmsTag {
  TagKey: string;
  TagValue: string;
}

/**
 * The properties of an `AWS::KMS::Key` the template provisioner passes (CloudFormation spells
 * tags `{Key, Value}`; the API `{TagKey, TagValue}`: both are accepted). Defaults are
 * CloudFormation's: SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, enabled. KeyPolicy, rotation and the
 * pending window are accepted and ignored.
 */
export interface KmsKeyDefinition {
  KeySpec?: string;
  KeyUsage?: string;
  Description?: string;
  Enabled?: boolean;
  Tags?: ReadonlyArray<{ Key: string; Value: string } | KmsTag>;
  [ignored: string]: unknown;
}

export interface StoredKey {
  keyId: string;
  arn: string;
  /** Epoch ms. */
  createdAt: number;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  enabled: boolean;
  tags: KmsTag[];
  /** Asymmetric keys: PKCS#8 PEM. */
  privateKeyPem?: string;
  /** Symmetric keys: 32 bytes, base64. */
  secret?: string;
}

export interface StoredAlias {
  aliasName: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

export type KmsJournalRecord =
  | { op: "createKey"; key: StoredKey }
  | { op: "setEnabled"; keyId: string; enabled: boolean }
  | { op: "putAlias"; alias: StoredAlias }
  | { op: "deleteAlias"; aliasName: string };

/** KMS errors (JSON 1.1): `__type` and `x-amzn-ErrorType`, no message header. */
export const KMS_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_1,
  headers: ["x-amzn-errortype"],
};

export const validation = (message: string) =>
  new AwsServiceError("ValidationException", `1 validation error detected: ${message}`);

/** A request's JSON body. */
export type Body = Record<string, unknown>;

export function requireEnabled(key: StoredKey): void {
  if (!key.enabled) throw new AwsServiceError("DisabledException", `${key.arn} is disabled.`);
}

export function requireUsage(key: StoredKey, usage: KeyUsage, operation: string): void {
  if (key.keyUsage !== usage) {
    throw new AwsServiceError(
      "InvalidKeyUsageException",
      `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
    );
  }
}
