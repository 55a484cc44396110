/**
 * The local cloud's console against a real plane (user pool, identity pool, STS, DynamoDB, SNS,
 * SQS, Kinesis), a real Lambda runtime over tiny handler bundles and a real MQTT broker: the
 * snapshot module, the control routes, and the page in Debian's chromium (playwright-core).
 */
import { existsSync } from "node:fs";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { MqttClient } from "mqtt";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { LocalCloud } from "../../src/cloud/start";
import {
  type ConsoleData,
  type ConsolePlugin,
  type ConsoleSources,
  registerConsole,
} from "../../src/console/index";
import { redactText, redactValue } from "../../src/console/redact";
import { BUILT_IN_SERVICES, type LocalAws, startLocalAws } from "../../src/index";
import type { LambdaRuntime } from "../../src/lambda/types";
import { type MqttBroker, startMqttBroker } from "../../src/services/iot-data/index";
import { startXRayDaemon, type XRayDaemon } from "../../src/services/xray/index";
import { identityPoolTrustPolicy } from "../../src/testing";
import {
  APP_ROLE_IOT_POLICY,
  connectMqtt,
  identityId,
  ownTopic,
  presignedUrl,
  role,
  TestIamDirectory,
} from "../iot-data/fixtures";
import { Bundles, testRuntime } from "../lambda/bundles";

const REGION = "us-east-1";
/** Debian's chromium (`.ci/run` installs it); `CHROMIUM_PATH` points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const roleArn = (name: string) => `arn:aws:iam::000000000000:role/console-${name}`;
const TABLE = "console-identity";
const PASSWORD = "Console-Passw0rd!";
const TEMPORARY_PASSWORD = "Temp-Passw0rd!42";
const HANDLER_SECRET = "handler-secret-0f9e8d7c";
const HANDLER_SESSION = "handler-session-token-a1b2c3";
const PAYLOAD_SECRET = "payload-secret-5566";

let aws: LocalAws;
let runtime: LambdaRuntime;
let broker: MqttBroker;
let xray: XRayDaemon;
let data: ConsoleData;
/** The traced function's trace, and the trace of an injected throttled call. */
let tracedRoot: string;
let throttledRoot: string;
let userPoolId: string;
let identityPoolId: string;
let idToken: string;
const bundles = new Bundles();
const clients: MqttClient[] = [];
/** Everything that must never reach the console. */
const secrets: string[] = [
  PASSWORD,
  TEMPORARY_PASSWORD,
  HANDLER_SECRET,
  HANDLER_SESSION,
  PAYLOAD_SECRET,
];
/**
 * An app's plug-in as plain as one can be: every item of a table, every field shown. The app's
 * real plug-in (scripts/console/identity-table.ts) is tested with the app.
 */
function tablePlugin(tableName: string): ConsolePlugin {
  return {
    name: "table",
    async views(context) {
      const items = await context.scanTable(tableName);
      return [
        {
          id: "items",
          title: `Items of ${tableName}`,
          count: items.length,
          tables: [
            {
              columns: [
                { label: "pk", field: "pk" },
                { label: "sk", field: "sk" },
                { label: "merged from", field: "mergedFrom", format: "tags" },
                { label: "document", field: "document" },
                { label: "event", field: "pendingEvent" },
              ],
              rows: items,
            },
          ],
        },
      ];
    },
  };
}

let email: string;
let sub: string;
let linked: string;
let mergedGuest: string;
let guestOnly: string;

const idp = () =>
  new CognitoIdentityProviderClient({ endpoint: aws.endpoint, region: REGION, credentials });
const identityClient = () =>
  new CognitoIdentityClient({ endpoint: aws.endpoint, region: REGION, credentials });
const clientOf = <T>(Client: new (config: object) => T) =>
  new Client({ endpoint: aws.endpoint, region: REGION, credentials });

async function until<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function createUser(address: string, clientId?: string): Promise<string | undefined> {
  await idp().send(
    new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: address,
      TemporaryPassword: TEMPORARY_PASSWORD,
      MessageAction: "SUPPRESS",
      UserAttributes: [{ Name: "email", Value: address }],
    }),
  );
  await idp().send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: address,
      Password: PASSWORD,
      Permanent: true,
    }),
  );
  if (!clientId) return undefined;
  const signedIn = await idp().send(
    new AdminInitiateAuthCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      AuthFlow: "ADMIN_USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: address, PASSWORD },
    }),
  );
  const result = signedIn.AuthenticationResult!;
  secrets.push(result.IdToken!, result.AccessToken!, result.RefreshToken!);
  return result.IdToken!;
}

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, include: BUILT_IN_SERVICES });

  // The user pool and identity pool, shaped like the Auth stack's.
  userPoolId = aws.cognitoIdp!.createUserPool({
    UserPoolName: "console",
    UsernameAttributes: ["email"],
  }).Id;
  const clientId = aws.cognitoIdp!.createUserPoolClient(userPoolId, {
    ClientName: "app",
    ExplicitAuthFlows: ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  }).ClientId;
  aws.cognitoIdp!.createGroup(userPoolId, { GroupName: "admin", Precedence: 1 });
  const providerName = `cognito-idp.${REGION}.amazonaws.com/${userPoolId}`;
  identityPoolId = aws.cognitoIdentity!.createIdentityPool({
    IdentityPoolName: "console",
    AllowUnauthenticatedIdentities: true,
    AllowClassicFlow: false,
    CognitoIdentityProviders: [{ ProviderName: providerName, ClientId: clientId }],
  }).IdentityPoolId;
  aws.cognitoIdentity!.setIdentityPoolRoles(identityPoolId, {
    Roles: { authenticated: roleArn("member"), unauthenticated: roleArn("guest") },
  });
  aws.sts!.putRole({
    arn: roleArn("guest"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "unauthenticated"),
  });
  aws.sts!.putRole({
    arn: roleArn("member"),
    trustPolicy: identityPoolTrustPolicy(identityPoolId, "authenticated"),
  });

  // A signed-in user in a group; two guests: one linked to the user, one merged into it.
  email = `console-${crypto.randomUUID().slice(0, 8)}@example.com`;
  idToken = (await createUser(email, clientId))!;
  sub = JSON.parse(Buffer.from(idToken.split(".")[1]!, "base64url").toString()).sub;
  await idp().send(
    new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: email, GroupName: "admin" }),
  );
  const getId = async () =>
    (await identityClient().send(new GetIdCommand({ IdentityPoolId: identityPoolId }))).IdentityId!;
  linked = await getId();
  mergedGuest = await getId();
  guestOnly = await getId();
  for (const id of [linked, mergedGuest]) {
    const out = await identityClient().send(
      new GetCredentialsForIdentityCommand({
        IdentityId: id,
        Logins: { [providerName]: idToken },
      }),
    );
    secrets.push(out.Credentials!.SecretKey!, out.Credentials!.SessionToken!);
  }

  // The identity table with the item shapes of packages/core.
  await aws.createTables([
    {
      TableName: TABLE,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    },
  ]);
  const dynamo = clientOf(DynamoDBClient);
  const put = (item: Record<string, unknown>) =>
    dynamo.send(new PutItemCommand({ TableName: TABLE, Item: item as never }));
  const now = new Date().toISOString();
  await put({
    pk: { S: `USER#${sub}` },
    sk: { S: "PROFILE" },
    sub: { S: sub },
    tenant: { S: "acme" },
    plan: { S: "pro" },
    roles: { L: [{ S: "admin" }] },
    createdAt: { S: now },
    version: { N: "1" },
    pendingEvent: {
      S: JSON.stringify({ id: "evt-1", type: "user.created", secret: PAYLOAD_SECRET }),
    },
    pendingEventId: { S: "evt-1" },
    outboxShard: { S: "3" },
    outboxAt: { S: `${now}#evt-1` },
  });
  await put({
    pk: { S: `IDENTITY#${linked}` },
    sk: { S: "IDENTITY" },
    identityId: { S: linked },
    userSub: { S: sub },
    logins: { SS: [providerName] },
    mergedFrom: { SS: [mergedGuest] },
    iotPolicies: { SS: ["identity-policy"] },
    linkedAt: { S: now },
  });
  await put({
    pk: { S: `IDENTITY#${mergedGuest}` },
    sk: { S: "IDENTITY" },
    identityId: { S: mergedGuest },
    mergedInto: { S: linked },
    mergedAt: { S: now },
  });
  await put({
    pk: { S: `IDENTITY#${mergedGuest}` },
    sk: { S: "DATA#preferences" },
    mergedInto: { S: linked },
    updatedAt: { S: now },
    version: { N: "2" },
  });
  await put({
    pk: { S: `IDENTITY#${linked}` },
    sk: { S: "DATA#preferences" },
    document: { M: { theme: { S: "dark" }, apiToken: { S: PAYLOAD_SECRET } } },
    mergedFrom: { SS: [mergedGuest] },
    updatedAt: { S: now },
    version: { N: "3" },
  });

  // Lambda: one call that succeeds with secrets in its event and result, one that throws.
  xray = await startXRayDaemon();
  runtime = testRuntime({ endpoint: aws.endpoint, tracing: xray });
  runtime.register(
    bundles.fn(
      "echo",
      `export const handler = async (event) => { console.log("password=" + event.password); return { ok: true, token: event.token, Credentials: event.Credentials }; };`,
    ),
  );
  runtime.register(
    bundles.fn(
      "failing",
      `export const handler = async () => { const e = new Error("no profile for this user"); e.name = "ProfileMissing"; throw e; };`,
    ),
  );
  const echoed = await runtime.invoke(
    "echo",
    {
      password: PASSWORD,
      token: idToken,
      headers: { authorization: `Bearer ${idToken}` },
      Credentials: {
        AccessKeyId: "ASIACONSOLEKEY1",
        SecretAccessKey: HANDLER_SECRET,
        SessionToken: HANDLER_SESSION,
      },
    },
    { source: "apigateway" },
  );
  expect(echoed.ok).toBe(true);
  expect((await runtime.invoke("failing", { sub }, { source: "cognito-idp" })).ok).toBe(false);

  // X-Ray: a function with active tracing reads the profile through the functions' own tracer.
  const reader = await bundles.built(
    "traced-reader",
    `import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { traced } from "./packages/functions/src/observability";
const client = traced(new DynamoDBClient({}));
export const handler = async (event: { sub: string; secret: string }) => {
  await client.send(new GetItemCommand({ TableName: ${JSON.stringify(TABLE)}, Key: { pk: { S: "USER#" + event.sub }, sk: { S: "PROFILE" } } }));
  return process.env._X_AMZN_TRACE_ID;
};`,
    { tracing: "Active", timeoutSeconds: 10 },
  );
  runtime.register(reader);
  const read = await runtime.invoke(reader.arn, { sub, secret: PAYLOAD_SECRET });
  expect(read.ok).toBe(true);
  tracedRoot = /Root=([^;]+)/.exec(String((read as { payload: unknown }).payload))![1]!;
  await until(async () => {
    const documents = xray.trace(tracedRoot)?.documents ?? [];
    return documents.length >= 2 ? true : undefined;
  }, "the traced function's segment and subsegment");
  // An injected fault: a throttled SNS call whose function segment never arrived.
  throttledRoot = `1-${Math.floor(Date.now() / 1000).toString(16)}-${"ab".repeat(12)}`;
  const startTime = Date.now() / 1000;
  xray.record({
    id: "0123456789abcdef",
    trace_id: throttledRoot,
    parent_id: "fedcba9876543210",
    type: "subsegment",
    name: "SNS",
    namespace: "aws",
    start_time: startTime,
    end_time: startTime + 0.012,
    aws: { operation: "Publish", topic_arn: "arn:aws:sns:us-east-1:000000000000:events" },
    http: { response: { status: 400 } },
    error: true,
    throttle: true,
    cause: {
      exceptions: [
        { id: "00000000000000aa", type: "ThrottlingException", message: PAYLOAD_SECRET },
      ],
    },
  });

  // SNS to SQS, and the event stream.
  const sqs = clientOf(SQSClient);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "console-welcome" }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const sns = clientOf(SNSClient);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "console-events" }));
  await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: Attributes!.QueueArn }),
  );
  await sns.send(
    new PublishCommand({ TopicArn, Message: JSON.stringify({ type: "user.created", sub }) }),
  );
  const kinesis = clientOf(KinesisClient);
  await kinesis.send(new CreateStreamCommand({ StreamName: "console-stream", ShardCount: 1 }));
  await kinesis.send(
    new PutRecordCommand({
      StreamName: "console-stream",
      PartitionKey: sub,
      Data: Buffer.from(JSON.stringify({ type: "user.created", sub, idToken })),
    }),
  );

  // MQTT: a guest whose role grants its own topics publishes once.
  const iam = new TestIamDirectory();
  const mqttRole = iam.put(role("console-mqtt", "unauthenticated", [APP_ROLE_IOT_POLICY]));
  aws.sts!.putRole({ arn: mqttRole.arn, trustPolicy: mqttRole.trustPolicy });
  broker = await startMqttBroker({
    port: 0,
    region: REGION,
    sts: aws.sts!,
    iot: aws.iot!,
    iam,
  });
  const deviceId = identityId();
  const deviceCredentials = aws.sts!.issueCredentials({
    roleArn: mqttRole.arn,
    sessionName: "CognitoIdentityCredentials",
    subject: deviceId,
    identityId: deviceId,
    durationSeconds: 3600,
  });
  secrets.push(deviceCredentials.secretAccessKey, deviceCredentials.sessionToken);
  const client = await connectMqtt(await presignedUrl(broker.url, deviceCredentials), deviceId);
  clients.push(client);
  await client.publishAsync(
    ownTopic(deviceId, "telemetry"),
    JSON.stringify({ temperature: 21, password: PAYLOAD_SECRET }),
    { qos: 1 },
  );

  data = registerConsole(
    aws,
    { aws, runtime, broker, traces: xray },
    {
      userPoolIds: () => [userPoolId],
      plugins: [tablePlugin(TABLE)],
    },
  );
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.endAsync().catch(() => undefined);
  await broker?.close();
  await runtime?.close();
  await xray?.close();
  await aws?.stop();
  bundles.cleanup();
});

describe("console snapshot", () => {
  it("shows users with their status and groups", async () => {
    const state = await data.snapshot();
    expect(state.errors).toEqual([]);
    expect(state.users).toContainEqual(
      expect.objectContaining({
        poolId: userPoolId,
        email,
        sub,
        status: "CONFIRMED",
        enabled: true,
        groups: ["admin"],
      }),
    );
  });

  it("shows identities with their logins, guests and merges", async () => {
    const state = await data.snapshot();
    const byId = new Map(state.identities.map((identity) => [identity.identityId, identity]));
    expect(byId.get(linked)).toMatchObject({
      guest: false,
      disabled: false,
      logins: [{ userId: sub, user: email }],
    });
    expect(byId.get(mergedGuest)).toMatchObject({
      mergedInto: linked,
      disabled: true,
      guest: false,
    });
    expect(byId.get(guestOnly)).toMatchObject({ guest: true, logins: [] });
  });

  it("shows a plug-in's views of the app's table, read through the local DynamoDB", async () => {
    const { views, errors } = await data.snapshot();
    expect(errors).toEqual([]);
    expect(views.map((view) => [view.id, view.title, view.count])).toEqual([
      ["items", `Items of ${TABLE}`, 5],
    ]);
    const [items] = views[0]!.tables;
    expect(items!.columns.map((column) => [column.field, column.format])).toEqual([
      ["pk", "text"],
      ["sk", "text"],
      ["mergedFrom", "tags"],
      ["document", "text"],
      ["pendingEvent", "text"],
    ]);
    expect(items!.rows).toContainEqual(
      expect.objectContaining({
        pk: `IDENTITY#${linked}`,
        sk: "IDENTITY",
        mergedFrom: [mergedGuest],
      }),
    );
    // A nested document becomes JSON text, redacted by key like everything else.
    const preferences = items!.rows.find(
      (row) => row.pk === `IDENTITY#${linked}` && row.sk === "DATA#preferences",
    );
    expect(JSON.parse(String(preferences!.document))).toEqual({
      theme: "dark",
      apiToken: "[redacted]",
    });
  });

  it("redacts whatever a plug-in returns: secret keys, JSON held as text, JWTs", async () => {
    const leaky: ConsolePlugin = {
      name: "leaky",
      views: () => [
        {
          id: "leaky",
          title: "leaky",
          count: 1,
          tables: [
            {
              columns: [{ label: "all", field: "all" }],
              rows: [
                {
                  password: PAYLOAD_SECRET,
                  nested: { sessionToken: PAYLOAD_SECRET },
                  asText: JSON.stringify({ clientSecret: PAYLOAD_SECRET }),
                  note: `token ${idToken}`,
                  kept: "visible",
                },
              ],
            },
          ],
        },
      ],
    };
    const state = await registerConsole(
      { registerControl: () => undefined },
      { aws },
      {
        plugins: [leaky],
      },
    ).snapshot();
    const text = JSON.stringify(state.views);
    expect(text).not.toContain(PAYLOAD_SECRET);
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(state.views[0]!.tables[0]!.rows[0]).toMatchObject({
      password: "[redacted]",
      kept: "visible",
    });
  });

  it("reports a plug-in that fails or returns what the page cannot draw, and shows the others", async () => {
    const failing: ConsolePlugin = {
      name: "failing",
      views: () => {
        throw new Error(`cannot read ${PAYLOAD_SECRET.length} items`);
      },
    };
    const malformed: ConsolePlugin = {
      name: "malformed",
      views: () => [{ id: "Not An Id", title: "x", count: 0, tables: [] }],
    };
    const duplicate: ConsolePlugin = {
      name: "duplicate",
      views: () => [{ id: "items", title: "again", count: 0, tables: [] }],
    };
    const state = await registerConsole(
      { registerControl: () => undefined },
      { aws },
      {
        plugins: [tablePlugin(TABLE), failing, malformed, duplicate],
      },
    ).snapshot();
    expect(state.views.map((view) => view.id)).toEqual(["items"]);
    expect(state.errors).toEqual([
      { section: "failing", message: "cannot read 19 items" },
      { section: "malformed", message: expect.stringContaining("A view id must match") },
      { section: "duplicate", message: "Two views with the id items" },
    ]);
  });

  it("shows invocations with event and result summaries, errors, and credentials as their key id", async () => {
    const { invocations } = await data.snapshot();
    // Newest first (the traced reader ran after these two).
    const [failing, echo] = invocations.filter((i) => i.functionName !== "traced-reader");
    expect(failing).toMatchObject({
      functionName: "failing",
      source: "cognito-idp",
      ok: false,
      errorType: "ProfileMissing",
      errorMessage: "no profile for this user",
    });
    expect(echo).toMatchObject({ functionName: "echo", source: "apigateway", ok: true });
    const event = JSON.parse(String(echo!.event));
    expect(event.password).toBe("[redacted]");
    expect(event.headers.authorization).toBe("[redacted]");
    expect(event.Credentials).toEqual({ AccessKeyId: "ASIACONSOLEKEY1" });
    expect(JSON.parse(String(echo!.result))).toMatchObject({
      ok: true,
      token: "[redacted]",
      Credentials: { AccessKeyId: "ASIACONSOLEKEY1" },
    });
  });

  it("shows SNS deliveries, SQS depths, Kinesis records and MQTT traffic", async () => {
    // SNS delivers asynchronously: wait (bounded) until the delivery is recorded.
    const snapshot = await until(async () => {
      const s = await data.snapshot();
      return s.snsDeliveries.some((d) => d.status === "delivered") ? s : undefined;
    }, "the SNS delivery");
    expect(snapshot.snsDeliveries[0]).toMatchObject({ protocol: "sqs", status: "delivered" });
    expect(snapshot.sqsQueues).toContainEqual(
      expect.objectContaining({ name: "console-welcome", visible: 1, inFlight: 0 }),
    );
    const stream = snapshot.kinesis.find((s) => s.stream === "console-stream");
    expect(stream?.recordCount).toBe(1);
    expect(JSON.parse(String(stream!.records[0]!.data))).toMatchObject({
      type: "user.created",
      sub,
      idToken: "[redacted]",
    });
    expect(snapshot.mqtt.connections).toHaveLength(1);
    expect(snapshot.mqtt.messages[0]).toMatchObject({
      payload: JSON.stringify({ temperature: 21, password: "[redacted]" }),
    });
  });

  it("shows traces, newest first: the function segment and its AWS calls", async () => {
    const { traces } = await data.snapshot();
    expect(traces.map((trace) => trace.traceId).slice(0, 2)).toEqual([throttledRoot, tracedRoot]);
    const [throttled, traced] = traces;
    expect(traced).toMatchObject({
      fault: false,
      error: false,
      throttle: false,
      orphans: [],
      segments: [
        {
          name: "traced-reader",
          origin: "AWS::Lambda::Function",
          fault: false,
          subsegments: [
            {
              name: "DynamoDB",
              operation: "GetItem",
              resource: TABLE,
              region: REGION,
              status: 200,
              retries: 0,
              error: false,
              throttle: false,
              fault: false,
            },
          ],
        },
      ],
    });
    const call = traced!.segments[0]!.subsegments[0]!;
    expect(call.durationMs).toBeGreaterThanOrEqual(0);
    expect(call.parentId).toBe(traced!.segments[0]!.id);
    expect(traced!.segments[0]!.durationMs!).toBeGreaterThanOrEqual(call.durationMs!);
    // A subsegment without its segment is still shown, with its flags and exception type.
    expect(throttled).toMatchObject({
      segments: [],
      error: true,
      throttle: true,
      orphans: [
        {
          name: "SNS",
          operation: "Publish",
          resource: "arn:aws:sns:us-east-1:000000000000:events",
          status: 400,
          durationMs: 12,
          error: true,
          throttle: true,
          exceptions: ["ThrottlingException"],
        },
      ],
    });
  });

  it("shares one read between concurrent requests", async () => {
    const [a, b] = await Promise.all([data.snapshot(), data.snapshot()]);
    expect(a).toBe(b);
    expect(await data.snapshot()).not.toBe(a);
  });

  it("never contains a password, token, secret key or session token", async () => {
    const text = JSON.stringify(await data.snapshot());
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(text).toContain("ASIACONSOLEKEY1");
  });

  it("reads the full local cloud's handle as well as a test's own services", () => {
    expectTypeOf<LocalCloud>().toMatchTypeOf<ConsoleSources>();
    expectTypeOf<{
      aws: LocalAws;
      runtime: LambdaRuntime;
      broker: MqttBroker;
    }>().toMatchTypeOf<ConsoleSources>();
  });

  it("reports a section it cannot read instead of failing", async () => {
    const broken = registerConsole(
      { registerControl: () => undefined },
      { aws },
      { userPoolIds: () => ["us-east-1_missing"], plugins: [tablePlugin("no-such-table")] },
    );
    const state = await broken.snapshot();
    expect(state.errors.map((e) => e.section).sort()).toEqual(["table", "users"]);
    expect(state.unavailable).toEqual(["invocations", "traces", "mqtt"]);
  });
});

describe("redaction", () => {
  it("redacts by key, keeps access key ids, masks JWTs and presigned secrets in text", () => {
    expect(
      redactValue({
        Password: "p",
        nested: { SessionToken: "s", accessKeyId: "AKIA1", Logins: { x: "y" } },
        credentials: { accessKeyId: "ASIA2", secretAccessKey: "k" },
        note: "see eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln",
      }),
    ).toEqual({
      Password: "[redacted]",
      nested: { SessionToken: "[redacted]", accessKeyId: "AKIA1", Logins: "[redacted]" },
      credentials: { AccessKeyId: "ASIA2" },
      note: "see [redacted jwt]",
    });
    // A clipped summary no longer parses: patterns still apply.
    expect(
      redactText(
        '{"a":1,"ClientSecret":"abc","Credentials":{"AccessKeyId":"ASIA3","SecretKey":"z"},"b":"…',
      ),
    ).toBe('{"a":1,"ClientSecret":"[redacted]","Credentials":{"AccessKeyId":"ASIA3"},"b":"…');
    expect(redactText("GET /mqtt?X-Amz-Signature=abcd&X-Amz-Security-Token=efgh")).toBe(
      "GET /mqtt?X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]",
    );
  });
});

describe("console routes", () => {
  it("serves the page and the state, and refuses other origins and writes", async () => {
    const page = await fetch(`${aws.endpoint}/_local/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/<script[^>]+src=|(src|href)="(?!data:)|https?:\/\//);

    const state = await fetch(`${aws.endpoint}/_local/console/state`);
    expect(state.status).toBe(200);
    expect(((await state.json()) as { users: unknown[] }).users.length).toBeGreaterThan(0);

    const foreign = await fetch(`${aws.endpoint}/_local/console/state`, {
      headers: { origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    const write = await fetch(`${aws.endpoint}/_local/console/state`, { method: "POST" });
    expect(write.status).toBe(405);
    expect(() => aws.registerControl("console", async () => ({ status: 200 }))).toThrow();
    expect(() => aws.registerControl("sns", async () => ({ status: 200 }))).toThrow();
  });
});

const HAS_CHROMIUM = existsSync(CHROMIUM);
/** In CI the browser test must run: a missing browser fails it instead of skipping it. */
const BROWSER_REQUIRED = process.env.CI === "true";
describe.skipIf(!HAS_CHROMIUM && !BROWSER_REQUIRED)(
  HAS_CHROMIUM || BROWSER_REQUIRED
    ? `console page in ${CHROMIUM}`
    : `console page (skipped: ${CHROMIUM} is not installed; CI=true fails instead)`,
  () => {
    let browser: Browser;

    beforeAll(async () => {
      if (!HAS_CHROMIUM) {
        throw new Error(
          `CI=true requires the console's browser test, but ${CHROMIUM} is not installed ` +
            "(.ci/run installs Debian's chromium)",
        );
      }
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Root in a container has no user namespace for chromium's sandbox.
        args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it("shows a user created after it opened, without a reload, and no secret", async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      let navigations = 0;
      page.on("framenavigated", () => navigations++);
      await page.goto(`${aws.endpoint}/_local/console`);
      const users = page.locator("#users");
      await users.getByText(email).waitFor({ timeout: 15_000 });
      await page
        .locator("#invocations")
        .getByText("ProfileMissing", { exact: true })
        .waitFor({ timeout: 15_000 });
      const traces = page.locator("#traces");
      await traces.getByText("1 call: DynamoDB GetItem").waitFor({ timeout: 15_000 });
      // The plug-in's view: its own section after Identities, its rows drawn as text and tags.
      const view = page.locator("#view-items");
      await view.getByText(`Items of ${TABLE}`).waitFor({ timeout: 15_000 });
      await view.getByText(`IDENTITY#${linked}`).first().waitFor({ timeout: 5_000 });
      await view.locator(".tag", { hasText: mergedGuest }).first().waitFor({ timeout: 5_000 });
      expect(await page.locator("#identities + #views > section").count()).toBe(1);
      await traces.getByText("traced-reader").waitFor({ timeout: 5_000 });
      await traces.getByText("throttle", { exact: true }).first().waitFor({ timeout: 5_000 });
      // Open the trace: its call with the table, status and flags.
      await traces.getByText("1 call: DynamoDB GetItem").click();
      await traces.getByText(TABLE, { exact: true }).waitFor({ timeout: 5_000 });
      expect(navigations).toBe(1);

      const later = `console-later-${crypto.randomUUID().slice(0, 8)}@example.com`;
      await createUser(later);
      await users.getByText(later).waitFor({ timeout: 15_000 });
      expect(navigations).toBe(1);

      // Open an invocation's details: event and result are shown, redacted.
      await page.locator("#invocations summary").last().click();
      await page.locator("#invocations details[open] pre").first().waitFor({ timeout: 5_000 });
      const text = (await page.locator("body").textContent()) ?? "";
      expect(text).toContain("ASIACONSOLEKEY1");
      expect(text).toContain("[redacted]");
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
      expect(await page.locator("#status").textContent()).toMatch(/^live/);
      expect(problems).toEqual([]);
      await page.close();
    });
  },
);
