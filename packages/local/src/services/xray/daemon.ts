/**
 * A small local X-Ray daemon: the UDP endpoint functions send segment documents to
 * (`AWS_XRAY_DAEMON_ADDRESS`), and a bounded in-memory store of what arrived, grouped by trace id.
 *
 * The wire format is the daemon's documented one: one datagram per document, the header line
 * `{"format":"json","version":1}`, a newline, then the segment (or independent subsegment) JSON.
 * A datagram that is not that (other header, JSON that does not parse, a document without a
 * well-formed trace id, id or name, more than 64 KiB) is counted as dropped and otherwise ignored.
 *
 * Not the X-Ray service: no sampling rules, no batching to an API, no GetTraceSummaries or
 * BatchGetTraces, no service map. The socket is bound on 127.0.0.1 only (an ephemeral port by
 * default: the Lambda runtime hands the address to the functions).
 */
import { createSocket, type Socket } from "node:dgram";

/** The X-Ray daemon's receive buffer: larger documents are not accepted. */
export const MAX_DATAGRAM_BYTES = 64 * 1024;
const HEADER = { format: "json", version: 1 } as const;
const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const SEGMENT_ID = /^[0-9a-f]{16}$/;
const MAX_NAME_LENGTH = 200;

/** A segment or subsegment document, as sent; only the fields checked on arrival are typed. */
export interface SegmentDocument {
  id: string;
  trace_id: string;
  name: string;
  start_time: number;
  end_time?: number;
  parent_id?: string;
  /** `"subsegment"` for an independent subsegment; absent for a segment. */
  type?: string;
  [field: string]: unknown;
}

export interface StoredTrace {
  traceId: string;
  /** Epoch ms when the first document of the trace arrived. */
  firstSeen: number;
  /** Epoch ms when the latest document of the trace arrived. */
  lastSeen: number;
  /** In arrival order, at most `maxDocumentsPerTrace`. */
  documents: SegmentDocument[];
  /** Documents of this trace evicted to keep it under the per-trace cap. */
  dropped: number;
}

interface TraceStoreOptions {
  /** Traces kept; beyond it the one quiet the longest is evicted. Default 200. */
  maxTraces?: number;
  /** Documents kept per trace; beyond it the oldest subsegment is evicted. Default 100. */
  maxDocumentsPerTrace?: number;
  /** Bytes of document JSON kept in all; beyond it the oldest traces are evicted. Default 16 MiB. */
  maxBytes?: number;
}

/** What the Lambda runtime and the console need of the daemon. */
export interface TraceSource {
  /** The most recently active first, at most `limit`. */
  traces(limit?: number): StoredTrace[];
}

/**
 * Checks a parsed document: the fields X-Ray itself requires of every segment document (trace id,
 * id, name, start time, and for an independent subsegment its parent). Anything else is kept as
 * sent.
 */
function validDocument(value: unknown): SegmentDocument | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const doc = value as Record<string, unknown>;
  if (typeof doc.trace_id !== "string" || !TRACE_ID.test(doc.trace_id)) return undefined;
  if (typeof doc.id !== "string" || !SEGMENT_ID.test(doc.id)) return undefined;
  if (typeof doc.name !== "string" || doc.name === "" || doc.name.length > MAX_NAME_LENGTH) {
    return undefined;
  }
  if (typeof doc.start_time !== "number" || !Number.isFinite(doc.start_time)) return undefined;
  if (
    doc.end_time !== undefined &&
    (typeof doc.end_time !== "number" || !Number.isFinite(doc.end_time))
  ) {
    return undefined;
  }
  if (
    doc.parent_id !== undefined &&
    (typeof doc.parent_id !== "string" || !SEGMENT_ID.test(doc.parent_id))
  ) {
    return undefined;
  }
  if (doc.type === "subsegment" && doc.parent_id === undefined) return undefined;
  return doc as SegmentDocument;
}

/** One datagram to its document, or `undefined` for anything malformed. Never throws. */
export function parseSegmentDatagram(datagram: Buffer): SegmentDocument | undefined {
  if (datagram.length > MAX_DATAGRAM_BYTES) return undefined;
  const newline = datagram.indexOf(0x0a);
  if (newline < 0) return undefined;
  try {
    const header = JSON.parse(datagram.subarray(0, newline).toString("utf8")) as unknown;
    if (
      header === null ||
      typeof header !== "object" ||
      Object.keys(header).length !== 2 ||
      (header as Record<string, unknown>).format !== HEADER.format ||
      (header as Record<string, unknown>).version !== HEADER.version
    ) {
      return undefined;
    }
    return validDocument(JSON.parse(datagram.subarray(newline + 1).toString("utf8")));
  } catch {
    return undefined;
  }
}

interface Entry extends StoredTrace {
  bytes: number[];
}

/**
 * Documents grouped by trace id, bounded three ways: traces (the one quiet longest evicted), documents
 * per trace (oldest subsegment evicted first, so a trace keeps its segments), and bytes in all.
 */
export class TraceStore implements TraceSource {
  readonly #traces = new Map<string, Entry>();
  readonly #maxTraces: number;
  readonly #maxDocuments: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: TraceStoreOptions = {}) {
    this.#maxTraces = Math.max(1, options.maxTraces ?? 200);
    this.#maxDocuments = Math.max(1, options.maxDocumentsPerTrace ?? 100);
    this.#maxBytes = Math.max(1, options.maxBytes ?? 16 * 1024 * 1024);
  }

  /** Stores a valid document (false, and nothing stored, for an invalid one). */
  add(value: unknown, size?: number): boolean {
    const doc = validDocument(value);
    if (!doc) return false;
    let bytes = size;
    if (bytes === undefined) {
      try {
        bytes = Buffer.byteLength(JSON.stringify(doc));
      } catch {
        return false; // cycles, BigInt: not a JSON document
      }
    }
    if (bytes > MAX_DATAGRAM_BYTES) return false;
    const now = Date.now();
    let entry = this.#traces.get(doc.trace_id);
    if (!entry) {
      entry = {
        traceId: doc.trace_id,
        firstSeen: now,
        lastSeen: now,
        documents: [],
        dropped: 0,
        bytes: [],
      };
      this.#traces.set(doc.trace_id, entry);
    } else {
      // Latest activity last: eviction takes the trace that has been quiet the longest.
      this.#traces.delete(doc.trace_id);
      this.#traces.set(doc.trace_id, entry);
    }
    entry.lastSeen = now;
    entry.documents.push(doc);
    entry.bytes.push(bytes);
    this.#bytes += bytes;
    if (entry.documents.length > this.#maxDocuments) {
      const subsegment = entry.documents.findIndex((d) => d.type === "subsegment");
      const evict = Math.max(subsegment, 0);
      entry.documents.splice(evict, 1);
      this.#bytes -= entry.bytes.splice(evict, 1)[0] ?? 0;
      entry.dropped++;
    }
    for (const [traceId, oldest] of this.#traces) {
      if (this.#traces.size <= this.#maxTraces && this.#bytes <= this.#maxBytes) break;
      // The trace just written to stays: it is the newest activity, whatever its age.
      if (traceId === doc.trace_id) continue;
      this.#evict(traceId, oldest);
    }
    return true;
  }

  #evict(traceId: string, entry: Entry) {
    this.#traces.delete(traceId);
    for (const size of entry.bytes) this.#bytes -= size;
  }

  /** Copies, the most recently active (latest document) first. */
  traces(limit = Number.POSITIVE_INFINITY): StoredTrace[] {
    const out: StoredTrace[] = [];
    const all = [...this.#traces.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) out.push(copy(all[i]!));
    return out;
  }

  trace(traceId: string): StoredTrace | undefined {
    const entry = this.#traces.get(traceId);
    return entry ? copy(entry) : undefined;
  }

  get size(): number {
    return this.#traces.size;
  }

  clear(): void {
    this.#traces.clear();
    this.#bytes = 0;
  }
}

function copy(entry: Entry): StoredTrace {
  return {
    traceId: entry.traceId,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
    documents: [...entry.documents],
    dropped: entry.dropped,
  };
}

interface XRayDaemonOptions extends TraceStoreOptions {
  /** UDP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
}

export interface XRayDaemon extends TraceSource {
  /** `127.0.0.1:<port>`, the value of `AWS_XRAY_DAEMON_ADDRESS`. */
  readonly address: string;
  readonly port: number;
  /** Records a document made in this process (the runtime's function segments). */
  record(document: Record<string, unknown>): boolean;
  trace(traceId: string): StoredTrace | undefined;
  /** Datagrams received, and of those the ones dropped as malformed. */
  stats(): { received: number; dropped: number };
  close(): Promise<void>;
}

export async function startXRayDaemon(options: XRayDaemonOptions = {}): Promise<XRayDaemon> {
  const store = new TraceStore(options);
  const socket: Socket = createSocket("udp4");
  let received = 0;
  let dropped = 0;
  socket.on("message", (message) => {
    received++;
    const doc = parseSegmentDatagram(message);
    if (!doc || !store.add(doc, message.length)) dropped++;
  });
  // A send error on a UDP socket we only read from cannot happen; anything else must not crash us.
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port ?? 0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.unref();
  const port = socket.address().port;
  let closing: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    port,
    record: (document) => store.add(document),
    traces: (limit) => store.traces(limit),
    trace: (traceId) => store.trace(traceId),
    stats: () => ({ received, dropped }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
      return closing;
    },
  };
}
