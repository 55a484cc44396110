/**
 * The console's view of the X-Ray daemon's traces: per trace, its segments (the function segment
 * the Lambda runtime records) each with the AWS-call subsegments under it. Only known fields are
 * copied (never a document as sent), strings are clipped and redacted, and lists are capped.
 */
import type { StoredTrace } from "../services/xray/index";
import { clip, redactString } from "./redact";

/** Subsegments shown per trace; the rest are counted in `hiddenSubsegments`. */
const SUBSEGMENTS_PER_TRACE = 40;
const SEGMENTS_PER_TRACE = 10;
const FIELD_LIMIT = 200;

/** Request fields the functions' tracer records that name a resource, in the order shown. */
const RESOURCE_FIELDS = [
  "table_name",
  "topic_arn",
  "queue_url",
  "stream_name",
  "stream_arn",
  "function_name",
  "user_pool_id",
  "identity_pool_id",
];

/** When a segment or subsegment ran and how it ended. */
interface ConsoleOutcome {
  startedAt: string;
  /** Absent while in progress. */
  durationMs?: number;
  error: boolean;
  throttle: boolean;
  fault: boolean;
  /** Exception types of its cause. */
  exceptions: string[];
}

interface ConsoleSubsegment extends ConsoleOutcome {
  id: string;
  parentId?: string;
  /** The service (`DynamoDB`, `SNS`) for an AWS call. */
  name: string;
  namespace?: string;
  operation?: string;
  /** The resource the call named (table, topic, queue, stream, function, pool). */
  resource?: string;
  region?: string;
  requestId?: string;
  retries?: number;
  status?: number;
}

interface ConsoleSegment extends ConsoleOutcome {
  id: string;
  name: string;
  origin?: string;
  requestId?: string;
  subsegments: ConsoleSubsegment[];
}

export interface ConsoleTrace {
  traceId: string;
  /** The earliest start of its documents. */
  startedAt: string;
  /** From the earliest start to the latest end. */
  durationMs?: number;
  /** Any of its documents flagged so. */
  error: boolean;
  throttle: boolean;
  fault: boolean;
  /** Top-level segments (the function's), each with its subsegments. */
  segments: ConsoleSegment[];
  /** Subsegments whose segment is not (yet, or any more) in the trace. */
  orphans: ConsoleSubsegment[];
  /** Subsegments left out of this view, and documents the daemon evicted from the trace. */
  hiddenSubsegments: number;
  droppedDocuments: number;
}

type Doc = StoredTrace["documents"][number];

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? clip(redactString(value), FIELD_LIMIT) : undefined;
const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined;
const iso = (seconds: number) => {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
};
const duration = (doc: Doc): number | undefined =>
  typeof doc.end_time === "number" ? round((doc.end_time - doc.start_time) * 1000) : undefined;
const round = (ms: number) => Math.max(0, Math.round(ms * 100) / 100);

function exceptions(doc: Doc): string[] {
  const list = (doc.cause as { exceptions?: unknown } | undefined)?.exceptions;
  if (!Array.isArray(list)) return [];
  return list
    .slice(0, 5)
    .map((exception) => text((exception as { type?: unknown } | null)?.type) ?? "Error");
}

function flags(doc: Doc) {
  return { error: doc.error === true, throttle: doc.throttle === true, fault: doc.fault === true };
}

function subsegmentView(doc: Doc): ConsoleSubsegment {
  const aws = (doc.aws ?? {}) as Record<string, unknown>;
  const http = doc.http as { response?: { status?: unknown } } | undefined;
  const resource = RESOURCE_FIELDS.map((field) => text(aws[field])).find(Boolean);
  const view: ConsoleSubsegment = {
    id: doc.id,
    name: text(doc.name) ?? "",
    startedAt: iso(doc.start_time),
    ...flags(doc),
    exceptions: exceptions(doc),
  };
  if (doc.parent_id !== undefined) view.parentId = doc.parent_id;
  const optional: Partial<ConsoleSubsegment> = {
    namespace: text(doc.namespace),
    operation: text(aws.operation),
    resource,
    region: text(aws.region),
    requestId: text(aws.request_id),
    retries: count(aws.retries),
    status: count(http?.response?.status),
    durationMs: duration(doc),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (view as unknown as Record<string, unknown>)[key] = value;
  }
  return view;
}

function segmentView(doc: Doc): ConsoleSegment {
  const aws = (doc.aws ?? {}) as Record<string, unknown>;
  const view: ConsoleSegment = {
    id: doc.id,
    name: text(doc.name) ?? "",
    startedAt: iso(doc.start_time),
    ...flags(doc),
    exceptions: exceptions(doc),
    subsegments: [],
  };
  const origin = text(doc.origin);
  if (origin !== undefined) view.origin = origin;
  const requestId = text(aws.request_id);
  if (requestId !== undefined) view.requestId = requestId;
  const ms = duration(doc);
  if (ms !== undefined) view.durationMs = ms;
  return view;
}

export function traceView(trace: StoredTrace): ConsoleTrace {
  const segments: ConsoleSegment[] = [];
  const byId = new Map<string, Doc>();
  for (const doc of trace.documents) byId.set(doc.id, doc);
  const segmentOf = new Map<string, ConsoleSegment>();
  for (const doc of trace.documents) {
    if (doc.type === "subsegment" || segments.length >= SEGMENTS_PER_TRACE) continue;
    const view = segmentView(doc);
    segments.push(view);
    segmentOf.set(doc.id, view);
  }
  const orphans: ConsoleSubsegment[] = [];
  let shown = 0;
  let hidden = 0;
  for (const doc of trace.documents) {
    if (doc.type !== "subsegment") continue;
    if (shown >= SUBSEGMENTS_PER_TRACE) {
      hidden++;
      continue;
    }
    // Up the parent chain (a subsegment may hang under another) to its segment, bounded.
    let parent = doc.parent_id;
    let owner: ConsoleSegment | undefined;
    for (let hop = 0; parent !== undefined && hop < 16 && !owner; hop++) {
      owner = segmentOf.get(parent);
      const next = byId.get(parent);
      parent = next?.type === "subsegment" ? next.parent_id : undefined;
    }
    (owner ? owner.subsegments : orphans).push(subsegmentView(doc));
    shown++;
  }
  for (const segment of segments) segment.subsegments.sort(byStart);
  orphans.sort(byStart);
  const starts = trace.documents.map((doc) => doc.start_time);
  const ends = trace.documents.flatMap((doc) =>
    typeof doc.end_time === "number" ? [doc.end_time] : [],
  );
  const first = Math.min(...starts);
  const view: ConsoleTrace = {
    traceId: trace.traceId,
    startedAt: iso(first),
    error: trace.documents.some((doc) => doc.error === true),
    throttle: trace.documents.some((doc) => doc.throttle === true),
    fault: trace.documents.some((doc) => doc.fault === true),
    segments,
    orphans,
    hiddenSubsegments: hidden,
    droppedDocuments: trace.dropped,
  };
  if (ends.length > 0) view.durationMs = round((Math.max(...ends) - first) * 1000);
  return view;
}

function byStart(a: ConsoleSubsegment, b: ConsoleSubsegment) {
  return a.startedAt.localeCompare(b.startedAt);
}
