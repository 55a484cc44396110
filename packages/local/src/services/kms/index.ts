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
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Journal } from "../../journal";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import {
  blobKeyId,
  DIGEST_LENGTH,
  encryptionAlgorithmsFor,
  generateKeyMaterial,
  KEY_SPECS,
  type KeySpec,
  type KeyUsage,
  openBlob,
  publicKeyDer,
  rsaDecrypt,
  rsaEncrypt,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  sealBlob,
  sign,
  signingAlgorithmsFor,
  usagesFor,
  verify,
} from "./crypto";

const CONTENT_TYPE = "application/x-amz-json-1.1";
const TARGET_PREFIX = "TrentService.";
/** Sign/Verify: a RAW message of at most 4096 bytes (KMS's documented limit). */
const MAX_MESSAGE_BYTES = 4096;
/** Encrypt: at most 4096 bytes of plaintext with a symmetric key. */
const MAX_PLAINTEXT_BYTES = 4096;
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface KmsServiceOptions {
  region: string;
  accountId?: string;
  /** Persist keys and aliases under this directory; in memory when undefined. */
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  now?: () => number;
}

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

interface StoredKey {
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

interface StoredAlias {
  aliasName: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

type JournalRecord =
  | { op: "createKey"; key: StoredKey }
  | { op: "setEnabled"; keyId: string; enabled: boolean }
  | { op: "putAlias"; alias: StoredAlias }
  | { op: "deleteAlias"; aliasName: string };

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const validation = (message: string) =>
  new KmsError("ValidationException", `1 validation error detected: ${message}`);

type Body = Record<string, unknown>;

export function createKmsService(options: KmsServiceOptions): KmsService {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const region = options.region;
  const now = options.now ?? Date.now;
  const keys = new Map<string, StoredKey>();
  const aliases = new Map<string, StoredAlias>();

  const keyArn = (keyId: string) => `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
  const aliasArn = (name: string) => `arn:aws:kms:${region}:${accountId}:${name}`;

  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "createKey":
        keys.set(record.key.keyId, record.key);
        break;
      case "setEnabled": {
        const key = keys.get(record.keyId);
        if (key) key.enabled = record.enabled;
        break;
      }
      case "putAlias":
        aliases.set(record.alias.aliasName, record.alias);
        break;
      case "deleteAlias":
        aliases.delete(record.aliasName);
        break;
    }
  }

  function snapshot(): JournalRecord[] {
    return [
      ...[...keys.values()].map((key): JournalRecord => ({ op: "createKey", key })),
      ...[...aliases.values()].map((alias): JournalRecord => ({ op: "putAlias", alias })),
    ];
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "kms", snapshot, compactAfter: options.compactAfter },
    apply,
  );

  // ---- key lookup ----

  /** Key id, key ARN, alias name or alias ARN, as every KMS operation accepts. */
  function resolveKey(value: unknown, field = "keyId"): StoredKey {
    if (typeof value !== "string" || value.length === 0 || value.length > 2048) {
      throw validation(`Value at '${field}' failed to satisfy constraint: Member must not be null`);
    }
    const arn = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/.exec(value);
    let resource = value;
    if (arn) {
      if (arn[1] !== region || arn[2] !== accountId) {
        throw new KmsError("NotFoundException", `Invalid arn ${value}`);
      }
      resource = arn[3]!;
    }
    if (resource.startsWith("alias/")) {
      const alias = aliases.get(resource);
      const key = alias && keys.get(alias.targetKeyId);
      if (!key)
        throw new KmsError("NotFoundException", `Alias ${aliasArn(resource)} is not found.`);
      return key;
    }
    const keyId = resource.startsWith("key/") ? resource.slice(4) : resource;
    if (!UUID.test(keyId)) throw new KmsError("NotFoundException", `Invalid keyId ${value}`);
    const key = keys.get(keyId);
    if (!key) throw new KmsError("NotFoundException", `Key '${keyArn(keyId)}' does not exist`);
    return key;
  }

  function requireEnabled(key: StoredKey): void {
    if (!key.enabled) throw new KmsError("DisabledException", `${key.arn} is disabled.`);
  }

  function requireUsage(key: StoredKey, usage: KeyUsage, operation: string): void {
    if (key.keyUsage !== usage) {
      throw new KmsError(
        "InvalidKeyUsageException",
        `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
      );
    }
  }

  function metadata(key: StoredKey): Record<string, unknown> {
    const signing = key.keyUsage === "SIGN_VERIFY" ? signingAlgorithmsFor(key.keySpec) : undefined;
    const encryption =
      key.keyUsage === "ENCRYPT_DECRYPT" ? encryptionAlgorithmsFor(key.keySpec) : undefined;
    return {
      AWSAccountId: accountId,
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

  // ---- operations ----

  function createKey(body: Body, chosenId?: string): StoredKey {
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
      throw new KmsError(
        "UnsupportedOperationException",
        `Origin ${String(origin)} is not emulated`,
      );
    }
    const keyId = chosenId ?? randomUUID();
    const key: StoredKey = {
      keyId,
      arn: keyArn(keyId),
      createdAt: now(),
      description,
      keySpec,
      keyUsage: usage,
      enabled: body.Enabled !== false,
      tags: parseTags(body.Tags),
      ...generateKeyMaterial(keySpec),
    };
    journal.commit({ op: "createKey", key });
    return key;
  }

  function listKeys(body: Body) {
    const page = paginate(
      [...keys.values()].sort((a, b) => a.createdAt - b.createdAt),
      body,
    );
    return {
      Keys: page.items.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
      Truncated: page.next !== undefined,
      ...(page.next !== undefined ? { NextMarker: page.next } : {}),
    };
  }

  function putAlias(body: Body, create: boolean) {
    const aliasName = body.AliasName;
    if (typeof aliasName !== "string" || !ALIAS_NAME.test(aliasName)) {
      throw validation(
        `Value '${String(aliasName)}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`,
      );
    }
    if (aliasName.startsWith("alias/aws/")) {
      throw new KmsError("NotAuthorizedException", "Cannot create alias with prefix 'alias/aws/'");
    }
    const existing = aliases.get(aliasName);
    if (create && existing) {
      throw new KmsError(
        "AlreadyExistsException",
        `An alias with the name ${aliasArn(aliasName)} already exists`,
      );
    }
    if (!create && !existing) {
      throw new KmsError("NotFoundException", `Alias ${aliasArn(aliasName)} is not found.`);
    }
    if (typeof body.TargetKeyId === "string" && body.TargetKeyId.includes("alias/")) {
      throw validation("TargetKeyId must be a key id or key ARN, not an alias");
    }
    const target = resolveKey(body.TargetKeyId, "targetKeyId");
    const at = now();
    journal.commit({
      op: "putAlias",
      alias: {
        aliasName,
        targetKeyId: target.keyId,
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
      },
    });
    return {};
  }

  function listAliases(body: Body) {
    const target = body.KeyId !== undefined ? resolveKey(body.KeyId) : undefined;
    const all = [...aliases.values()]
      .filter((alias) => target === undefined || alias.targetKeyId === target.keyId)
      .sort((a, b) => (a.aliasName < b.aliasName ? -1 : 1));
    const page = paginate(all, body);
    return {
      Aliases: page.items.map((alias) => ({
        AliasName: alias.aliasName,
        AliasArn: aliasArn(alias.aliasName),
        TargetKeyId: alias.targetKeyId,
        CreationDate: alias.createdAt / 1000,
        LastUpdatedDate: alias.updatedAt / 1000,
      })),
      Truncated: page.next !== undefined,
      ...(page.next !== undefined ? { NextMarker: page.next } : {}),
    };
  }

  function getPublicKey(body: Body) {
    const key = resolveKey(body.KeyId);
    requireEnabled(key);
    if (!key.privateKeyPem) {
      throw new KmsError(
        "UnsupportedOperationException",
        `${key.arn} key usage is ${key.keyUsage}, key spec SYMMETRIC_DEFAULT: it has no public key.`,
      );
    }
    return {
      KeyId: key.arn,
      PublicKey: publicKeyDer(key.privateKeyPem).toString("base64"),
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      ...(key.keyUsage === "SIGN_VERIFY"
        ? { SigningAlgorithms: signingAlgorithmsFor(key.keySpec) }
        : { EncryptionAlgorithms: encryptionAlgorithmsFor(key.keySpec) }),
    };
  }

  /** Shared checks of Sign and Verify: key, usage, algorithm, message type and length. */
  function signingInput(body: Body, operation: "Sign" | "Verify") {
    const key = resolveKey(body.KeyId);
    requireEnabled(key);
    requireUsage(key, "SIGN_VERIFY", operation);
    const algorithm = body.SigningAlgorithm;
    if (typeof algorithm !== "string" || !Object.hasOwn(SIGNING_ALGORITHMS, algorithm)) {
      throw validation(
        `Value '${String(algorithm)}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(SIGNING_ALGORITHMS).join(", ")}]`,
      );
    }
    if (!signingAlgorithmsFor(key.keySpec).includes(algorithm as SigningAlgorithm)) {
      throw new KmsError(
        "InvalidKeyUsageException",
        `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
      );
    }
    const messageType = body.MessageType ?? "RAW";
    if (messageType !== "RAW" && messageType !== "DIGEST") {
      throw validation(
        `Value '${String(messageType)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST]`,
      );
    }
    const message = blob(body.Message, "message");
    if (message.length === 0 || message.length > MAX_MESSAGE_BYTES) {
      throw validation(
        `Value at 'message' failed to satisfy constraint: Member must have length between 1 and ${MAX_MESSAGE_BYTES}`,
      );
    }
    const { hash } = SIGNING_ALGORITHMS[algorithm as SigningAlgorithm];
    if (messageType === "DIGEST" && message.length !== DIGEST_LENGTH[hash]) {
      throw validation(`Digest is invalid length for algorithm ${algorithm}.`);
    }
    return {
      key,
      pem: key.privateKeyPem!,
      algorithm: algorithm as SigningAlgorithm,
      message,
      isDigest: messageType === "DIGEST",
    };
  }

  function signOp(body: Body) {
    const input = signingInput(body, "Sign");
    const signature = sign(input.pem, input.algorithm, input);
    return {
      KeyId: input.key.arn,
      Signature: signature.toString("base64"),
      SigningAlgorithm: input.algorithm,
    };
  }

  function verifyOp(body: Body) {
    const input = signingInput(body, "Verify");
    const signature = blob(body.Signature, "signature");
    if (signature.length === 0 || signature.length > 6144) {
      throw validation(
        "Value at 'signature' failed to satisfy constraint: Member must have length between 1 and 6144",
      );
    }
    if (!verify(input.pem, input.algorithm, { ...input, signature })) {
      throw new KmsError("KMSInvalidSignatureException", "");
    }
    return { KeyId: input.key.arn, SignatureValid: true, SigningAlgorithm: input.algorithm };
  }

  function encryptOp(body: Body) {
    const key = resolveKey(body.KeyId);
    requireEnabled(key);
    requireUsage(key, "ENCRYPT_DECRYPT", "Encrypt");
    const plaintext = blob(body.Plaintext, "plaintext");
    if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT_BYTES) {
      throw validation(
        `Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and ${MAX_PLAINTEXT_BYTES}`,
      );
    }
    const algorithm = encryptionAlgorithm(key, body.EncryptionAlgorithm);
    const ciphertext = key.secret
      ? sealBlob(key.keyId, key.secret, plaintext, context(body))
      : rsaEncrypt(key.privateKeyPem!, algorithm, plaintext);
    return {
      KeyId: key.arn,
      CiphertextBlob: ciphertext.toString("base64"),
      EncryptionAlgorithm: algorithm,
    };
  }

  function decryptOp(body: Body) {
    const ciphertext = blob(body.CiphertextBlob, "ciphertextBlob");
    const named = body.KeyId !== undefined ? resolveKey(body.KeyId) : undefined;
    let key: StoredKey;
    if (named?.privateKeyPem) {
      key = named;
    } else {
      const blobKey = blobKeyId(ciphertext);
      const owner = blobKey !== undefined ? keys.get(blobKey) : undefined;
      if (!owner) throw new KmsError("InvalidCiphertextException", "");
      if (named && named.keyId !== owner.keyId) {
        throw new KmsError(
          "IncorrectKeyException",
          "The key ID in the request does not identify a CMK that can perform this operation.",
        );
      }
      key = owner;
    }
    requireEnabled(key);
    requireUsage(key, "ENCRYPT_DECRYPT", "Decrypt");
    const algorithm = encryptionAlgorithm(key, body.EncryptionAlgorithm);
    const plaintext = key.secret
      ? openBlob(key.secret, ciphertext, context(body))
      : rsaDecrypt(key.privateKeyPem!, algorithm, ciphertext);
    if (!plaintext) throw new KmsError("InvalidCiphertextException", "");
    return {
      KeyId: key.arn,
      Plaintext: plaintext.toString("base64"),
      EncryptionAlgorithm: algorithm,
    };
  }

  function generateDataKey(body: Body, withPlaintext: boolean) {
    const key = resolveKey(body.KeyId);
    requireEnabled(key);
    requireUsage(key, "ENCRYPT_DECRYPT", "GenerateDataKey");
    if (!key.secret) {
      throw new KmsError(
        "InvalidKeyUsageException",
        `${key.arn} key spec is ${key.keySpec}: data keys need a symmetric key.`,
      );
    }
    let length: number;
    if (body.NumberOfBytes !== undefined) {
      if (body.KeySpec !== undefined)
        throw validation("Specify either KeySpec or NumberOfBytes, not both");
      length = Number(body.NumberOfBytes);
      if (!Number.isInteger(length) || length < 1 || length > 1024) {
        throw validation(
          "Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024",
        );
      }
    } else if (body.KeySpec === "AES_256" || body.KeySpec === "AES_128") {
      length = body.KeySpec === "AES_256" ? 32 : 16;
    } else {
      throw validation("Please specify either number of bytes or key spec.");
    }
    const plaintext = randomBytes(length);
    const ciphertext = sealBlob(key.keyId, key.secret, plaintext, context(body));
    return {
      KeyId: key.arn,
      CiphertextBlob: ciphertext.toString("base64"),
      ...(withPlaintext ? { Plaintext: plaintext.toString("base64") } : {}),
    };
  }

  function setEnabled(body: Body, enabled: boolean) {
    const key = resolveKey(body.KeyId);
    if (key.enabled !== enabled) journal.commit({ op: "setEnabled", keyId: key.keyId, enabled });
    return {};
  }

  const operations: Record<string, (body: Body) => unknown> = {
    CreateKey: (body) => ({ KeyMetadata: metadata(createKey(body)) }),
    DescribeKey: (body) => ({ KeyMetadata: metadata(resolveKey(body.KeyId)) }),
    ListKeys: listKeys,
    EnableKey: (body) => setEnabled(body, true),
    DisableKey: (body) => setEnabled(body, false),
    ListResourceTags: (body) => ({ Tags: resolveKey(body.KeyId).tags, Truncated: false }),
    CreateAlias: (body) => putAlias(body, true),
    UpdateAlias: (body) => putAlias(body, false),
    DeleteAlias: (body) => {
      const name = body.AliasName;
      if (typeof name !== "string" || !aliases.has(name)) {
        throw new KmsError("NotFoundException", `Alias ${aliasArn(String(name))} is not found.`);
      }
      journal.commit({ op: "deleteAlias", aliasName: name });
      return {};
    },
    ListAliases: listAliases,
    GetPublicKey: getPublicKey,
    Sign: signOp,
    Verify: verifyOp,
    Encrypt: encryptOp,
    Decrypt: decryptOp,
    GenerateDataKey: (body) => generateDataKey(body, true),
    GenerateDataKeyWithoutPlaintext: (body) => generateDataKey(body, false),
    GenerateRandom: (body) => {
      const length = Number(body.NumberOfBytes ?? 0);
      if (!Number.isInteger(length) || length < 1 || length > 1024) {
        throw validation(
          "Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024",
        );
      }
      return { Plaintext: randomBytes(length).toString("base64") };
    },
  };

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    const target = request.headers["x-amz-target"] ?? "";
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
    try {
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!run) {
        throw new KmsError("UnknownOperationException", `Unknown operation ${target}`);
      }
      const result = run(parseBody(request.body));
      return {
        status: 200,
        headers: { "content-type": CONTENT_TYPE },
        body: JSON.stringify(result),
      };
    } catch (error) {
      const known =
        error instanceof KmsError
          ? error
          : new KmsError("KMSInternalException", (error as Error)?.message ?? String(error), 500);
      return {
        status: known.status,
        headers: { "content-type": CONTENT_TYPE, "x-amzn-errortype": known.type },
        body: JSON.stringify({ __type: known.type, message: known.message }),
      };
    }
  }

  return {
    name: "kms",
    handle,
    putKey(keyId, definition = {}) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId)) {
        throw validation(`Invalid key id ${keyId}`);
      }
      const existing = keys.get(keyId);
      const spec = definition.KeySpec ?? "SYMMETRIC_DEFAULT";
      const usage = definition.KeyUsage ?? "ENCRYPT_DECRYPT";
      if (existing && existing.keySpec === spec && existing.keyUsage === usage) {
        return { KeyId: existing.keyId, Arn: existing.arn };
      }
      const key = createKey(
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
      const key = createKey({
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
      keys.clear();
      aliases.clear();
      journal.reset();
    },
    async close() {
      journal.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

function encryptionAlgorithm(key: StoredKey, value: unknown): string {
  const algorithm = value ?? (key.secret ? "SYMMETRIC_DEFAULT" : undefined);
  if (typeof algorithm !== "string") {
    throw validation("EncryptionAlgorithm is required for asymmetric keys");
  }
  if (!encryptionAlgorithmsFor(key.keySpec).includes(algorithm)) {
    throw new KmsError(
      "InvalidKeyUsageException",
      `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
    );
  }
  return algorithm;
}

function context(body: Body): Record<string, string> | undefined {
  const value = body.EncryptionContext;
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw validation("EncryptionContext must be a map of strings");
  }
  for (const entry of Object.values(value)) {
    if (typeof entry !== "string") throw validation("EncryptionContext must be a map of strings");
  }
  return value as Record<string, string>;
}

function blob(value: unknown, field: string): Buffer {
  if (typeof value !== "string") {
    throw validation(`Value at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return Buffer.from(value, "base64");
}

function parseTags(value: unknown): KmsTag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 50) throw validation("Tags must be at most 50");
  return value.map((tag: unknown) => {
    const { TagKey, TagValue } = (tag ?? {}) as Partial<KmsTag>;
    if (typeof TagKey !== "string" || TagKey.length < 1 || TagKey.length > 128) {
      throw new KmsError("TagException", "TagKey must be 1 to 128 characters");
    }
    if (typeof TagValue !== "string" || TagValue.length > 256) {
      throw new KmsError("TagException", "TagValue must be at most 256 characters");
    }
    return { TagKey, TagValue };
  });
}

function paginate<T>(items: T[], body: Body): { items: T[]; next?: string } {
  const limit = body.Limit === undefined ? DEFAULT_LIST_LIMIT : Number(body.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw validation(
      `Value at 'limit' failed to satisfy constraint: Member must have value between 1 and ${MAX_LIST_LIMIT}`,
    );
  }
  let start = 0;
  if (body.Marker !== undefined) {
    start = Number(Buffer.from(String(body.Marker), "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) {
      throw new KmsError("InvalidMarkerException", "The marker is not valid");
    }
  }
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return end < items.length
    ? { items: page, next: Buffer.from(String(end)).toString("base64url") }
    : { items: page };
}

function parseBody(body: Buffer): Body {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new KmsError("SerializationException", "Request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new KmsError("SerializationException", "Request body must be a JSON object");
  }
  return parsed as Body;
}
