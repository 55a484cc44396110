/**
 * Keys: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ListResourceTags. `createKey`
 * is also the template provisioner's way in (`AWS::KMS::Key`), under a chosen id or a new one.
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  encryptionAlgorithmsFor,
  generateKeyMaterial,
  KEY_SPECS,
  type KeySpec,
  signingAlgorithmsFor,
  usagesFor,
} from "../crypto";
import { type Body, type StoredKey, validation } from "../model";
import type { KmsOperation, KmsState } from "../state";
import { paginate, parseTags } from "./input";

export function createKey(state: KmsState, body: Body, chosenId?: string): StoredKey {
  const spec = body.KeySpec ?? body.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
  if (typeof spec !== "string" || !(KEY_SPECS as readonly string[]).includes(spec)) {
    throw validation(
      `Value '${String(spec)}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [${KEY_SPECS.join(", ")}]`,
    );
  }
  const keySpec = spec as KeySpec;
  const usage = body.KeyUsage ?? "ENCRYPT_DECRYPT";
  if (usage !== "ENCRYPT_DECRYPT" && usage !== "SIGN_VERIFY") {
    throw validation(
      `Value '${String(usage)}' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY]`,
    );
  }
  if (!usagesFor(keySpec).includes(usage)) {
    throw validation(`KeyUsage ${usage} is not compatible with KeySpec ${keySpec}`);
  }
  const description = body.Description ?? "";
  if (typeof description !== "string" || description.length > 8192) {
    throw validation("Value at 'description' failed to satisfy constraint");
  }
  const origin = body.Origin ?? "AWS_KMS";
  if (origin !== "AWS_KMS") {
    throw new AwsServiceError(
      "UnsupportedOperationException",
      `Origin ${String(origin)} is not emulated`,
    );
  }
  const keyId = chosenId ?? randomUUID();
  const key: StoredKey = {
    keyId,
    arn: state.keyArn(keyId),
    createdAt: state.now(),
    description,
    keySpec,
    keyUsage: usage,
    enabled: body.Enabled !== false,
    tags: parseTags(body.Tags),
    ...generateKeyMaterial(keySpec),
  };
  state.commit({ op: "createKey", key });
  return key;
}

/** `KeyMetadata` as DescribeKey and CreateKey answer it. */
function metadata(state: KmsState, key: StoredKey): Record<string, unknown> {
  const signing = key.keyUsage === "SIGN_VERIFY" ? signingAlgorithmsFor(key.keySpec) : undefined;
  const encryption =
    key.keyUsage === "ENCRYPT_DECRYPT" ? encryptionAlgorithmsFor(key.keySpec) : undefined;
  return {
    AWSAccountId: state.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdAt / 1000,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.enabled ? "Enabled" : "Disabled",
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
    ...(signing ? { SigningAlgorithms: signing } : {}),
    ...(encryption ? { EncryptionAlgorithms: encryption } : {}),
  };
}

function listKeys(state: KmsState, body: Body) {
  const page = paginate(
    [...state.keys.values()].sort((a, b) => a.createdAt - b.createdAt),
    body,
  );
  return {
    Keys: page.items.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
    Truncated: page.next !== undefined,
    ...(page.next !== undefined ? { NextMarker: page.next } : {}),
  };
}

function setEnabled(state: KmsState, body: Body, enabled: boolean) {
  const key = state.resolveKey(body.KeyId);
  if (key.enabled !== enabled) state.commit({ op: "setEnabled", keyId: key.keyId, enabled });
  return {};
}

export const keyOperations: Record<string, KmsOperation> = {
  CreateKey: (state, body) => ({ KeyMetadata: metadata(state, createKey(state, body)) }),
  DescribeKey: (state, body) => ({ KeyMetadata: metadata(state, state.resolveKey(body.KeyId)) }),
  ListKeys: listKeys,
  EnableKey: (state, body) => setEnabled(state, body, true),
  DisableKey: (state, body) => setEnabled(state, body, false),
  ListResourceTags: (state, body) => ({
    Tags: state.resolveKey(body.KeyId).tags,
    Truncated: false,
  }),
};
