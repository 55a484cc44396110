/**
 * The console's plug-in interface: how an app shows its own data (its tables' items, read through
 * the local services) next to what the console knows about AWS itself.
 *
 * The emulator knows AWS, not the app: it never interprets an app's keys. A plug-in, given by the
 * caller of `startLocalCloud` (`consolePlugins`; `npm start` reads them from the app's
 * `local-cloud.config.ts`), reads what it needs through `ConsolePluginContext` and returns views:
 * plain tables of rows, each column naming a row field and how to show it. The page draws them
 * with `textContent` like every other section, so a plug-in ships data, never markup or script,
 * and the console redacts every row as it redacts its own sections: a plug-in cannot show a
 * password, a token or a secret even by mistake.
 */
import { clip, redactText, redactValue } from "./redact";

/** How the page shows a cell: as text (the default), an ISO time, or a list of tags. */
export type ConsoleColumnFormat = "text" | "time" | "tags";

export interface ConsoleColumn {
  label: string;
  /** The row's field shown in this column. */
  field: string;
  format?: ConsoleColumnFormat;
}

export interface ConsoleTable {
  /** A heading above the table, when a view has several. */
  title?: string;
  columns: readonly ConsoleColumn[];
  rows: readonly Record<string, unknown>[];
  /** Shown instead of an empty table. */
  empty?: string;
}

/** One section of the page. */
export interface ConsoleView {
  /** Lowercase letters, digits and dashes; unique among all plug-ins' views. */
  id: string;
  title: string;
  /** Shown next to the title (a count, or a short summary). */
  count: number | string;
  tables: readonly ConsoleTable[];
}

/** What a plug-in may read: the local services' data through their own operations. */
export interface ConsolePluginContext {
  region: string;
  /** Stack outputs by stack, as the running cloud has them (empty without a cloud). */
  outputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Every item of a table (DynamoDB Scan, plain values), up to `maxItems` (5,000 by default). */
  scanTable(tableName: string, maxItems?: number): Promise<Record<string, unknown>[]>;
  /** Rows the console keeps per list; a plug-in may use it for its own lists. */
  limit: number;
}

export interface ConsolePlugin {
  /** Names the plug-in in Problems when it fails. */
  name: string;
  views(context: ConsolePluginContext): Promise<readonly ConsoleView[]> | readonly ConsoleView[];
}

const VIEW_ID = /^[a-z][a-z0-9-]{0,39}$/;
const FORMATS = new Set<string>(["text", "time", "tags"]);
/** Longest text kept in a cell, as the console's own sections clip. */
const CELL_TEXT_LIMIT = 2_000;
/** Rows kept per table: a page that draws more is no longer readable, and the JSON grows. */
const MAX_VIEW_ROWS = 5_000;

/** Raised when a plug-in returns something the page cannot draw; the message says what. */
class ConsoleViewError extends Error {
  override readonly name = "ConsoleViewError";
}

/**
 * The views of one plug-in, checked and redacted. `taken` holds the ids already used this
 * snapshot (the console's own sections are not views: view sections get their own element ids).
 */
export function checkedViews(views: unknown, taken: Set<string>): ConsoleView[] {
  if (!Array.isArray(views)) throw new ConsoleViewError("views() must return a list of views");
  return views.map((view: Partial<ConsoleView>) => {
    if (typeof view?.id !== "string" || !VIEW_ID.test(view.id)) {
      throw new ConsoleViewError(`A view id must match ${VIEW_ID}: ${JSON.stringify(view?.id)}`);
    }
    if (taken.has(view.id)) throw new ConsoleViewError(`Two views with the id ${view.id}`);
    taken.add(view.id);
    if (typeof view.title !== "string") throw new ConsoleViewError(`View ${view.id}: no title`);
    if (typeof view.count !== "number" && typeof view.count !== "string") {
      throw new ConsoleViewError(`View ${view.id}: count must be a number or a string`);
    }
    if (!Array.isArray(view.tables)) throw new ConsoleViewError(`View ${view.id}: no tables`);
    return {
      id: view.id,
      title: clip(view.title, 200),
      count: typeof view.count === "string" ? clip(view.count, 200) : view.count,
      tables: view.tables.map((table: Partial<ConsoleTable>) => checkedTable(view.id!, table)),
    };
  });
}

function checkedTable(viewId: string, table: Partial<ConsoleTable>): ConsoleTable {
  if (!Array.isArray(table?.columns) || !Array.isArray(table.rows)) {
    throw new ConsoleViewError(`View ${viewId}: a table needs columns and rows`);
  }
  const columns = table.columns.map((column: Partial<ConsoleColumn>) => {
    if (typeof column?.label !== "string" || typeof column.field !== "string") {
      throw new ConsoleViewError(`View ${viewId}: a column needs a label and a field`);
    }
    if (column.format !== undefined && !FORMATS.has(column.format)) {
      throw new ConsoleViewError(`View ${viewId}: unknown column format ${column.format}`);
    }
    return { label: column.label, field: column.field, format: column.format ?? "text" };
  });
  return {
    ...(typeof table.title === "string" ? { title: clip(table.title, 200) } : {}),
    columns,
    rows: table.rows.slice(0, MAX_VIEW_ROWS).map((row) => redactedRow(row)),
    ...(typeof table.empty === "string" ? { empty: clip(table.empty, 200) } : {}),
  };
}

/**
 * A row as the page may show it: secrets redacted by key (in the row, and in any JSON a cell holds
 * as text) and by pattern, nested values as JSON text, long text clipped.
 */
function redactedRow(row: unknown): Record<string, unknown> {
  const redacted = redactValue(row);
  if (redacted === null || typeof redacted !== "object" || Array.isArray(redacted)) return {};
  return Object.fromEntries(
    Object.entries(redacted).map(([field, value]) => [field, clipped(value)]),
  );
}

function clipped(value: unknown): unknown {
  if (typeof value === "string") return clip(redactText(value), CELL_TEXT_LIMIT);
  if (Array.isArray(value)) return value.map(clipped);
  if (value !== null && typeof value === "object") {
    return clip(JSON.stringify(value), CELL_TEXT_LIMIT);
  }
  return value;
}
