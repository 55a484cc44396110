/**
 * The local X-Ray daemon over a real loopback UDP socket: segment documents in the daemon's wire
 * format are kept by trace id, malformed datagrams are dropped (and the daemon keeps serving),
 * and the store stays bounded.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MAX_DATAGRAM_BYTES,
  parseSegmentDatagram,
  startXRayDaemon,
  TraceStore,
  type XRayDaemon,
} from "../../src/services/xray/index";

const HEADER = '{"format":"json","version":1}\n';
const traceId = () =>
  `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
const segmentId = () => randomBytes(8).toString("hex");

function subsegment(trace: string, parent: string, extra: Record<string, unknown> = {}) {
  const now = Date.now() / 1000;
  return {
    id: segmentId(),
    trace_id: trace,
    parent_id: parent,
    type: "subsegment",
    name: "DynamoDB",
    namespace: "aws",
    start_time: now,
    end_time: now + 0.004,
    aws: { operation: "GetItem", region: "us-east-1", retries: 0, table_name: "t" },
    http: { response: { status: 200 } },
    ...extra,
  };
}

function segment(trace: string, id: string) {
  const now = Date.now() / 1000;
  return {
    id,
    trace_id: trace,
    name: "fn",
    start_time: now,
    end_time: now + 0.01,
    origin: "AWS::Lambda::Function",
  };
}

/** Polls (bounded) until `read` gives something. */
async function until<T>(read: () => T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the local X-Ray daemon over UDP", () => {
  let daemon: XRayDaemon;
  let sender: Socket;
  const send = (payload: string | Buffer) =>
    new Promise<void>((resolve, reject) =>
      sender.send(payload, daemon.port, "127.0.0.1", (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  const sendDocument = (document: object) => send(HEADER + JSON.stringify(document));

  beforeAll(async () => {
    daemon = await startXRayDaemon();
    sender = createSocket("udp4");
  });
  afterAll(async () => {
    sender?.close();
    await daemon?.close();
  });

  it("listens on the loopback interface only, on an ephemeral port", () => {
    expect(daemon.address).toBe(`127.0.0.1:${daemon.port}`);
    expect(daemon.port).toBeGreaterThan(0);
  });

  it("keeps segment documents, grouped by trace id", async () => {
    const [a, b] = [traceId(), traceId()];
    const parent = segmentId();
    const first = subsegment(a, parent);
    const second = subsegment(a, parent, { aws: { operation: "PutItem" } });
    const other = subsegment(b, segmentId());
    await sendDocument(first);
    await sendDocument(second);
    await sendDocument(other);

    const trace = await until(() => {
      const found = daemon.trace(a);
      return found && found.documents.length === 2 ? found : undefined;
    }, "both documents of trace a");
    expect(trace.documents).toEqual([first, second]);
    expect(await until(() => daemon.trace(b), "trace b")).toMatchObject({
      traceId: b,
      documents: [other],
      dropped: 0,
    });
    // A segment recorded in-process joins the same trace.
    expect(daemon.record(segment(a, parent))).toBe(true);
    expect(daemon.trace(a)!.documents.map((doc) => doc.id)).toEqual([first.id, second.id, parent]);
    // The latest activity first: trace a just got its segment.
    const ids = daemon.traces().map((t) => t.traceId);
    expect(ids.indexOf(a)).toBeLessThan(ids.indexOf(b));
    await sendDocument(subsegment(b, segmentId()));
    await until(() => daemon.trace(b)?.documents.length === 2, "trace b's second document");
    expect(daemon.traces(1).map((t) => t.traceId)).toEqual([b]);
  });

  it("drops malformed datagrams without stopping", async () => {
    const before = daemon.stats();
    const trace = traceId();
    const good = subsegment(trace, segmentId());
    const malformed: (string | Buffer)[] = [
      // no header line
      JSON.stringify(good),
      // another header
      `{"format":"json","version":2}\n${JSON.stringify(good)}`,
      `{"format":"json","version":1,"extra":true}\n${JSON.stringify(good)}`,
      `not json\n${JSON.stringify(good)}`,
      // a body that is not JSON, or not a segment document
      `${HEADER}{"id":`,
      `${HEADER}[1,2,3]`,
      `${HEADER}${JSON.stringify({ ...good, trace_id: "1-bad" })}`,
      `${HEADER}${JSON.stringify({ ...good, id: "XYZ" })}`,
      `${HEADER}${JSON.stringify({ ...good, name: "" })}`,
      `${HEADER}${JSON.stringify({ ...good, start_time: "yesterday" })}`,
      `${HEADER}${JSON.stringify({ ...good, parent_id: undefined })}`,
      Buffer.from([0xff, 0xfe, 0x0a, 0x00]),
      "",
    ];
    for (const datagram of malformed) await send(datagram);
    await sendDocument(good);

    await until(() => daemon.trace(trace), "the well-formed document after the malformed ones");
    await until(
      () => daemon.stats().received - before.received === malformed.length + 1,
      "every datagram to be read",
    );
    expect(daemon.stats().dropped - before.dropped).toBe(malformed.length);
    expect(daemon.trace(trace)!.documents).toEqual([good]);
  });

  it("refuses a document over 64 KiB, and takes one just under", async () => {
    const trace = traceId();
    const template = subsegment(trace, segmentId());
    const base = HEADER + JSON.stringify({ ...template, metadata: { pad: "" } });
    /** A datagram of exactly `bytes` bytes (a fresh id each, same length). */
    const padded = (bytes: number) =>
      Buffer.from(
        HEADER +
          JSON.stringify({
            ...template,
            id: segmentId(),
            metadata: { pad: "x".repeat(bytes - Buffer.byteLength(base)) },
          }),
      );
    const oversized = padded(MAX_DATAGRAM_BYTES + 1);
    expect(oversized.length).toBe(MAX_DATAGRAM_BYTES + 1);
    // Over IPv4 a datagram cannot exceed 65,507 bytes: the parser's own limit is checked directly.
    expect(parseSegmentDatagram(oversized)).toBeUndefined();
    expect(parseSegmentDatagram(padded(MAX_DATAGRAM_BYTES))).toBeDefined();
    // In-process records have the same limit (on the document's own JSON).
    const body = JSON.parse(
      padded(MAX_DATAGRAM_BYTES + 100)
        .subarray(HEADER.length)
        .toString(),
    );
    expect(Buffer.byteLength(JSON.stringify(body))).toBeGreaterThan(MAX_DATAGRAM_BYTES);
    expect(daemon.record(body)).toBe(false);

    const large = padded(60_000);
    await send(large);
    const stored = await until(() => daemon.trace(trace), "the 60 kB document");
    expect(stored.documents).toHaveLength(1);
  });
});

describe("the trace store's bounds", () => {
  it("evicts the trace quiet the longest beyond maxTraces", () => {
    const store = new TraceStore({ maxTraces: 3 });
    const traces = Array.from({ length: 5 }, () => traceId());
    for (const trace of traces) expect(store.add(subsegment(trace, segmentId()))).toBe(true);

    expect(store.size).toBe(3);
    expect(store.traces().map((t) => t.traceId)).toEqual(traces.slice(2).reverse());
    expect(store.trace(traces[0]!)).toBeUndefined();
    // A document for a kept trace makes it the newest: the next eviction takes another.
    store.add(subsegment(traces[2]!, segmentId()));
    const latest = traceId();
    store.add(subsegment(latest, segmentId()));
    expect(store.trace(traces[2]!)?.documents).toHaveLength(2);
    expect(store.trace(traces[3]!)).toBeUndefined();
    expect(store.traces().map((t) => t.traceId)).toEqual([latest, traces[2], traces[4]]);
  });

  it("caps documents per trace, evicting the oldest subsegment and keeping segments", () => {
    const store = new TraceStore({ maxDocumentsPerTrace: 4 });
    const trace = traceId();
    const parent = segmentId();
    const calls = Array.from({ length: 5 }, (_, n) =>
      subsegment(trace, parent, { aws: { operation: `Call${n}` } }),
    );
    store.add(calls[0]);
    store.add(segment(trace, parent));
    for (const call of calls.slice(1)) store.add(call);

    const kept = store.trace(trace)!;
    expect(kept.documents).toHaveLength(4);
    expect(kept.dropped).toBe(2);
    expect(kept.documents.map((doc) => doc.id)).toEqual([
      parent,
      calls[2]!.id,
      calls[3]!.id,
      calls[4]!.id,
    ]);
  });

  it("evicts the oldest traces beyond maxBytes", () => {
    const store = new TraceStore({ maxBytes: 2_000 });
    const traces = Array.from({ length: 10 }, () => traceId());
    for (const trace of traces) store.add(subsegment(trace, segmentId()));
    const kept = store.traces();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(10);
    const bytes = kept.reduce(
      (sum, t) => sum + t.documents.reduce((n, d) => n + JSON.stringify(d).length, 0),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(2_000);
    expect(kept[0]!.traceId).toBe(traces[9]);
  });

  it("refuses documents X-Ray would refuse, and never throws", () => {
    const store = new TraceStore();
    const cyclic: Record<string, unknown> = subsegment(traceId(), segmentId());
    cyclic.self = cyclic;
    for (const bad of [null, 42, "x", [], {}, { ...segment(traceId(), "short") }, cyclic]) {
      expect(store.add(bad)).toBe(false);
    }
    expect(store.size).toBe(0);
  });
});
