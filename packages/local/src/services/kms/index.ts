/**
 * Emulated AWS KMS (JSON 1.1, `X-Amz-Target: TrentService.<Op>`), enough for the guest-proof
 * routes (an RSA_2048 SIGN_VERIFY key: Sign, GetPublicKey) and for envelope encryption:
 *
 * - Keys: CreateKey (SYMMETRIC_DEFAULT, RSA_2048/3072/4096, ECC_NIST_P256/P384/P521 with the
 *   usages KMS allows for each), DescribeKey (key id, key ARN, alias name or alias ARN),
 *   ListKeys, EnableKey/DisableKey, ListResourceTags; aliases: CreateAlias, DeleteAlias,
 *   ListAliases.
 * - Asymmetric: GetPublicKey (DER SubjectPublicKeyInfo), Sign and Verify with every signing
 *   algorithm of the key's spec, MessageType RAW (at most 4096 bytes) or DIGEST (exactly the
 *   hash's length), Encrypt/Decrypt with RSAES_OAEP_SHA_1/256 for RSA ENCRYPT_DECRYPT keys.
 * - Symmetric: Encrypt, Decrypt (the key is read from the blob), GenerateDataKey(WithoutPlaintext)
 *   and GenerateRandom; AES-256-GCM with the encryption context as additional data.
 *
 * Errors are HTTP 400 with `__type` and `x-amzn-ErrorType` (NotFoundException,
 * InvalidKeyUsageException, KMSInvalidSignatureException, DisabledException, ...), so
 * `@aws-sdk/client-kms` raises the modeled class; `ValidationException` (not modeled by the
 * client) arrives as a `KMSServiceException` named `ValidationException`, as from AWS.
 *
 * Keys (private halves as PKCS#8 PEM, symmetric secrets as base64) and aliases persist in a
 * journal under `dataDir`; in memory without it. Not emulated: key policies, grants, rotation,
 * deletion schedules, multi-Region keys, imported material, custom key stores, HMAC keys.
 *
 * This file creates the service and dispatches by operation name; the operations are in
 * operations/ by concern (keys, aliases, signing, encryption), the state and journal in state.ts,
 * the cryptography in crypto.ts and ecdsa.ts.
 */
import {
  AwsServiceError,
  answerServiceErrors,
  internalError,
  type ServiceErrorRendering,
} from "../../protocol/errors";
import { JSON_1_1, jsonErrorResponse } from "../../protocol/json";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import { KMS_ERRORS, type KmsKeyDefinition, UUID, validation } from "./model";
import { aliasOperations } from "./operations/aliases";
import { encryptionOperations } from "./operations/encryption";
import { parseBody } from "./operations/input";
import { createKey, keyOperations } from "./operations/keys";
import { signingOperations } from "./operations/signing";
import { type KmsOperation, KmsState } from "./state";

const CONTENT_TYPE = JSON_1_1;
const TARGET_PREFIX = "TrentService.";

interface KmsServiceOptions {
  region: string;
  accountId?: string;
  /** Persist keys and aliases under this directory; in memory when undefined. */
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  now?: () => number;
}

export interface KmsService extends LocalService {
  readonly name: "kms";
  /** Creates a key as CloudFormation would for an `AWS::KMS::Key` (Ref = KeyId, Arn). */
  createKey(definition?: KmsKeyDefinition): { KeyId: string; Arn: string };
  /**
   * Create-or-keep a key under a caller-chosen id (the template provisioner derives it from the
   * stack and logical id): a restart keeps the key material, so signatures made before still
   * verify. A key whose spec or usage changed is replaced, as CloudFormation replaces it.
   */
  putKey(keyId: string, definition?: KmsKeyDefinition): { KeyId: string; Arn: string };
}

/** Every operation by its AWS name. */
const OPERATIONS: Record<string, KmsOperation> = {
  ...keyOperations,
  ...aliasOperations,
  ...signingOperations,
  ...encryptionOperations,
};

export function createKmsService(options: KmsServiceOptions): KmsService {
  const state = new KmsState({
    region: options.region,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    dataDir: options.dataDir,
    compactAfter: options.compactAfter,
    now: options.now ?? Date.now,
  });

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    const target = request.headers["x-amz-target"] ?? "";
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
    return answerServiceErrors(ERRORS, () => {
      const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
      if (!run) {
        throw new AwsServiceError("UnknownOperationException", `Unknown operation ${target}`);
      }
      const result = run(state, parseBody(request.body));
      return {
        status: 200,
        headers: { "content-type": CONTENT_TYPE },
        body: JSON.stringify(result),
      };
    });
  }

  return {
    name: "kms",
    handle,
    putKey(keyId, definition = {}) {
      if (!UUID.test(keyId)) {
        throw validation(`Invalid key id ${keyId}`);
      }
      const existing = state.keys.get(keyId);
      const spec = definition.KeySpec ?? "SYMMETRIC_DEFAULT";
      const usage = definition.KeyUsage ?? "ENCRYPT_DECRYPT";
      if (existing && existing.keySpec === spec && existing.keyUsage === usage) {
        return { KeyId: existing.keyId, Arn: existing.arn };
      }
      const key = createKey(
        state,
        {
          KeySpec: spec,
          KeyUsage: usage,
          Description: definition.Description,
          Enabled: definition.Enabled,
        },
        keyId,
      );
      return { KeyId: key.keyId, Arn: key.arn };
    },
    createKey(definition = {}) {
      const key = createKey(state, {
        KeySpec: definition.KeySpec,
        KeyUsage: definition.KeyUsage,
        Description: definition.Description,
        Enabled: definition.Enabled,
        Tags: definition.Tags?.map((tag) =>
          "TagKey" in tag ? tag : { TagKey: tag.Key, TagValue: tag.Value },
        ),
      });
      return { KeyId: key.keyId, Arn: key.arn };
    },
    async reset() {
      state.reset();
    },
    async close() {
      state.close();
    },
  };
}

const ERRORS: ServiceErrorRendering = {
  render: (error) => jsonErrorResponse(error, KMS_ERRORS),
  unexpected: internalError("KMSInternalException"),
};
