/**
 * Test plane for the identity routes: the embedded AWS services (dynalite, Kinesis, the local
 * IoT control plane and SNS) behind one loopback edge, a JWKS server for guest proofs minted here
 * in the exact shape of Cognito identity-pool OpenID tokens, and builders for API Gateway v2
 * IAM-authorizer events from a real-shaped fixture.
 */

import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreatePolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import { CreateStreamCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  DynamoIdentityDataStore,
  DynamoIdentityGraph,
  DynamoOutboxStore,
  DynamoProfileStore,
  DynamoUserDeletionStore,
} from "@boarding-pass/core/adapters/dynamodb";
import { IotClientPolicyAttachments } from "@boarding-pass/core/adapters/iot";
import { JwtOpenIdTokenVerifier } from "@boarding-pass/core/adapters/jwt-verifier";
import { SnsKinesisEventPublisher } from "@boarding-pass/core/adapters/sns-kinesis";
import type { IdentityPoolDirectory, LinkDeps } from "@boarding-pass/core/identity";
import type { LocalAws } from "@boarding-pass/local";
import { createIotService, type IotService } from "@boarding-pass/local/services/iot";
import { createSnsService, type SnsService } from "@boarding-pass/local/services/sns";
import { loadEvent } from "@boarding-pass/testing";
import { startEmbeddedAws } from "@boarding-pass/testing/embedded";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";

export const REGION = "us-east-1";
export const ISSUER = "https://cognito-identity.amazonaws.com";
/** Issuer of the backend's own guest proofs in these tests (`selfGuestProofIssuer("test")`). */
export const SELF_ISSUER = "urn:boardingpass:test:guest-proof";
export const USER_POOL = `cognito-idp.${REGION}.amazonaws.com/${REGION}_AbCdEf123`;
const LAMBDA_SUBSCRIBER = `arn:aws:lambda:${REGION}:000000000000:function:identity-events`;
const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export const newIdentityId = () => `${REGION}:${randomUUID()}`;
export const newSub = () => randomUUID();

// ---- Guest proofs ------------------------------------------------------------------------------

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function newSigningKey(kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    kid,
    privateKey,
    jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" },
  };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An RS256 JWT; `claims` override the Cognito identity-pool OpenID token defaults. */
export function mintOpenIdToken(
  key: SigningKey,
  claims: { sub: string; aud: string } & Record<string, unknown>,
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: ISSUER,
    amr: ["unauthenticated"],
    iat: now,
    exp: now + 600,
    ...claims,
  };
  const signingInput = `${b64url({ kid: key.kid, typ: "JWS", alg: "RS256" })}.${b64url(payload)}`;
  const signature = sign("RSA-SHA256", Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}

// ---- API Gateway events ------------------------------------------------------------------------

/** A real-shape HTTP API (payload 2.0) request signed with identity-pool credentials. */
const fixture = loadEvent<APIGatewayProxyEventV2WithIAMAuthorizer>(
  "apigw",
  "http-api-iam-cognito-identity",
);

/** The admin role of these tests (the stacks pass theirs as `ADMIN_ROLE_ARN`). */
export const ADMIN_ROLE_ARN = "arn:aws:iam::123456789012:role/prod-boarding-pass-admin-us-east-1";
export const MEMBER_ROLE_ARN = "arn:aws:iam::123456789012:role/prod-boarding-pass-member-us-east-1";

/** The event as API Gateway passes it when the request was signed with a session of `roleArn`. */
export function signedWithRole<E extends APIGatewayProxyEventV2WithIAMAuthorizer>(
  event: E,
  roleArn: string,
): E {
  const [, partition, account, name] = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(
    roleArn,
  )!;
  const iam = event.requestContext.authorizer.iam as unknown as Record<string, unknown>;
  iam.userArn = `arn:${partition}:sts::${account}:assumed-role/${name}/CognitoIdentityCredentials`;
  return event;
}

export interface Caller {
  identityId: string;
  /** Absent for a guest. */
  sub?: string;
}

export function iamEvent(
  caller: Caller,
  poolId: string,
  request: {
    method: string;
    path: string;
    body?: unknown;
    pathParameters?: Record<string, string>;
  },
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const event = structuredClone(fixture);
  const amr =
    caller.sub === undefined
      ? ["unauthenticated"]
      : ["authenticated", USER_POOL, `${USER_POOL}:CognitoSignIn:${caller.sub}`];
  const iam = event.requestContext.authorizer.iam as unknown as Record<string, unknown>;
  iam.cognitoIdentity = { amr, identityId: caller.identityId, identityPoolId: poolId };
  event.routeKey = `${request.method} ${request.path}`;
  event.rawPath = request.path;
  event.requestContext.routeKey = event.routeKey;
  event.requestContext.http.method = request.method;
  event.requestContext.http.path = request.path;
  if (request.pathParameters) event.pathParameters = request.pathParameters;
  event.body =
    request.body === undefined
      ? undefined
      : typeof request.body === "string"
        ? request.body
        : JSON.stringify(request.body);
  return event;
}

export interface HttpResult {
  statusCode?: number;
  body?: string;
}

export const bodyOf = <T = Record<string, unknown>>(result: HttpResult | string): T =>
  JSON.parse(typeof result === "string" ? result : (result.body ?? "null")) as T;

// ---- The plane ---------------------------------------------------------------------------------

export interface Plane {
  aws: LocalAws;
  endpoint: string;
  iot: IotService;
  sns: SnsService;
  dynamo: DynamoDBDocumentClient;
  iotClient: IoTClient;
  snsClient: SNSClient;
  kinesisClient: KinesisClient;
  tableName: string;
  topicArn: string;
  streamName: string;
  policyName: string;
  identityPoolId: string;
  key: SigningKey;
  /** The key behind the backend-issued guest proofs (KMS in production). */
  selfKey: SigningKey;
  jwksUri: string;
  /** SNS messages delivered to the subscriber, parsed. */
  snsMessages: Array<{ id: string; type: string; [key: string]: unknown }>;
  kinesisEvents(): Promise<Array<{ id: string; type: string; [key: string]: unknown }>>;
  createProfile(sub: string, tenant?: string): Promise<void>;
  /**
   * The identity pool's logins per identity, as DescribeIdentity would answer: none unless a
   * test signs someone in on the identity (`identityPool.signIn`). The real adapter runs against
   * the local identity pool in the end-to-end tests (test/e2e/attack-guest-takeover.test.ts).
   */
  identityPool: IdentityPoolDirectory & { signIn(identityId: string): void };
  deps(overrides?: Partial<LinkDeps>): LinkDeps;
  stop(): Promise<void>;
}

export const TABLE_DEFINITION = (tableName: string) => ({
  TableName: tableName,
  BillingMode: "PAY_PER_REQUEST" as const,
  AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk", "outboxShard", "outboxAt"].map((name) => ({
    AttributeName: name,
    AttributeType: "S" as const,
  })),
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" as const },
    { AttributeName: "sk", KeyType: "RANGE" as const },
  ],
  GlobalSecondaryIndexes: [
    ["gsi1", "gsi1pk", "gsi1sk"],
    ["outbox", "outboxShard", "outboxAt"],
  ].map(([IndexName, hash, range]) => ({
    IndexName,
    KeySchema: [
      { AttributeName: hash, KeyType: "HASH" as const },
      { AttributeName: range, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  })),
});

/** A permissive enough document in the shape of stacks/Iot.ts; the test only attaches it. */
const POLICY_DOCUMENT = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: "iot:Connect",
      Resource: "arn:aws:iot:us-east-1:000000000000:client/${cognito-identity.amazonaws.com:sub}",
    },
  ],
});

async function serveJwks(keys: () => unknown[]): Promise<{ uri: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks_uri") {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ keys: keys() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}/.well-known/jwks_uri`, server };
}

export async function startPlane(): Promise<Plane> {
  const { aws, endpoint } = await startEmbeddedAws();
  const iot = createIotService({ region: REGION });
  const sns = createSnsService({ region: REGION });
  aws.register(iot);
  aws.register(sns);
  const config = { endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const iotClient = new IoTClient(config);
  const snsClient = new SNSClient(config);
  const kinesisClient = new KinesisClient(config);

  const suffix = randomUUID().slice(0, 8);
  const tableName = `identity-${suffix}`;
  await aws.createTables([TABLE_DEFINITION(tableName)]);
  const policyName = `test-boarding-pass-identity-${suffix}`;
  await iotClient.send(new CreatePolicyCommand({ policyName, policyDocument: POLICY_DOCUMENT }));
  const streamName = `events-${suffix}`;
  await kinesisClient.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: `events-${suffix}` }));
  const snsMessages: Plane["snsMessages"] = [];
  sns.registerLambda(LAMBDA_SUBSCRIBER, async (event) => {
    for (const record of event.Records) snsMessages.push(JSON.parse(record.Sns.Message));
  });
  await snsClient.send(
    new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: LAMBDA_SUBSCRIBER }),
  );

  const key = newSigningKey();
  const selfKey = newSigningKey();
  const jwks = await serveJwks(() => [key.jwk]);
  const identityPoolId = newIdentityId();

  const logins = new Map<string, string[]>();
  const identityPool: Plane["identityPool"] = {
    loginsOf: async (identityId) => logins.get(identityId) ?? [],
    signIn: (identityId) => logins.set(identityId, [USER_POOL]),
  };

  const plane: Plane = {
    identityPool,
    aws,
    endpoint,
    iot,
    sns,
    dynamo,
    iotClient,
    snsClient,
    kinesisClient,
    tableName,
    topicArn: TopicArn!,
    streamName,
    policyName,
    identityPoolId,
    key,
    selfKey,
    jwksUri: jwks.uri,
    snsMessages,
    async kinesisEvents() {
      const response = await fetch(
        `${endpoint}/_local/kinesis/records?stream=${encodeURIComponent(streamName)}`,
      );
      const { records } = (await response.json()) as { records: Array<{ data: string }> };
      return records.map((record) => JSON.parse(record.data));
    },
    async createProfile(sub, tenant = "acme") {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `USER#${sub}`,
            sk: "PROFILE",
            sub,
            tenant,
            plan: "free",
            roles: ["member"],
            createdAt: new Date().toISOString(),
            version: 1,
          },
        }),
      );
    },
    deps(overrides = {}) {
      return {
        graph: new DynamoIdentityGraph(dynamo, tableName),
        data: new DynamoIdentityDataStore(dynamo, tableName),
        publisher: new SnsKinesisEventPublisher({
          sns: snsClient,
          kinesis: kinesisClient,
          topicArn: TopicArn!,
          streamName,
          baseDelayMs: 1,
        }),
        outbox: new DynamoOutboxStore(dynamo, tableName),
        profiles: new DynamoProfileStore(dynamo, tableName),
        identityPool,
        deletions: new DynamoUserDeletionStore(dynamo, tableName),
        verifier: new JwtOpenIdTokenVerifier({
          identityPoolId,
          issuers: [
            { issuer: ISSUER, jwksUri: jwks.uri },
            { issuer: SELF_ISSUER, jwks: async () => ({ keys: [selfKey.jwk] }) },
          ],
        }),
        iot: new IotClientPolicyAttachments(iotClient),
        backoff: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
        identityPoolId,
        iotPolicyName: policyName,
        source: "boardingpass/test/link-identity",
        now: () => new Date(),
        ...overrides,
      };
    },
    async stop() {
      await new Promise((resolve) => jwks.server.close(resolve));
      for (const client of [iotClient, snsClient, kinesisClient]) client.destroy();
      dynamo.destroy();
      await aws.stop();
    },
  };
  return plane;
}

/** A document client whose `send` fails when `shouldFail` says so: fault injection only. */
export function failingDynamo(
  client: DynamoDBDocumentClient,
  shouldFail: (command: {
    input: Record<string, unknown>;
    constructor: { name: string };
  }) => boolean,
): Pick<DynamoDBDocumentClient, "send"> {
  return {
    send: ((command: { input: Record<string, unknown>; constructor: { name: string } }) => {
      if (shouldFail(command)) {
        return Promise.reject(
          Object.assign(new Error("injected fault"), { name: "InjectedFault" }),
        );
      }
      return client.send(command as never);
    }) as DynamoDBDocumentClient["send"],
  };
}

/** A `JwtSigner` over a node:crypto key: what KMS does in production, in process. */
export function localSigner(key: SigningKey) {
  return {
    keyId: key.kid,
    sign: async (input: Uint8Array) => new Uint8Array(sign("RSA-SHA256", input, key.privateKey)),
  };
}
