import { constants, createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  KMSClient,
  KMSInvalidSignatureException,
  KMSServiceException,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKmsService } from "../../src/services/kms/index";
import { LOCAL_ACCOUNT_ID } from "../../src/types";
import { clientConfig, serve } from "./serve";

/** Through the shared plane's edge: proves the `TrentService` route as well as the service. */
const kms = new KMSClient(clientConfig(inject("localAwsEndpoint")));
const message = Buffer.from("header.payload of a guest proof");

async function createKey(KeySpec: "RSA_2048" | "RSA_3072" | "ECC_NIST_P256" | "ECC_NIST_P384") {
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec, KeyUsage: "SIGN_VERIFY", Description: `test ${KeySpec}` }),
  );
  return KeyMetadata!.KeyId!;
}

async function publicKeyOf(keyId: string) {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey!), format: "der", type: "spki" });
}

const HASH = { SHA_256: "sha256", SHA_384: "sha384", SHA_512: "sha512" } as const;
const hashOf = (algorithm: string) => HASH[algorithm.slice(-7) as keyof typeof HASH];

describe("keys", () => {
  it("creates RSA, ECC and symmetric keys with KMS's metadata, ARNs and tags", async () => {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({
        KeySpec: "RSA_2048",
        KeyUsage: "SIGN_VERIFY",
        Description: "guest proofs",
        Tags: [{ TagKey: "app", TagValue: "boarding-pass" }],
      }),
    );
    expect(KeyMetadata).toMatchObject({
      AWSAccountId: LOCAL_ACCOUNT_ID,
      Arn: `arn:aws:kms:us-east-1:${LOCAL_ACCOUNT_ID}:key/${KeyMetadata!.KeyId}`,
      Description: "guest proofs",
      Enabled: true,
      KeyState: "Enabled",
      KeySpec: "RSA_2048",
      KeyUsage: "SIGN_VERIFY",
      KeyManager: "CUSTOMER",
      Origin: "AWS_KMS",
      SigningAlgorithms: expect.arrayContaining([
        "RSASSA_PKCS1_V1_5_SHA_256",
        "RSASSA_PSS_SHA_512",
      ]),
    });
    expect(KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: KeyMetadata!.KeyId }));
    expect(Tags).toEqual([{ TagKey: "app", TagValue: "boarding-pass" }]);

    const ecc = await kms.send(
      new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
    );
    expect(ecc.KeyMetadata?.SigningAlgorithms).toEqual(["ECDSA_SHA_256"]);
    const symmetric = await kms.send(new CreateKeyCommand({}));
    expect(symmetric.KeyMetadata).toMatchObject({
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    });

    const listed: string[] = [];
    let Marker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await kms.send(new ListKeysCommand({ Limit: 2, Marker }));
      listed.push(...(result.Keys ?? []).map((key) => key.KeyId!));
      Marker = result.NextMarker;
      if (!result.Truncated) break;
    }
    expect(listed).toEqual(
      expect.arrayContaining([
        KeyMetadata!.KeyId,
        ecc.KeyMetadata!.KeyId,
        symmetric.KeyMetadata!.KeyId,
      ]),
    );
  });

  it("finds a key by id, ARN, alias name and alias ARN", async () => {
    const keyId = await createKey("RSA_2048");
    const aliasName = `alias/guest-proof-${keyId.slice(0, 8)}`;
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
    const arn = `arn:aws:kms:us-east-1:${LOCAL_ACCOUNT_ID}:key/${keyId}`;
    const aliasArn = `arn:aws:kms:us-east-1:${LOCAL_ACCOUNT_ID}:${aliasName}`;
    for (const KeyId of [keyId, arn, aliasName, aliasArn]) {
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId }));
      expect(KeyMetadata?.KeyId).toBe(keyId);
    }
    const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(Aliases).toEqual([
      expect.objectContaining({ AliasName: aliasName, AliasArn: aliasArn, TargetKeyId: keyId }),
    ]);
    await expect(
      kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId })),
    ).rejects.toBeInstanceOf(AlreadyExistsException);
  });

  it("answers unknown keys and aliases with NotFoundException", async () => {
    await expect(
      kms.send(new DescribeKeyCommand({ KeyId: "00000000-0000-4000-8000-000000000000" })),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      kms.send(new DescribeKeyCommand({ KeyId: "alias/nobody-made-this" })),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      kms.send(
        new SignCommand({
          KeyId: "not-a-key",
          Message: message,
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it("refuses a usage the key spec cannot have, as a ValidationException", async () => {
    const error = await kms
      .send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "ENCRYPT_DECRYPT" }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KMSServiceException);
    expect((error as Error).name).toBe("ValidationException");
  });
});

describe("sign and verify", () => {
  const cases: Array<
    [KeySpec: "RSA_2048" | "RSA_3072" | "ECC_NIST_P256" | "ECC_NIST_P384", SigningAlgorithmSpec[]]
  > = [
    [
      "RSA_2048",
      [
        "RSASSA_PKCS1_V1_5_SHA_256",
        "RSASSA_PKCS1_V1_5_SHA_384",
        "RSASSA_PKCS1_V1_5_SHA_512",
        "RSASSA_PSS_SHA_256",
        "RSASSA_PSS_SHA_384",
        "RSASSA_PSS_SHA_512",
      ],
    ],
    ["RSA_3072", ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"]],
    ["ECC_NIST_P256", ["ECDSA_SHA_256"]],
    ["ECC_NIST_P384", ["ECDSA_SHA_384"]],
  ];

  for (const [spec, algorithms] of cases) {
    it(`${spec}: RAW and DIGEST signatures verify in KMS and in node:crypto with GetPublicKey's DER`, async () => {
      const keyId = await createKey(spec);
      const publicKey = await publicKeyOf(keyId);
      for (const algorithm of algorithms) {
        const hash = hashOf(algorithm);
        const digest = createHash(hash).update(message).digest();
        for (const [MessageType, Message] of [
          ["RAW", message],
          ["DIGEST", digest],
        ] as const) {
          const { Signature, SigningAlgorithm, KeyId } = await kms.send(
            new SignCommand({ KeyId: keyId, Message, MessageType, SigningAlgorithm: algorithm }),
          );
          expect(SigningAlgorithm).toBe(algorithm);
          expect(KeyId).toMatch(new RegExp(`:key/${keyId}$`));
          // An independent verifier over the original message: a DIGEST signature must be the
          // same scheme as a RAW one.
          const options = algorithm.startsWith("RSASSA_PSS")
            ? {
                key: publicKey,
                padding: constants.RSA_PKCS1_PSS_PADDING,
                saltLength: digest.length,
              }
            : algorithm.startsWith("ECDSA")
              ? { key: publicKey, dsaEncoding: "der" as const }
              : publicKey;
          expect(nodeVerify(hash, message, options, Buffer.from(Signature!))).toBe(true);
          // KMS's own Verify, in both message types, for the signature made either way.
          for (const [type, input] of [
            ["RAW", message],
            ["DIGEST", digest],
          ] as const) {
            const verified = await kms.send(
              new VerifyCommand({
                KeyId: keyId,
                Message: input,
                MessageType: type,
                Signature,
                SigningAlgorithm: algorithm,
              }),
            );
            expect(verified.SignatureValid).toBe(true);
          }
        }
      }
    });
  }

  it("answers a wrong signature with KMSInvalidSignatureException", async () => {
    const keyId = await createKey("RSA_2048");
    const { Signature } = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    );
    const tampered = Buffer.from(Signature!);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    for (const attempt of [
      { Message: message, Signature: tampered },
      { Message: message, Signature: Buffer.from("short") },
      // The right signature over another message, or with another algorithm, is just as invalid.
      { Message: Buffer.from("another message"), Signature },
      { Message: message, Signature, SigningAlgorithm: "RSASSA_PSS_SHA_256" as const },
    ]) {
      await expect(
        kms.send(
          new VerifyCommand({
            KeyId: keyId,
            SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
            ...attempt,
          }),
        ),
      ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
    }
  });

  it("checks the digest length, the key usage and the algorithm against the key spec", async () => {
    const rsa = await createKey("RSA_2048");
    const wrongLength = await kms
      .send(
        new SignCommand({
          KeyId: rsa,
          Message: Buffer.alloc(20),
          MessageType: "DIGEST",
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      )
      .catch((caught: unknown) => caught);
    expect((wrongLength as Error).name).toBe("ValidationException");
    expect((wrongLength as Error).message).toMatch(/Digest is invalid length/);

    const tooLong = await kms
      .send(
        new SignCommand({
          KeyId: rsa,
          Message: Buffer.alloc(4097),
          SigningAlgorithm: "RSASSA_PSS_SHA_256",
        }),
      )
      .catch((caught: unknown) => caught);
    expect((tooLong as Error).name).toBe("ValidationException");

    await expect(
      kms.send(
        new SignCommand({ KeyId: rsa, Message: message, SigningAlgorithm: "ECDSA_SHA_256" }),
      ),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    await expect(
      kms.send(
        new SignCommand({
          KeyId: KeyMetadata!.KeyId,
          Message: message,
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    await expect(
      kms.send(new EncryptCommand({ KeyId: rsa, Plaintext: message })),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
  });

  it("refuses a disabled key with DisabledException", async () => {
    const keyId = await createKey("ECC_NIST_P256");
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    await expect(
      kms.send(
        new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: "ECDSA_SHA_256" }),
      ),
    ).rejects.toBeInstanceOf(DisabledException);
  });
});

describe("symmetric keys", () => {
  it("encrypts and decrypts with the key read from the blob, bound to the encryption context", async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: "envelope" }));
    const context = { purpose: "test" };
    const { CiphertextBlob, KeyId } = await kms.send(
      new EncryptCommand({
        KeyId: KeyMetadata!.KeyId,
        Plaintext: message,
        EncryptionContext: context,
      }),
    );
    expect(KeyId).toBe(KeyMetadata!.Arn);
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(decrypted.Plaintext!)).toEqual(message);
    expect(decrypted.KeyId).toBe(KeyMetadata!.Arn);
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: "other" } })),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from("garbage") })),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
    const other = await kms.send(new CreateKeyCommand({}));
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob,
          EncryptionContext: context,
          KeyId: other.KeyMetadata!.KeyId,
        }),
      ),
    ).rejects.toBeInstanceOf(IncorrectKeyException);
  });

  it("generates data keys whose blob decrypts to the plaintext key", async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: KeyMetadata!.KeyId, KeySpec: "AES_256" }),
    );
    expect(dataKey.Plaintext).toHaveLength(32);
    const { Plaintext } = await kms.send(
      new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }),
    );
    expect(Buffer.from(Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
  });
});

describe("persistence", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "boarding-pass-kms-"));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps keys (private halves included) and aliases across a restart; reset wipes them", async () => {
    const first = createKmsService({ region: "us-east-1", dataDir });
    // The provisioner's path: an AWS::KMS::Key's properties, CloudFormation's tag spelling.
    const created = first.createKey({
      KeySpec: "RSA_2048",
      KeyUsage: "SIGN_VERIFY",
      Description: "GuestProofKey",
      Tags: [{ Key: "stack", Value: "Api" }],
    });
    expect(created.Arn).toBe(`arn:aws:kms:us-east-1:${LOCAL_ACCOUNT_ID}:key/${created.KeyId}`);
    let served = await serve(first);
    let client = new KMSClient(clientConfig(served.endpoint));
    await client.send(
      new CreateAliasCommand({ AliasName: "alias/proofs", TargetKeyId: created.KeyId }),
    );
    const before = await client.send(new GetPublicKeyCommand({ KeyId: created.KeyId }));
    const { Signature } = await client.send(
      new SignCommand({
        KeyId: "alias/proofs",
        Message: message,
        SigningAlgorithm: "RSASSA_PSS_SHA_256",
      }),
    );
    await served.close();
    await first.close();

    const second = createKmsService({ region: "us-east-1", dataDir });
    served = await serve(second);
    client = new KMSClient(clientConfig(served.endpoint));
    try {
      const after = await client.send(new GetPublicKeyCommand({ KeyId: "alias/proofs" }));
      expect(Buffer.from(after.PublicKey!)).toEqual(Buffer.from(before.PublicKey!));
      const verified = await client.send(
        new VerifyCommand({
          KeyId: created.KeyId,
          Message: message,
          Signature,
          SigningAlgorithm: "RSASSA_PSS_SHA_256",
        }),
      );
      expect(verified.SignatureValid).toBe(true);
      const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: created.Arn }));
      expect(KeyMetadata).toMatchObject({ Description: "GuestProofKey", KeySpec: "RSA_2048" });
      const { Tags } = await client.send(new ListResourceTagsCommand({ KeyId: created.KeyId }));
      expect(Tags).toEqual([{ TagKey: "stack", TagValue: "Api" }]);

      await second.reset();
      await expect(
        client.send(new DescribeKeyCommand({ KeyId: created.KeyId })),
      ).rejects.toBeInstanceOf(NotFoundException);
    } finally {
      await served.close();
      await second.close();
    }
    const third = createKmsService({ region: "us-east-1", dataDir });
    try {
      const response = await third.handle({
        method: "POST",
        path: "/",
        query: new URLSearchParams(),
        headers: { "x-amz-target": "TrentService.ListKeys" },
        body: Buffer.from("{}"),
        requestId: "r",
        region: "us-east-1",
      });
      expect(JSON.parse(String(response.body))).toMatchObject({ Keys: [] });
    } finally {
      await third.close();
    }
  });
});
