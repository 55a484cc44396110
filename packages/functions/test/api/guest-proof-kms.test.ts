/**
 * The guest-proof path as deployed: the Lambda entry points (`handler`) of POST
 * /identity/guest-proof and POST /identity/link, configured only by their environment (as
 * stacks/Api.ts sets it), with the real KMS adapters (`KmsJwtSigner` signs with kms:Sign,
 * `kmsPublicJwks` reads kms:GetPublicKey) against the local KMS on the plane, reached through
 * `AWS_ENDPOINT_URL` like any SDK client in the local cloud. The guests are identities of a local
 * identity pool, which the issuer and the merge ask (`DescribeIdentity`) whether they are guests.
 */
import { CognitoIdentityClient, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { CreateKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { createCognitoIdentityService } from "@boarding-pass/local/services/cognito-identity";
import { createKmsService } from "@boarding-pass/local/services/kms";
import { createStsService } from "@boarding-pass/local/services/sts";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bodyOf,
  type Caller,
  iamEvent,
  newIdentityId,
  newSub,
  type Plane,
  REGION,
  SELF_ISSUER,
  startPlane,
} from "./harness";

let plane: Plane;
let kms: KMSClient;
let keyId: string;
let identityPoolId: string;
let identityClient: CognitoIdentityClient;
const saved = { ...process.env };
let issueHandler: typeof import("../../src/api/issue-guest-proof")["handler"];
let linkHandler: typeof import("../../src/api/link-identity")["handler"];

beforeAll(async () => {
  plane = await startPlane();
  plane.aws.register(createKmsService({ region: REGION }));
  const sts = createStsService({ region: REGION });
  const identityPools = createCognitoIdentityService({
    region: REGION,
    sts,
    userPoolKeys: async () => undefined,
  });
  plane.aws.register(sts);
  plane.aws.register(identityPools);
  identityPoolId = identityPools.createIdentityPool({
    IdentityPoolName: "guest_proofs",
    AllowUnauthenticatedIdentities: true,
  }).IdentityPoolId;
  identityClient = new CognitoIdentityClient({
    endpoint: plane.endpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  kms = new KMSClient({
    endpoint: plane.endpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  // The key stacks/Api.ts declares as GuestProofKey.
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }),
  );
  keyId = KeyMetadata!.KeyId!;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: plane.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    STAGE: "test",
    TABLE_NAME: plane.tableName,
    IDENTITY_POOL_ID: identityPoolId,
    IOT_POLICY_NAME: plane.policyName,
    EVENTS_TOPIC_ARN: plane.topicArn,
    EVENTS_STREAM_NAME: plane.streamName,
    GUEST_PROOF_KEY_ID: keyId,
  });
  // Imported after the environment is set, as Lambda loads a handler after its configuration.
  issueHandler = (await import("../../src/api/issue-guest-proof")).handler;
  linkHandler = (await import("../../src/api/link-identity")).handler;
});

afterAll(async () => {
  process.env = saved;
  kms?.destroy();
  identityClient?.destroy();
  await plane?.stop();
});

const request = (caller: Caller, method: string, path: string, body?: unknown) =>
  iamEvent(caller, identityPoolId, { method, path, ...(body ? { body } : {}) });

/** A guest of the local identity pool (GetId without logins). */
async function newGuest(): Promise<Caller> {
  const { IdentityId } = await identityClient.send(
    new GetIdCommand({ IdentityPoolId: identityPoolId }),
  );
  return { identityId: IdentityId! };
}

/** `POST /identity/guest-proof` for a guest: the response and the proof it carries. */
async function issueProof(guest: Caller) {
  const issued = (await issueHandler(
    request(guest, "POST", "/identity/guest-proof"),
  )) as APIGatewayProxyStructuredResultV2;
  const { guestProof } = bodyOf<{ guestProof: string }>(issued as { body?: string });
  return { issued, guestProof };
}

describe("guest proofs signed by KMS on the local plane", () => {
  it("issues a proof signed by the KMS key, which the link route verifies with its public key", async () => {
    // Prepare
    const guest = await newGuest();
    const user = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(user.sub);

    // Act
    const { issued, guestProof } = await issueProof(guest);
    const linked = (await linkHandler(
      request(user, "POST", "/identity/link", { guestProof, guestIdentityId: guest.identityId }),
    )) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(issued.statusCode).toBe(200);
    const [header, payload] = guestProof.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toMatchObject({
      alg: "RS256",
      kid: keyId,
    });
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      iss: SELF_ISSUER,
      sub: guest.identityId,
    });
    expect(linked.statusCode).toBe(200);
    expect(bodyOf(linked as { body?: string })).toMatchObject({
      outcome: "merged",
      identityId: user.identityId,
    });
  });

  it("refuses a proof in the same shape signed by another KMS key", async () => {
    // Prepare: a valid proof, re-signed with a second RSA key of the same KMS.
    const guest = await newGuest();
    const user = { identityId: newIdentityId(), sub: newSub() };
    await plane.createProfile(user.sub);
    const { guestProof } = await issueProof(guest);
    const [header, payload] = guestProof.split(".");
    const other = await kms.send(
      new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }),
    );
    const { Signature } = await kms.send(
      new SignCommand({
        KeyId: other.KeyMetadata!.KeyId,
        Message: Buffer.from(`${header}.${payload}`),
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    );
    const forged = `${header}.${payload}.${Buffer.from(Signature!).toString("base64url")}`;

    // Act
    const linked = (await linkHandler(
      request(user, "POST", "/identity/link", { guestProof: forged }),
    )) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(linked.statusCode).toBe(403);
    expect(bodyOf(linked as { body?: string })).toMatchObject({ error: "GuestProofRejected" });
  });

  it("refuses an identity the identity pool does not know: it cannot be shown to be a guest", async () => {
    // Act
    const { issued } = await issueProof({ identityId: newIdentityId() });

    // Assess
    expect(issued.statusCode).toBe(403);
    expect(bodyOf(issued as { body?: string })).toMatchObject({ error: "NotAGuest" });
  });
});
