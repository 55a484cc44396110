import { Effect, type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Table } from "sst/constructs";

/**
 * Who may do what in the single table (stacks/Data.ts), per function, by partition-key prefix
 * (ADR 0010). Each grant becomes one IAM statement whose `dynamodb:LeadingKeys` condition confines
 * it to the prefixes it names; on an index, LeadingKeys is the index's partition key. DynamoDB
 * offers no condition on the sort key ("Using IAM policy conditions for fine-grained access
 * control", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
 * so items with different owners live under different prefixes, and where one function writes
 * only some attributes of a partition it shares, `dynamodb:Attributes` says which.
 *
 * Adding a prefix or an access is one line here; test/stacks/table-access.test.ts replays what the
 * code really sends against the synthesized policies.
 */

/** Partition-key prefixes, as packages/core builds the keys. */
export const KEY = {
  /** `USER#<sub>`: the profile (`PROFILE`, whose `roles` mint IAM roles) and federated links. */
  user: "USER#",
  /** `IDENTITY#<id>`: identity record, guest data, merge state, per-identity counters. */
  identity: "IDENTITY#",
  /** `EMAIL#<canonical>`: the uniqueness claim of a mailbox. */
  email: "EMAIL#",
  /** `DELETION#<sub>`: progress of a user's deletion (moved out of `USER#`, ADR 0010). */
  deletion: "DELETION#",
  /** `EMAILOWNER#<username>`: a claim's owner, the `gsi1` partition that lists their claims. */
  emailOwner: "EMAILOWNER#",
  /** `OUTBOX#<n>`: partitions of the sparse `outbox` index. */
  outbox: "OUTBOX#",
} as const;
export type KeyPrefix = (typeof KEY)[keyof typeof KEY];

/** Prefixes the table's own partition key takes (claim owners and outbox shards are index-only). */
export const TABLE_PREFIXES: readonly KeyPrefix[] = [
  KEY.user,
  KEY.identity,
  KEY.email,
  KEY.deletion,
];

export type TableAction = "GetItem" | "Query" | "PutItem" | "UpdateItem" | "DeleteItem";
export type IndexName = "gsi1" | "outbox";

export interface TableGrant {
  actions: readonly TableAction[];
  /** Partition-key prefixes (of the table, or of `index`). */
  keys: readonly KeyPrefix[];
  /** Query this global secondary index instead of the table. */
  index?: IndexName;
  /** The request may name only these top-level attributes (primary and index keys included). */
  onlyAttributes?: readonly string[];
  /** The request may name none of these attributes. */
  neverAttributes?: readonly string[];
}

export interface TableAccess {
  grants: readonly TableGrant[];
  /**
   * An explicit Deny on writing any `USER#` item (profiles), whatever else the role is granted
   * later: every route except the admin ones. Deleting stays possible (account erasure).
   */
  denyProfileWrites?: true;
}

/** The attributes the outbox (packages/core/src/events/outbox.ts) sets and clears beside a change. */
export const OUTBOX_ATTRIBUTES = [
  "pendingEvent",
  "pendingEventId",
  "outboxShard",
  "outboxAt",
] as const;
const PRIMARY_KEY = ["pk", "sk"] as const;

/** `USER#<sub>` / `LINK#<provider>` items (packages/core/src/adapters/dynamodb/federated-link-store.ts). */
const LINK_ATTRIBUTES = [...PRIMARY_KEY, "sub", "providerName", "linkedAt", ...OUTBOX_ATTRIBUTES];

/** What makes an identity record an edge of the graph, guest data and merge progress. */
export const IDENTITY_GRAPH_ATTRIBUTES = [
  "userSub",
  "gsi1pk",
  "gsi1sk",
  "logins",
  "mergedInto",
  "mergedFrom",
  "iotPolicies",
  "userDeletedAt",
  "document",
  "step",
  "survivorId",
] as const;

const read = (...keys: KeyPrefix[]): TableGrant => ({ actions: ["GetItem"], keys });

/**
 * Erasure tombstones: a `DATA#<name>` item replaced by its key and `userDeletedAt` alone, so no
 * credential still held writes the user's data back (ADR 0007). Written by the deletion and by a
 * route that meets, after the deletion, an identity of the deleted user it had never seen.
 */
const ERASURE_TOMBSTONES: TableGrant = {
  actions: ["PutItem"],
  keys: [KEY.identity],
  onlyAttributes: [...PRIMARY_KEY, "userDeletedAt"],
};

/**
 * What a route does when it first sees a signed-in caller on an identity (core's
 * `recordSignedInCaller`): read the profile and the deletion record (the pre-ADR 0010 one lives
 * under `USER#`), record the user on the identity, and, if the user was deleted, mark the
 * identity and erase its data on sight.
 */
const RECORD_CALLER_GRANTS: readonly TableGrant[] = [
  read(KEY.user, KEY.identity, KEY.deletion),
  { actions: ["Query", "UpdateItem"], keys: [KEY.identity] },
  ERASURE_TOMBSTONES,
];

/** Account deletion (ADR 0007), shared by `DELETE /identity/me` and `DELETE /admin/users/{sub}`. */
const DELETION_GRANTS: readonly TableGrant[] = [
  read(KEY.user, KEY.identity, KEY.deletion),
  { actions: ["Query"], keys: [KEY.user, KEY.emailOwner], index: "gsi1" },
  { actions: ["PutItem", "UpdateItem"], keys: [KEY.deletion] },
  // Mark the user's identities deleted and detach (never attach) their IoT policies.
  {
    actions: ["UpdateItem"],
    keys: [KEY.identity],
    // The user index keys too: an identity never recorded is recorded as it is marked.
    onlyAttributes: [
      ...PRIMARY_KEY,
      "identityId",
      "userSub",
      "gsi1pk",
      "gsi1sk",
      "userDeletedAt",
      "iotPolicies",
    ],
  },
  // Erasure: the user's items (profile included), the identities' data (each item replaced by
  // its tombstone), every email claim.
  { actions: ["Query", "DeleteItem"], keys: [KEY.user, KEY.identity] },
  ERASURE_TOMBSTONES,
  { actions: ["DeleteItem"], keys: [KEY.email] },
];

/**
 * Per function: the triggers (stacks/Auth.ts), the outbox relay (stacks/Events.ts) and the routes
 * (stacks/Api.ts, keyed as its ROUTES).
 */
export const TABLE_ACCESS = {
  // Email claims, federated links (never a profile attribute), the profile read by the link.
  preSignUp: {
    grants: [
      read(KEY.user, KEY.email),
      // Claim (update), take over a stale unconfirmed claim (put).
      { actions: ["PutItem", "UpdateItem"], keys: [KEY.email] },
      {
        actions: ["PutItem", "UpdateItem", "DeleteItem"],
        keys: [KEY.user],
        onlyAttributes: LINK_ATTRIBUTES,
      },
    ],
  },
  // Creates the profile once; confirms the email claim.
  postConfirmation: {
    grants: [
      { actions: ["PutItem", "UpdateItem"], keys: [KEY.user] },
      { actions: ["UpdateItem"], keys: [KEY.email] },
    ],
  },
  // Reads the profile on every token; repairs a missing one; moves the email claim to the
  // verified address (claim it, release the user's others, found through the owner index).
  preTokenGeneration: {
    grants: [
      read(KEY.user),
      { actions: ["PutItem", "UpdateItem"], keys: [KEY.user] },
      { actions: ["UpdateItem", "DeleteItem"], keys: [KEY.email] },
      { actions: ["Query"], keys: [KEY.emailOwner], index: "gsi1" },
    ],
  },
  // Reads the sparse index; clears a published event on whatever item carries it, nothing else.
  outboxRelay: {
    grants: [
      { actions: ["Query"], keys: [KEY.outbox], index: "outbox" },
      {
        actions: ["UpdateItem"],
        keys: TABLE_PREFIXES,
        onlyAttributes: [...PRIMARY_KEY, ...OUTBOX_ATTRIBUTES],
      },
    ],
  },
  // The identity record; per-identity counters (a proof rate limit), never the graph's edges.
  issueGuestProof: {
    denyProfileWrites: true,
    grants: [
      read(KEY.identity),
      { actions: ["UpdateItem"], keys: [KEY.identity], neverAttributes: IDENTITY_GRAPH_ATTRIBUTES },
    ],
  },
  // Link or merge: the identity graph, guest data and merge state; the profile is only read.
  linkIdentity: {
    denyProfileWrites: true,
    grants: [
      ...RECORD_CALLER_GRANTS,
      { actions: ["Query", "PutItem", "UpdateItem"], keys: [KEY.identity] },
    ],
  },
  // Records the caller on its identity and the IoT policy attached; the profile is only read.
  ensureIot: {
    denyProfileWrites: true,
    grants: RECORD_CALLER_GRANTS,
  },
  // Reads the deletion record too (a deleted user's identity answers 410); one written before
  // ADR 0010 lives under `USER#`, so this read-only route may read that partition.
  getPreferences: { denyProfileWrites: true, grants: [read(KEY.user, KEY.identity, KEY.deletion)] },
  putPreferences: { denyProfileWrites: true, grants: RECORD_CALLER_GRANTS },
  getProfile: { denyProfileWrites: true, grants: [read(KEY.user)] },
  deleteMe: { denyProfileWrites: true, grants: DELETION_GRANTS },
  adminGetUser: {
    grants: [read(KEY.user), { actions: ["Query"], keys: [KEY.user], index: "gsi1" }],
  },
  adminDeleteUser: { grants: DELETION_GRANTS },
} as const satisfies Record<string, TableAccess>;
export type TableUser = keyof typeof TABLE_ACCESS;

/** The profile-write actions the Deny names: item writes, batches and PartiQL alike. */
export const PROFILE_WRITE_ACTIONS = [
  "PutItem",
  "UpdateItem",
  "BatchWriteItem",
  "PartiQLInsert",
  "PartiQLUpdate",
] as const;

const like = (prefixes: readonly string[]) => prefixes.map((prefix) => `${prefix}*`);

/** The IAM statements of one function's table access, against the table's (and indexes') ARNs. */
export function tableAccessStatements(
  access: TableAccess,
  arns: { table: string; index: (name: IndexName) => string },
): PolicyStatement[] {
  const statements = access.grants.map((grant) => {
    const condition: Record<string, Record<string, string[]>> = {
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": like(grant.keys) },
    };
    if (grant.onlyAttributes !== undefined) {
      condition["ForAllValues:StringEquals"] = { "dynamodb:Attributes": [...grant.onlyAttributes] };
    }
    if (grant.neverAttributes !== undefined) {
      condition["ForAllValues:StringNotEquals"] = {
        "dynamodb:Attributes": [...grant.neverAttributes],
      };
    }
    return new PolicyStatement({
      effect: Effect.ALLOW,
      actions: grant.actions.map((action) => `dynamodb:${action}`),
      resources: [grant.index === undefined ? arns.table : arns.index(grant.index)],
      conditions: condition,
    });
  });
  if (access.denyProfileWrites) {
    statements.push(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: PROFILE_WRITE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [arns.table],
        conditions: { "ForAnyValue:StringLike": { "dynamodb:LeadingKeys": like([KEY.user]) } },
      }),
    );
  }
  return statements;
}

/** Grants `fn` the table access `TABLE_ACCESS` declares for `user`, and nothing else of the table. */
export function grantTableAccess(table: Table, fn: IGrantable, user: TableUser): void {
  const tableArn = table.cdk.table.tableArn;
  const arns = { table: tableArn, index: (name: IndexName) => `${tableArn}/index/${name}` };
  for (const statement of tableAccessStatements(TABLE_ACCESS[user], arns)) {
    fn.grantPrincipal.addToPrincipalPolicy(statement);
  }
}
