/**
 * The local console's views of the identity table (`npm start` registers them through
 * local-cloud.config.ts). The emulator's console knows AWS's shapes only; this plug-in is the
 * app's side and knows the keys packages/core writes:
 *
 * | item                      | pk                | sk           |
 * | ------------------------- | ----------------- | ------------ |
 * | profile                   | `USER#<sub>`      | `PROFILE`    |
 * | user deletion             | `DELETION#<sub>`  | `DELETION`   |
 * | (before ADR 0010)         | `USER#<sub>`      | `DELETION`   |
 * | identity record           | `IDENTITY#<id>`   | `IDENTITY`   |
 * | merge state               | `IDENTITY#<id>`   | `MERGE`      |
 * | guest data                | `IDENTITY#<id>`   | `DATA#<name>`|
 *
 * and any item with `pendingEventId` carries an unpublished outbox event. The console redacts
 * every row this returns; the outbox payload and its bookkeeping are left out here already.
 */
import type {
  ConsolePlugin,
  ConsolePluginContext,
  ConsoleView,
} from "@boarding-pass/local/console/views";

/** The identity table's items, sorted into what the views show. */
export interface IdentityTableContents {
  profiles: Record<string, unknown>[];
  /** Identity records: the links (identity → user) and merges (`mergedFrom`, `mergedInto`). */
  identityLinks: Record<string, unknown>[];
  /** Merged-away identities and guest data (`mergedInto`), and user deletions. */
  tombstones: Record<string, unknown>[];
  merges: Record<string, unknown>[];
  guestData: Record<string, unknown>[];
  /** Items carrying an unpublished outbox event. */
  pendingEvents: { pk: string; sk: string; eventId: string }[];
  itemCount: number;
}

export function classifyIdentityItems(
  items: readonly Record<string, unknown>[],
): IdentityTableContents {
  const table: IdentityTableContents = {
    profiles: [],
    identityLinks: [],
    tombstones: [],
    merges: [],
    guestData: [],
    pendingEvents: [],
    itemCount: items.length,
  };
  for (const item of items) {
    const pk = String(item.pk ?? "");
    const sk = String(item.sk ?? "");
    if (typeof item.pendingEventId === "string") {
      table.pendingEvents.push({ pk, sk, eventId: item.pendingEventId });
    }
    const { pendingEvent: _event, outboxShard: _shard, outboxAt: _at, ...shown } = item;
    if (pk.startsWith("USER#") && sk === "PROFILE") {
      table.profiles.push(shown);
    } else if ((pk.startsWith("DELETION#") || pk.startsWith("USER#")) && sk === "DELETION") {
      table.tombstones.push({ kind: "user deleted", ...shown });
    } else if (pk.startsWith("IDENTITY#") && sk === "IDENTITY") {
      table.identityLinks.push(shown);
      if (typeof item.mergedInto === "string") {
        table.tombstones.push({
          kind: "identity merged",
          identityId: item.identityId ?? pk.slice("IDENTITY#".length),
          mergedInto: item.mergedInto,
          mergedAt: item.mergedAt,
        });
      }
    } else if (pk.startsWith("IDENTITY#") && sk === "MERGE") {
      table.merges.push(shown);
    } else if (pk.startsWith("IDENTITY#") && sk.startsWith("DATA#")) {
      const identityId = pk.slice("IDENTITY#".length);
      const dataName = sk.slice("DATA#".length);
      if (typeof item.mergedInto === "string") {
        table.tombstones.push({
          kind: "guest data merged",
          identityId,
          name: dataName,
          mergedInto: item.mergedInto,
        });
      }
      table.guestData.push({
        identityId,
        name: dataName,
        version: item.version,
        updatedAt: item.updatedAt,
        ...(typeof item.mergedInto === "string" ? { mergedInto: item.mergedInto } : {}),
        ...(Array.isArray(item.mergedFrom) ? { mergedFrom: item.mergedFrom } : {}),
        document: shown.document ?? null,
      });
    }
  }
  const byTime = (key: string) => (a: Record<string, unknown>, b: Record<string, unknown>) =>
    String(b[key] ?? "").localeCompare(String(a[key] ?? ""));
  table.profiles.sort(byTime("createdAt"));
  table.identityLinks.sort(byTime("linkedAt"));
  return table;
}

/** The Profiles and "Links, merges and tombstones" sections of one table's contents. */
export function identityTableViews(
  tableName: string | undefined,
  table: IdentityTableContents,
): ConsoleView[] {
  return [
    {
      id: "profiles",
      title: "Profiles",
      count: table.profiles.length,
      tables: [
        {
          columns: [
            { label: "sub", field: "sub" },
            { label: "tenant", field: "tenant" },
            { label: "plan", field: "plan" },
            { label: "roles", field: "roles", format: "tags" },
            { label: "version", field: "version" },
            { label: "created", field: "createdAt", format: "time" },
            { label: "outbox", field: "outbox" },
          ],
          rows: table.profiles.map((profile) => ({
            ...profile,
            outbox: profile.pendingEventId ? "event pending" : "",
          })),
          empty: tableName ? `no profiles in ${tableName}` : "no identity table",
        },
      ],
    },
    {
      id: "links",
      title: "Links, merges and tombstones",
      count: table.identityLinks.length,
      tables: [
        {
          title: "identity records (links and merges)",
          columns: [
            { label: "identity id", field: "identityId" },
            { label: "user", field: "userSub" },
            { label: "logins", field: "logins", format: "tags" },
            { label: "merged from", field: "mergedFrom", format: "tags" },
            { label: "merged into", field: "mergedInto" },
            { label: "IoT policies", field: "iotPolicies", format: "tags" },
            { label: "linked", field: "linkedAt", format: "time" },
          ],
          rows: table.identityLinks,
          empty: "no identity records",
        },
        {
          title: "tombstones",
          columns: [
            { label: "kind", field: "kind" },
            { label: "what", field: "what" },
            { label: "name", field: "name" },
            { label: "merged into", field: "mergedInto" },
            { label: "when", field: "when", format: "time" },
          ],
          rows: table.tombstones.map((row) => ({
            ...row,
            what: row.identityId || row.pk,
            when: row.mergedAt || row.deletedAt || row.updatedAt,
          })),
          empty: "no tombstones",
        },
        {
          title: "merges in progress or done",
          columns: [
            { label: "guest", field: "guestId" },
            { label: "survivor", field: "survivorId" },
            { label: "user", field: "userSub" },
            { label: "step", field: "step" },
            { label: "updated", field: "updatedAt", format: "time" },
          ],
          rows: table.merges,
          empty: "no merges",
        },
        {
          title: "guest data",
          columns: [
            { label: "identity id", field: "identityId" },
            { label: "name", field: "name" },
            { label: "version", field: "version" },
            { label: "merged into", field: "mergedInto" },
            { label: "document", field: "document" },
          ],
          rows: table.guestData,
          empty: "no guest data",
        },
        {
          title: "outbox: events not yet published",
          columns: [
            { label: "item", field: "item" },
            { label: "event id", field: "eventId" },
          ],
          rows: table.pendingEvents.map((event) => ({
            ...event,
            item: `${event.pk} / ${event.sk}`,
          })),
          empty: "none pending",
        },
      ],
    },
  ];
}

/** The Data stack's output naming the identity table. */
const TABLE_OUTPUT = "TableName";

function tableFromOutputs(context: ConsolePluginContext): string | undefined {
  for (const values of Object.values(context.outputs)) {
    if (Object.hasOwn(values, TABLE_OUTPUT)) return values[TABLE_OUTPUT];
  }
  return undefined;
}

/**
 * The plug-in: scans the identity table (the `TableName` output unless `tableName` says which)
 * once per snapshot and shows it as two sections.
 */
export function identityTablePlugin(
  options: { tableName?: (context: ConsolePluginContext) => string | undefined } = {},
): ConsolePlugin {
  return {
    name: "identity-table",
    async views(context) {
      const tableName = options.tableName?.(context) ?? tableFromOutputs(context);
      const items = tableName ? await context.scanTable(tableName) : [];
      return identityTableViews(tableName, classifyIdentityItems(items));
    },
  };
}
