/**
 * The console's data: one snapshot of what the local cloud holds and did, assembled from the
 * services themselves (their wire APIs and inspection methods), with every secret redacted.
 *
 * `ConsoleSources` is what both a running `LocalCloud` (`startLocalCloud`) and a test's own set of
 * services satisfy: the plane, and optionally the Lambda runtime, the MQTT broker and the stack
 * outputs. Each section is read on its own: one that fails is reported in `errors`, not thrown.
 * An app's own data (its tables' items) comes from the plug-ins it registers (views.ts): the
 * console knows AWS's shapes, never the app's keys.
 */
import type { LocalAws } from "../index";
import type { LambdaRuntime } from "../lambda/types";
import type { MqttBroker } from "../services/iot-data/index";
import type { TraceSource } from "../services/xray/index";
import type { LocalService, ServiceRequest } from "../types";
import { clip, redactString, redactText, redactValue } from "./redact";
import { type ConsoleTrace, traceView } from "./traces";
import {
  type ConsolePlugin,
  type ConsolePluginContext,
  type ConsoleView,
  checkedViews,
} from "./views";

export interface ConsoleSources {
  aws: Pick<
    LocalAws,
    | "region"
    | "endpoint"
    | "dynamodb"
    | "kinesis"
    | "sns"
    | "sqs"
    | "cognitoIdp"
    | "cognitoIdentity"
  >;
  runtime?: Pick<LambdaRuntime, "invocations">;
  broker?: Pick<MqttBroker, "connections" | "messages">;
  /** The local X-Ray daemon (`LocalCloud.xray`): the Traces section. */
  traces?: TraceSource;
  /** Stack outputs by stack (`LocalCloud.outputs`): `*UserPoolId`, and whatever plug-ins read. */
  outputs?: Record<string, Record<string, string>>;
}

export interface ConsoleOptions {
  /** User pools to list (the user pool has no ListUserPools); default: `*UserPoolId` outputs. */
  userPoolIds?: () => readonly string[];
  /** The app's own views (its tables' items), drawn after Identities, in this order. */
  plugins?: readonly ConsolePlugin[];
  /** Kinesis streams to show; default: every stream (ListStreams). */
  streamNames?: () => readonly string[] | undefined;
  /** Rows kept per list (invocations, traces, deliveries, records, messages); 50 by default. */
  limit?: number;
}

interface ConsoleUser {
  poolId: string;
  username: string;
  sub?: string;
  email?: string;
  status: string;
  enabled: boolean;
  groups: string[];
  created: string;
  attributes: Record<string, string>;
}

interface ConsoleIdentity {
  identityId: string;
  identityPoolId: string;
  identityPoolName?: string;
  guest: boolean;
  disabled: boolean;
  mergedInto?: string;
  /** `user`: the email (or username) of the user-pool user the login is, when listed. */
  logins: { provider: string; userId: string; user?: string }[];
  created: string;
  lastModified: string;
}

export interface ConsoleState {
  generatedAt: string;
  region: string;
  endpoint: string;
  users: ConsoleUser[];
  identities: ConsoleIdentity[];
  /** The plug-ins' views, checked and redacted (views.ts); a failing plug-in is in `errors`. */
  views: ConsoleView[];
  invocations: Record<string, unknown>[];
  /** Recent X-Ray traces, newest first: the function segment and its AWS-call subsegments. */
  traces: ConsoleTrace[];
  snsDeliveries: Record<string, unknown>[];
  sqsQueues: Record<string, unknown>[];
  kinesis: {
    stream: string;
    recordCount: number;
    records: Record<string, unknown>[];
  }[];
  mqtt: { connections: Record<string, unknown>[]; messages: Record<string, unknown>[] };
  /** Sections that could not be read, and why. */
  errors: { section: string; message: string }[];
  /** Sections whose source is not running (no runtime, no broker, no such service). */
  unavailable: string[];
}

const TEXT_LIMIT = 2_000;
const LOG_LINES = 20;
const MAX_IDENTITIES = 600;
const MAX_TABLE_ITEMS = 5_000;

export interface ConsoleData {
  snapshot(): Promise<ConsoleState>;
}

export function createConsoleData(
  sources: ConsoleSources,
  options: ConsoleOptions = {},
): ConsoleData {
  const limit = options.limit ?? 50;
  const { aws } = sources;
  const outputValues = (predicate: (key: string) => boolean) =>
    Object.values(sources.outputs ?? {}).flatMap((values) =>
      Object.entries(values)
        .filter(([key]) => predicate(key))
        .map(([, value]) => value),
    );
  const userPoolIds = () =>
    options.userPoolIds?.() ?? outputValues((key) => key.endsWith("UserPoolId"));
  const pluginContext: ConsolePluginContext = {
    region: aws.region,
    outputs: sources.outputs ?? {},
    scanTable: (tableName, maxItems = MAX_TABLE_ITEMS) =>
      scanTable(aws.dynamodb, tableName, aws.region, Math.min(maxItems, MAX_TABLE_ITEMS)),
    limit,
  };

  async function snapshot(): Promise<ConsoleState> {
    const errors: ConsoleState["errors"] = [];
    const unavailable: string[] = [];
    const section = async <T>(name: string, fallback: T, read: () => Promise<T> | T) => {
      try {
        return await read();
      } catch (error) {
        errors.push({
          section: name,
          message: redactString(error instanceof Error ? error.message : String(error)),
        });
        return fallback;
      }
    };

    const absent = <T>(name: string, fallback: T): T => {
      unavailable.push(name);
      return fallback;
    };
    const users = aws.cognitoIdp
      ? await section("users", [], () => readUsers(aws.cognitoIdp!, userPoolIds(), aws.region))
      : absent("users", []);
    const byPoolAndSub = new Map(users.map((user) => [`${user.poolId}/${user.sub}`, user]));
    const identities = aws.cognitoIdentity
      ? await section("identities", [], () =>
          readIdentities(aws.cognitoIdentity!, aws.region, byPoolAndSub),
        )
      : absent("identities", []);
    const views: ConsoleView[] = [];
    const viewIds = new Set<string>();
    for (const plugin of options.plugins ?? []) {
      views.push(
        ...(await section(plugin.name, [], async () =>
          checkedViews(await plugin.views(pluginContext), viewIds),
        )),
      );
    }
    const invocations = sources.runtime
      ? await section("invocations", [], () =>
          sources.runtime!.invocations({ limit }).map(invocationView),
        )
      : absent("invocations", []);
    const traces = sources.traces
      ? await section("traces", [], () => sources.traces!.traces(limit).map(traceView))
      : absent("traces", []);
    const snsDeliveries = aws.sns
      ? await section("sns", [], () =>
          aws
            .sns!.deliveries()
            .slice(-limit)
            .reverse()
            .map((delivery) => redactValue(delivery) as Record<string, unknown>),
        )
      : absent("sns", []);
    const sqsQueues = aws.sqs
      ? await section("sqs", [], () => aws.sqs!.queues().map(queueView))
      : absent("sqs", []);
    const kinesis = await section("kinesis", [], () =>
      readKinesis(aws.kinesis, aws.region, options.streamNames?.(), limit),
    );
    const mqtt = sources.broker
      ? await section("mqtt", { connections: [], messages: [] }, () => ({
          connections: sources.broker!.connections().map((connection) => ({ ...connection })),
          messages: sources
            .broker!.messages(limit)
            .reverse()
            .map((message) => ({
              topic: message.topic,
              clientId: message.clientId,
              identityId: message.identityId,
              qos: message.qos,
              retain: message.retain,
              receivedAt: new Date(message.receivedAt).toISOString(),
              payload: clip(redactText(message.payload.toString("utf8")), TEXT_LIMIT),
            })),
        }))
      : absent("mqtt", { connections: [], messages: [] });

    return {
      generatedAt: new Date().toISOString(),
      region: aws.region,
      endpoint: aws.endpoint,
      users,
      identities,
      views,
      invocations,
      traces,
      snsDeliveries,
      sqsQueues,
      kinesis,
      mqtt,
      errors,
      unavailable,
    };
  }

  // Several open pages poll at once: they share the read in flight instead of each scanning.
  let inFlight: Promise<ConsoleState> | undefined;
  return {
    snapshot() {
      inFlight ??= snapshot().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}

// ------------------------------------------------------------------------------------------
// Wire calls straight into a service (no socket): the same operations an SDK client would send.
// ------------------------------------------------------------------------------------------

async function call<T>(
  service: LocalService,
  target: string,
  signingName: string,
  input: unknown,
  region: string,
): Promise<T> {
  const request: ServiceRequest = {
    method: "POST",
    path: "/",
    query: new URLSearchParams(),
    headers: {
      host: "127.0.0.1",
      "content-type":
        signingName === "dynamodb" ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1",
      "x-amz-target": target,
      "x-amz-date": "20250101T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=local-console/20250101/${region}/${signingName}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: Buffer.from(JSON.stringify(input)),
    requestId: "local-console",
    region,
    accessKeyId: "local-console",
  };
  const response = await service.handle(request);
  const text = response.body === undefined ? "" : response.body.toString();
  if (response.status !== 200) {
    throw new Error(`${target}: ${response.status} ${clip(text, 300)}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

interface WireUser {
  Username: string;
  Attributes?: { Name: string; Value: string }[];
  UserCreateDate?: number;
  Enabled?: boolean;
  UserStatus?: string;
}

async function readUsers(
  idp: LocalService,
  poolIds: readonly string[],
  region: string,
): Promise<ConsoleUser[]> {
  const users: ConsoleUser[] = [];
  const target = (operation: string) => `AWSCognitoIdentityProviderService.${operation}`;
  for (const poolId of new Set(poolIds)) {
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const listed = await call<{ Users: WireUser[]; PaginationToken?: string }>(
        idp,
        target("ListUsers"),
        "cognito-idp",
        { UserPoolId: poolId, Limit: 60, ...(token ? { PaginationToken: token } : {}) },
        region,
      );
      for (const user of listed.Users) {
        const groups = await call<{ Groups: { GroupName: string }[] }>(
          idp,
          target("AdminListGroupsForUser"),
          "cognito-idp",
          { UserPoolId: poolId, Username: user.Username },
          region,
        );
        const attributes = redactValue(
          Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name, a.Value])),
        ) as Record<string, string>;
        users.push({
          poolId,
          username: user.Username,
          ...(attributes.sub ? { sub: attributes.sub } : {}),
          ...(attributes.email ? { email: attributes.email } : {}),
          status: user.UserStatus ?? "UNKNOWN",
          enabled: user.Enabled !== false,
          groups: groups.Groups.map((group) => group.GroupName),
          created: isoFromSeconds(user.UserCreateDate),
          attributes,
        });
      }
      token = listed.PaginationToken;
      if (!token) break;
    }
  }
  return users;
}

type IdentityPage = { Identities: { IdentityId: string }[]; NextToken?: string };

async function readIdentities(
  identity: NonNullable<ConsoleSources["aws"]["cognitoIdentity"]>,
  region: string,
  users: Map<string, ConsoleUser>,
): Promise<ConsoleIdentity[]> {
  const target = (operation: string) => `AWSCognitoIdentityService.${operation}`;
  const pools: { IdentityPoolId: string; IdentityPoolName: string }[] = [];
  let token: string | undefined;
  for (let page = 0; page < 20; page++) {
    const listed = await call<{
      IdentityPools: { IdentityPoolId: string; IdentityPoolName: string }[];
      NextToken?: string;
    }>(
      identity,
      target("ListIdentityPools"),
      "cognito-identity",
      { MaxResults: 60, ...(token ? { NextToken: token } : {}) },
      region,
    );
    pools.push(...listed.IdentityPools);
    token = listed.NextToken;
    if (!token) break;
  }
  const out: ConsoleIdentity[] = [];
  for (const pool of pools) {
    token = undefined;
    for (let page = 0; page < 20 && out.length < MAX_IDENTITIES; page++) {
      const listed: IdentityPage = await call<IdentityPage>(
        identity,
        target("ListIdentities"),
        "cognito-identity",
        {
          IdentityPoolId: pool.IdentityPoolId,
          MaxResults: 60,
          ...(token ? { NextToken: token } : {}),
        },
        region,
      );
      for (const { IdentityId } of listed.Identities) {
        const view = identity.identity(IdentityId);
        if (!view) continue;
        out.push({
          identityId: view.identityId,
          identityPoolId: view.identityPoolId,
          identityPoolName: pool.IdentityPoolName,
          guest: view.logins.length === 0 && view.mergedInto === undefined,
          disabled: view.disabled,
          ...(view.mergedInto !== undefined ? { mergedInto: view.mergedInto } : {}),
          logins: view.logins.map((login) => {
            // `cognito-idp.<region>.amazonaws.com/<poolId>` or `127.0.0.1:<port>/<poolId>`.
            const poolId = login.provider.split("/").pop() ?? "";
            const user = users.get(`${poolId}/${login.userId}`);
            return {
              provider: login.provider,
              userId: login.userId,
              ...(user ? { user: user.email ?? user.username } : {}),
            };
          }),
          created: view.creationDate.toISOString(),
          lastModified: view.lastModifiedDate.toISOString(),
        });
      }
      token = listed.NextToken;
      if (!token) break;
    }
  }
  return out;
}

/** Every item of a table, as plain values, up to `maxItems`. */
async function scanTable(
  dynamodb: LocalService,
  name: string,
  region: string,
  maxItems: number,
): Promise<Record<string, unknown>[]> {
  let startKey: unknown;
  const items: Record<string, unknown>[] = [];
  do {
    const page = await call<{
      Items: Record<string, AttributeValue>[];
      LastEvaluatedKey?: unknown;
    }>(
      dynamodb,
      "DynamoDB_20120810.Scan",
      "dynamodb",
      { TableName: name, ...(startKey ? { ExclusiveStartKey: startKey } : {}) },
      region,
    );
    for (const item of page.Items) items.push(unmarshallItem(item));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < maxItems);
  return items.slice(0, maxItems);
}

type AttributeValue = Record<string, unknown>;

/** DynamoDB JSON to plain values (sets as sorted arrays, numbers as numbers when safe). */
function unmarshallItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, unmarshall(value)]));
}

function unmarshall(value: AttributeValue): unknown {
  if ("S" in value) return value.S;
  if ("N" in value) return numberOf(String(value.N));
  if ("BOOL" in value) return value.BOOL;
  if ("NULL" in value) return null;
  if ("B" in value) return `<binary ${String(value.B).length} b64 chars>`;
  if ("SS" in value) return [...(value.SS as string[])].sort();
  if ("NS" in value) return (value.NS as string[]).map(numberOf);
  if ("BS" in value) return (value.BS as string[]).map((b) => `<binary ${b.length} b64 chars>`);
  if ("L" in value) return (value.L as AttributeValue[]).map(unmarshall);
  if ("M" in value) return unmarshallItem(value.M as Record<string, AttributeValue>);
  return null;
}

function numberOf(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) || (Number.isFinite(n) && !/^-?\d+$/.test(text)) ? n : text;
}

function invocationView(record: ReturnType<LambdaRuntime["invocations"]>[number]) {
  return {
    functionName: record.functionName,
    requestId: record.requestId,
    source: record.source,
    invocationType: record.invocationType,
    attempt: record.attempt,
    startedAt: record.startedAt,
    durationMs: record.durationMs,
    ok: record.ok,
    ...(record.errorType ? { errorType: record.errorType } : {}),
    ...(record.errorMessage ? { errorMessage: redactText(record.errorMessage) } : {}),
    ...(record.timedOut ? { timedOut: true } : {}),
    event: clip(redactText(record.event), TEXT_LIMIT),
    ...(record.result !== undefined ? { result: clip(redactText(record.result), TEXT_LIMIT) } : {}),
    logs: record.logs.slice(-LOG_LINES).map((line) => clip(redactText(line), 500)),
  };
}

function queueView(queue: {
  name: string;
  arn: string;
  url: string;
  attributes: Record<string, string>;
}) {
  const a = queue.attributes;
  let deadLetterTarget: string | undefined;
  try {
    deadLetterTarget = a.RedrivePolicy
      ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
      : undefined;
  } catch {
    deadLetterTarget = undefined;
  }
  return {
    name: queue.name,
    arn: queue.arn,
    url: queue.url,
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    ...(deadLetterTarget ? { deadLetterTarget } : {}),
  };
}

async function readKinesis(
  kinesis: ConsoleSources["aws"]["kinesis"],
  region: string,
  streamNames: readonly string[] | undefined,
  limit: number,
): Promise<ConsoleState["kinesis"]> {
  let names = streamNames ? [...streamNames] : undefined;
  if (!names) {
    names = [];
    let start: string | undefined;
    for (let page = 0; page < 20; page++) {
      const listed = await call<{ StreamNames: string[]; HasMoreStreams?: boolean }>(
        kinesis,
        "Kinesis_20131202.ListStreams",
        "kinesis",
        start ? { ExclusiveStartStreamName: start } : {},
        region,
      );
      names.push(...listed.StreamNames);
      start = listed.StreamNames.at(-1);
      if (!listed.HasMoreStreams || !start) break;
    }
  }
  const out: ConsoleState["kinesis"] = [];
  for (const stream of names.sort()) {
    const all = await kinesis.readRecords(stream);
    const records = [...all]
      .sort((a, b) => b.approximateArrivalTimestamp - a.approximateArrivalTimestamp)
      .slice(0, limit)
      .map((record) => ({
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        partitionKey: redactString(record.partitionKey),
        arrivedAt: isoFromSeconds(record.approximateArrivalTimestamp),
        data:
          record.data === null
            ? `<binary, ${record.dataBase64.length} base64 chars>`
            : clip(redactText(record.data), TEXT_LIMIT),
      }));
    out.push({ stream, recordCount: all.length, records });
  }
  return out;
}

function isoFromSeconds(value: number | undefined): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "";
  // Cognito and Kinesis answer epoch seconds; a value past year 33658 must be milliseconds.
  return new Date(value > 1e12 ? value : value * 1000).toISOString();
}
