/**
 * The single table's grants (stacks/table-access.ts, ADR 0010) on the synthesized app: each
 * function's statements are exactly what the table declares, and IAM's evaluation of the
 * synthesized policies (@cloud-copilot/iam-simulate) refuses a route writing a profile or a prefix
 * it does not own, while allowing every access the code makes. test/e2e/table-access.test.ts
 * replays what the functions send in the whole journey against the same policies.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { TABLE_ACCESS, type TableUser } from "../../stacks/table-access";
import {
  ACCOUNT_ID,
  type AuthorizedRequest,
  attributesOf,
  authorizedRequestsOf,
  type DynamoCall,
  evaluate,
  FUNCTION_ROLES,
  REGION,
} from "./dynamodb-authorization";
import { type SynthesizedForTest, synthesize } from "./synth";
import {
  asArray,
  type PolicyStatementJson,
  resourcesOfType,
  statementsOf,
} from "./template-helpers";

const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/identity`;

const USERS = Object.keys(TABLE_ACCESS) as TableUser[];
const ROUTES_THAT_NEVER_WRITE_PROFILES = USERS.filter(
  (user) => "denyProfileWrites" in TABLE_ACCESS[user],
);

/** The table's ARN for every form CloudFormation writes it in; other intrinsics stay visible. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  if ("Fn::Join" in object) {
    const [separator, parts] = object["Fn::Join"] as [string, unknown[]];
    return (parts.map(resolve) as string[]).join(separator);
  }
  const intrinsic = object["Fn::ImportValue"] ?? object["Fn::GetAtt"] ?? object.Ref;
  if (intrinsic !== undefined) {
    const text = JSON.stringify(intrinsic);
    return /IdentityTable[0-9A-F]{8}/.test(text) && /Arn/.test(text)
      ? TABLE_ARN
      : `unresolved:${text}`;
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v)]));
}

let app: SynthesizedForTest;
const policiesOf = new Map<TableUser, { roleArn: string; policies: unknown[] }>();

beforeAll(async () => {
  app = await synthesize();
  const roles = resourcesOfType(app.templates, "AWS::IAM::Role");
  const policies = resourcesOfType(app.templates, "AWS::IAM::Policy");
  for (const user of USERS) {
    const role = roles.filter((candidate) => FUNCTION_ROLES[user].test(candidate.logicalId));
    expect(role, user).toHaveLength(1);
    const { stack, logicalId } = role[0]!;
    const attached = policies.filter(
      (policy) =>
        policy.stack === stack &&
        asArray(policy.Properties?.Roles as { Ref?: string }[]).some((r) => r.Ref === logicalId),
    );
    policiesOf.set(user, {
      roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${logicalId}`,
      policies: [
        ...asArray(role[0]!.Properties?.Policies as { PolicyDocument: unknown }[]).map(
          (inline) => inline.PolicyDocument,
        ),
        ...attached.map((policy) => policy.Properties?.PolicyDocument),
      ].map(resolve),
    });
  }
}, 300_000);

const dynamoStatements = (user: TableUser) =>
  policiesOf
    .get(user)!
    .policies.flatMap((policy) => statementsOf(policy))
    .filter((statement) => asArray(statement.Action).some((a) => a.startsWith("dynamodb:")));

async function verdict(user: TableUser, call: DynamoCall) {
  const { roleArn, policies } = policiesOf.get(user)!;
  const verdicts = await Promise.all(
    authorizedRequestsOf(call, TABLE_ARN).map((request: AuthorizedRequest) =>
      evaluate(policies, roleArn, request),
    ),
  );
  for (const { ignoredContextKeys } of verdicts) expect(ignoredContextKeys).toEqual([]);
  // A call is allowed only when every request it is authorized as is.
  const denied = verdicts.find((v) => v.result !== "Allowed");
  return denied?.result ?? "Allowed";
}

// ---- Wire-level calls, as packages/core's adapters send them ---------------------------------

const S = (value: string) => ({ S: value });
const SUB = "5f0c6a8e-2b1d-4c3e-9f7a-0123456789ab";
const IDENTITY = "us-east-1:2a5b8c1d-4e6f-4a0b-8c2d-3e4f5a6b7c8d";
const profileKey = { pk: S(`USER#${SUB}`), sk: S("PROFILE") };

const putProfile: DynamoCall = {
  operation: "PutItem",
  input: {
    TableName: "identity",
    Item: {
      ...profileKey,
      sub: S(SUB),
      tenant: S("default"),
      plan: S("free"),
      roles: { L: [S("admin")] },
      createdAt: S("2026-12-07T00:00:00.000Z"),
      version: { N: "1" },
    },
  },
};
const updateProfileRoles: DynamoCall = {
  operation: "UpdateItem",
  input: {
    TableName: "identity",
    Key: profileKey,
    UpdateExpression: "SET #roles = :roles",
    ExpressionAttributeNames: { "#roles": "roles" },
    ExpressionAttributeValues: { ":roles": { L: [S("admin")] } },
  },
};
/** The relay's `clearPending` (packages/core/src/adapters/dynamodb/outbox-store.ts) on a profile. */
const clearProfileOutbox: DynamoCall = {
  operation: "UpdateItem",
  input: {
    TableName: "identity",
    Key: profileKey,
    UpdateExpression: "REMOVE pendingEvent, pendingEventId, outboxShard, outboxAt",
    ConditionExpression: "pendingEventId = :id",
    ExpressionAttributeValues: { ":id": S("event-1") },
  },
};
const getProfile: DynamoCall = {
  operation: "GetItem",
  input: { TableName: "identity", Key: profileKey },
};
/** `DynamoIdentityDataStore.write` of the preferences. */
const writePreferences: DynamoCall = {
  operation: "UpdateItem",
  input: {
    TableName: "identity",
    Key: { pk: S(`IDENTITY#${IDENTITY}`), sk: S("DATA#preferences") },
    UpdateExpression: "SET document = :doc, updatedAt = :now ADD version :one",
    ConditionExpression: "attribute_not_exists(mergedInto) AND version = :expected",
    ExpressionAttributeValues: {
      ":doc": { M: {} },
      ":now": S("2026-12-07T00:00:00.000Z"),
      ":one": { N: "1" },
      ":expected": { N: "1" },
    },
  },
};
/** A per-identity counter on the identity's partition (the guest-proof rate limit). */
const countProof: DynamoCall = {
  operation: "UpdateItem",
  input: {
    TableName: "identity",
    Key: { pk: S(`IDENTITY#${IDENTITY}`), sk: S("THROTTLE#guest-proof") },
    UpdateExpression: "SET expiresAt = if_not_exists(expiresAt, :ttl) ADD proofs :one",
    ExpressionAttributeValues: { ":ttl": { N: "1" }, ":one": { N: "1" } },
  },
};
/** `recordAuthenticated`'s first write: the user edge on an identity record. */
const recordUserOnIdentity: DynamoCall = {
  operation: "UpdateItem",
  input: {
    TableName: "identity",
    Key: { pk: S(`IDENTITY#${IDENTITY}`), sk: S("IDENTITY") },
    UpdateExpression: "SET identityId = :id, userSub = :sub, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk",
    ConditionExpression: "attribute_not_exists(userSub) AND attribute_not_exists(mergedInto)",
    ExpressionAttributeValues: {
      ":id": S(IDENTITY),
      ":sub": S(SUB),
      ":gsi1pk": S(`USER#${SUB}`),
      ":gsi1sk": S(`IDENTITY#${IDENTITY}`),
    },
  },
};
const claimEmail: DynamoCall = {
  operation: "PutItem",
  input: {
    TableName: "identity",
    Item: { pk: S("EMAIL#ada@example.com"), sk: S("EMAIL"), owner: S("ada") },
    ConditionExpression: "attribute_not_exists(pk) OR #owner = :me",
    ExpressionAttributeNames: { "#owner": "owner" },
    ExpressionAttributeValues: { ":me": S("ada") },
  },
};
const identitiesOfUser: DynamoCall = {
  operation: "Query",
  input: {
    TableName: "identity",
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :user AND begins_with(gsi1sk, :prefix)",
    ExpressionAttributeValues: { ":user": S(`USER#${SUB}`), ":prefix": S("IDENTITY#") },
  },
};
const startDeletion: DynamoCall = {
  operation: "PutItem",
  input: {
    TableName: "identity",
    Item: {
      pk: S(`DELETION#${SUB}`),
      sk: S("DELETION"),
      sub: S(SUB),
      tenant: S("default"),
      step: S("started"),
      startedAt: S("2026-12-07T00:00:00.000Z"),
    },
    ConditionExpression: "attribute_not_exists(pk)",
  },
};
const eraseProfile: DynamoCall = {
  operation: "DeleteItem",
  input: { TableName: "identity", Key: profileKey },
};
const scan: DynamoCall = { operation: "Scan", input: { TableName: "identity" } };
const batchWriteProfile: DynamoCall = {
  operation: "BatchWriteItem",
  input: { RequestItems: { identity: [{ PutRequest: { Item: putProfile.input.Item } }] } },
};
const transactProfile: DynamoCall = {
  operation: "TransactWriteItems",
  input: {
    TransactItems: [
      {
        ConditionCheck: {
          TableName: "identity",
          Key: profileKey,
          ConditionExpression: "attribute_exists(pk)",
        },
      },
      { Put: putProfile.input },
    ],
  },
};

describe("a request's condition keys, as IAM builds them", () => {
  test("attributes: names and placeholders, never values, functions or keywords; paths count as their top", () => {
    expect(
      attributesOf(
        "SET #r = :r, a.b[0] = if_not_exists(c, :now) REMOVE d ADD e :one DELETE f :set",
        { "#r": "roles" },
      ).sort(),
    ).toEqual(["a", "c", "d", "e", "f", "roles"]);
    expect(
      attributesOf("attribute_not_exists(pk) OR (#o = :me AND size(g) > :n)", {
        "#o": "owner",
      }).sort(),
    ).toEqual(["g", "owner", "pk"]);
  });

  test("a query on an index is authorized on the index, with the index's partition key", () => {
    expect(authorizedRequestsOf(identitiesOfUser, TABLE_ARN)).toEqual([
      {
        action: "dynamodb:Query",
        resource: `${TABLE_ARN}/index/gsi1`,
        context: { "dynamodb:LeadingKeys": [`USER#${SUB}`] },
      },
    ]);
  });
});

describe("each function's table statements", () => {
  test("are the ones stacks/table-access.ts declares, and no table-wide grant remains", () => {
    for (const user of USERS) {
      const statements = dynamoStatements(user);
      const declared = TABLE_ACCESS[user];
      const allows = statements.filter((s) => s.Effect === "Allow");
      expect(allows, user).toHaveLength(declared.grants.length);
      declared.grants.forEach((grant, index) => {
        const statement = allows[index] as PolicyStatementJson;
        expect(asArray(statement.Action).sort(), user).toEqual(
          grant.actions.map((a) => `dynamodb:${a}`).sort(),
        );
        expect(statement.Resource, user).toBe(
          "index" in grant ? `${TABLE_ARN}/index/${grant.index}` : TABLE_ARN,
        );
        expect(statement.Condition?.["ForAllValues:StringLike"], user).toEqual({
          "dynamodb:LeadingKeys": grant.keys.map((key) => `${key}*`),
        });
      });
      // Nothing unconditioned, no Scan, no wildcard action, no `index/*`.
      for (const statement of allows) {
        expect(
          statement.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"],
        ).toBeDefined();
        expect(asArray(statement.Action).filter((a) => /Scan|\*/.test(a))).toEqual([]);
        expect(JSON.stringify(statement.Resource)).not.toContain("index/*");
      }
      const denies = statements.filter((s) => s.Effect === "Deny");
      expect(denies.length, user).toBe("denyProfileWrites" in declared ? 1 : 0);
    }
  });

  test("only the admin routes go without the explicit Deny on profile writes, among the routes", () => {
    expect(USERS.filter((user) => !ROUTES_THAT_NEVER_WRITE_PROFILES.includes(user)).sort()).toEqual(
      [
        "adminDeleteUser",
        "adminGetUser",
        "outboxRelay",
        "postConfirmation",
        "preSignUp",
        "preTokenGeneration",
      ].sort(),
    );
  });
});

describe("IAM's verdict on the synthesized policies (policy simulator)", () => {
  test.each(ROUTES_THAT_NEVER_WRITE_PROFILES)(
    "%s is refused writing a profile's roles, by Put, Update, batch or transaction",
    async (user) => {
      expect(await verdict(user, putProfile)).toBe("ExplicitlyDenied");
      expect(await verdict(user, updateProfileRoles)).toBe("ExplicitlyDenied");
      expect(await verdict(user, batchWriteProfile)).toBe("ExplicitlyDenied");
      expect(await verdict(user, transactProfile)).not.toBe("Allowed");
      expect(await verdict(user, scan)).toBe("ImplicitlyDenied");
    },
  );

  test("routes are refused the prefixes they do not own", async () => {
    expect(await verdict("putPreferences", claimEmail)).toBe("ImplicitlyDenied");
    expect(await verdict("putPreferences", identitiesOfUser)).toBe("ImplicitlyDenied");
    expect(await verdict("putPreferences", startDeletion)).toBe("ImplicitlyDenied");
    expect(await verdict("getPreferences", writePreferences)).toBe("ImplicitlyDenied");
    // getPreferences may read under USER# (the pre-ADR 0010 deletion record), never write there.
    expect(await verdict("getPreferences", putProfile)).toBe("ExplicitlyDenied");
    expect(await verdict("getPreferences", claimEmail)).toBe("ImplicitlyDenied");
    expect(await verdict("linkIdentity", claimEmail)).toBe("ImplicitlyDenied");
    expect(await verdict("linkIdentity", eraseProfile)).toBe("ImplicitlyDenied");
    expect(await verdict("getProfile", writePreferences)).toBe("ImplicitlyDenied");
    expect(await verdict("adminGetUser", putProfile)).toBe("ImplicitlyDenied");
    // The guest-proof route counts on the identity's partition but never touches its edges.
    expect(await verdict("issueGuestProof", countProof)).toBe("Allowed");
    expect(await verdict("issueGuestProof", recordUserOnIdentity)).toBe("ImplicitlyDenied");
    expect(await verdict("issueGuestProof", writePreferences)).toBe("ImplicitlyDenied");
  });

  test("the relay clears a profile's outbox and nothing else of it", async () => {
    expect(await verdict("outboxRelay", clearProfileOutbox)).toBe("Allowed");
    expect(await verdict("outboxRelay", updateProfileRoles)).toBe("ImplicitlyDenied");
    expect(await verdict("outboxRelay", putProfile)).toBe("ImplicitlyDenied");
  });

  test("pre sign-up writes federated links under USER# but never a profile's roles", async () => {
    expect(await verdict("preSignUp", claimEmail)).toBe("Allowed");
    expect(await verdict("preSignUp", putProfile)).toBe("ImplicitlyDenied");
    expect(await verdict("preSignUp", updateProfileRoles)).toBe("ImplicitlyDenied");
  });

  test("the profile's writers are the profile triggers", async () => {
    for (const user of ["postConfirmation", "preTokenGeneration"] as const) {
      expect(await verdict(user, putProfile)).toBe("Allowed");
      expect(await verdict(user, clearProfileOutbox)).toBe("Allowed");
      expect(await verdict(user, writePreferences)).toBe("ImplicitlyDenied");
    }
  });

  test("account deletion erases the profile and writes its own record, never the profile", async () => {
    for (const user of ["deleteMe", "adminDeleteUser"] as const) {
      expect(await verdict(user, eraseProfile)).toBe("Allowed");
      expect(await verdict(user, startDeletion)).toBe("Allowed");
      expect(await verdict(user, identitiesOfUser)).toBe("Allowed");
      expect(await verdict(user, putProfile)).not.toBe("Allowed");
      expect(await verdict(user, recordUserOnIdentity)).toBe("ImplicitlyDenied");
    }
  });

  test("the identity routes keep what they do: preferences, links, IoT records", async () => {
    expect(await verdict("putPreferences", writePreferences)).toBe("Allowed");
    expect(await verdict("linkIdentity", writePreferences)).toBe("Allowed");
    expect(await verdict("linkIdentity", recordUserOnIdentity)).toBe("Allowed");
    expect(await verdict("linkIdentity", getProfile)).toBe("Allowed");
    expect(await verdict("ensureIot", recordUserOnIdentity)).toBe("Allowed");
    expect(await verdict("adminGetUser", identitiesOfUser)).toBe("Allowed");
    expect(await verdict("getProfile", getProfile)).toBe("Allowed");
  });
});
