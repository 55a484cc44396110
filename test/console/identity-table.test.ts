/**
 * The app's console plug-in (scripts/console/identity-table.ts) against the local DynamoDB: the
 * item shapes packages/core writes, scanned through the console's plug-in context and shown as
 * the Profiles and "Links, merges and tombstones" sections, with nothing secret left in them.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { type LocalAws, startLocalAws } from "@boarding-pass/local";
import { type ConsoleState, createConsoleData } from "@boarding-pass/local/console";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityTablePlugin } from "../../scripts/console/identity-table";

const TABLE = "console-identity";
const PAYLOAD_SECRET = "payload-secret-5566";
const sub = crypto.randomUUID();
const providerName = "cognito-idp.us-east-1.amazonaws.com/us-east-1_console";
const identity = () => `us-east-1:${crypto.randomUUID()}`;
const linked = identity();
const mergedGuest = identity();
const deleted = crypto.randomUUID();

let aws: LocalAws;
let state: ConsoleState;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, log: () => {} });
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
  const dynamo = new DynamoDBClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
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
  await put({
    pk: { S: `DELETION#${deleted}` },
    sk: { S: "DELETION" },
    step: { S: "done" },
    deletedAt: { S: now },
  });
  state = await createConsoleData(
    { aws, outputs: { "local-boarding-pass-Data": { TableName: TABLE } } },
    { plugins: [identityTablePlugin()] },
  ).snapshot();
}, 60_000);

afterAll(async () => {
  await aws?.stop();
});

const view = (id: string) => state.views.find((candidate) => candidate.id === id)!;
const rowsOf = (id: string, title?: string) =>
  view(id).tables.find((table) => table.title === title)!.rows;

describe("the identity table in the console", () => {
  it("finds the table by the TableName output and shows its two sections", () => {
    expect(state.errors).toEqual([]);
    expect(state.views.map((candidate) => [candidate.id, candidate.title])).toEqual([
      ["profiles", "Profiles"],
      ["links", "Links, merges and tombstones"],
    ]);
  });

  it("reads profiles, links, tombstones and pending events from the identity table", () => {
    expect(view("profiles").count).toBe(1);
    expect(rowsOf("profiles")).toEqual([
      expect.objectContaining({ sub, tenant: "acme", plan: "pro", roles: ["admin"], version: 1 }),
    ]);
    expect(rowsOf("links", "identity records (links and merges)")).toContainEqual(
      expect.objectContaining({ identityId: linked, userSub: sub, mergedFrom: [mergedGuest] }),
    );
    expect(rowsOf("links", "tombstones")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "identity merged",
          identityId: mergedGuest,
          mergedInto: linked,
        }),
        expect.objectContaining({
          kind: "guest data merged",
          identityId: mergedGuest,
          name: "preferences",
        }),
        expect.objectContaining({ kind: "user deleted", what: `DELETION#${deleted}` }),
      ]),
    );
    expect(rowsOf("links", "outbox: events not yet published")).toEqual([
      { pk: `USER#${sub}`, sk: "PROFILE", eventId: "evt-1", item: `USER#${sub} / PROFILE` },
    ]);
    expect(rowsOf("links", "guest data")).toContainEqual(
      expect.objectContaining({ identityId: linked, name: "preferences", version: 3 }),
    );
  });

  it("shows neither the outbox payload nor a secret in guest data", () => {
    const text = JSON.stringify(state.views);
    expect(text).not.toContain(PAYLOAD_SECRET);
    expect(text).not.toContain("outboxShard");
    const [document] = rowsOf("links", "guest data")
      .filter((row) => row.identityId === linked)
      .map((row) => JSON.parse(String(row.document)));
    expect(document).toEqual({ theme: "dark", apiToken: "[redacted]" });
  });

  it("says there is no identity table when no output names one", async () => {
    const bare = await createConsoleData({ aws }, { plugins: [identityTablePlugin()] }).snapshot();
    expect(bare.views.map((candidate) => candidate.count)).toEqual([0, 0]);
    expect(bare.views[0]!.tables[0]!.empty).toBe("no identity table");
  });
});
