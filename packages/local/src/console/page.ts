/**
 * The console page: one self-contained HTML document (inline CSS and script, no framework, no
 * external asset) that polls `/_local/console/state` every second and renders each section with
 * DOM nodes and `textContent` only, so nothing from the data is ever parsed as HTML.
 */
import { createHash } from "node:crypto";

const STATE_PATH = "/_local/console/state";

const STYLE = `
:root { color-scheme: light dark; --muted: #777; --line: #8884; --bad: #c0392b; --ok: #1e8449; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; }
header { position: sticky; top: 0; z-index: 1; display: flex; gap: 1em; align-items: baseline;
  flex-wrap: wrap; padding: .6em 1em; background: Canvas; border-bottom: 1px solid var(--line); }
header h1 { font-size: 15px; margin: 0; }
#status.bad { color: var(--bad); }
main { padding: 0 1em 2em; }
section { margin-top: 1.2em; }
h2 { font-size: 14px; margin: 0 0 .3em; }
h2 .count { color: var(--muted); font-weight: normal; margin-left: .4em; }
h3 { font-size: 13px; margin: .6em 0 .2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .2em .5em; border-bottom: 1px solid var(--line); }
th { font-weight: 600; white-space: nowrap; }
td { overflow-wrap: break-word; }
.muted, .empty { color: var(--muted); }
.bad { color: var(--bad); }
.ok { color: var(--ok); }
.tag { display: inline-block; padding: 0 .4em; margin: 0 .2em .1em 0; border: 1px solid var(--line); border-radius: 3px; }
pre { margin: .2em 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24em; overflow: auto;
  font: 12px/1.35 ui-monospace, monospace; }
summary { cursor: pointer; color: var(--muted); }
`;

const SCRIPT = `
"use strict";
const STATE_URL = ${JSON.stringify(STATE_PATH)};
const last = {};
const open = new Set();
let paused = false;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function tags(values) {
  const span = el("span");
  for (const value of values || []) span.append(el("span", value, "tag"));
  return span;
}
function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 23);
}
function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
}
function details(key, label, blocks) {
  const d = el("details");
  d.dataset.key = key;
  if (open.has(key)) d.open = true;
  d.addEventListener("toggle", () => { d.open ? open.add(key) : open.delete(key); });
  d.append(el("summary", label));
  for (const [title, text] of blocks) {
    if (text === undefined || text === null || text === "") continue;
    d.append(el("h3", title), el("pre", text));
  }
  return d;
}
function disclose(key, label, node) {
  const d = el("details");
  d.dataset.key = key;
  if (open.has(key)) d.open = true;
  d.addEventListener("toggle", () => { d.open ? open.add(key) : open.delete(key); });
  d.append(el("summary", label), node);
  return d;
}
function ms(value) {
  return typeof value === "number" ? (Math.round(value * 10) / 10) + " ms" : "in progress";
}
function marks(x) {
  const span = el("span");
  if (x.fault) span.append(el("span", "fault", "tag bad"));
  if (x.error) span.append(el("span", "error", "tag bad"));
  if (x.throttle) span.append(el("span", "throttle", "tag bad"));
  for (const type of x.exceptions || []) span.append(el("span", type, "tag"));
  if (!x.fault && !x.error && !x.throttle) span.append(el("span", "ok", "ok"));
  return span;
}
function awsCalls(t) {
  const calls = t.segments.flatMap((g) => g.subsegments).concat(t.orphans);
  const kinds = [...new Set(calls.map((c) => c.name + (c.operation ? " " + c.operation : "")))];
  const more = t.hiddenSubsegments + t.droppedDocuments;
  const label = calls.length + (calls.length === 1 ? " call" : " calls") +
    (kinds.length ? ": " + kinds.join(", ") : "") + (more ? " (+" + more + " not shown)" : "");
  const box = el("div");
  box.append(el("p", "trace " + t.traceId, "muted"), table([
    ["service", (c) => c.name],
    ["operation", (c) => c.operation],
    ["resource", (c) => c.resource],
    ["ms", (c) => ms(c.durationMs)],
    ["status", (c) => c.status],
    ["retries", (c) => c.retries],
    ["flags", (c) => marks(c)],
  ], calls, "no AWS calls"));
  return disclose("trace/" + t.traceId, label, box);
}
function table(columns, rows, empty) {
  if (!rows || rows.length === 0) return el("p", empty || "nothing yet", "empty");
  const t = el("table");
  const head = el("tr");
  for (const [label] of columns) head.append(el("th", label));
  t.append(el("thead"));
  t.tHead.append(head);
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    for (const [, cell] of columns) {
      const value = cell(row);
      const td = el("td");
      if (value instanceof Node) td.append(value);
      else if (value !== undefined && value !== null) td.textContent = String(value);
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  return t;
}
function status(ok, text) { return el("span", text, ok ? "ok" : "bad"); }
function json(value) { return value === undefined ? "" : JSON.stringify(value); }

const SECTIONS = {
  users: (s) => [s.users.length, table([
    ["username", (u) => u.username],
    ["email", (u) => u.email],
    ["sub", (u) => u.sub],
    ["status", (u) => u.status],
    ["enabled", (u) => status(u.enabled, u.enabled ? "yes" : "disabled")],
    ["groups", (u) => tags(u.groups)],
    ["pool", (u) => u.poolId],
    ["created", (u) => time(u.created)],
  ], s.users, "no users")],
  identities: (s) => [s.identities.length, table([
    ["identity id", (i) => i.identityId],
    ["kind", (i) => i.mergedInto ? "merged" : i.guest ? "guest" : "signed in"],
    ["logins", (i) => tags(i.logins.map((l) => (l.user ? l.user + " · " : "") + l.provider + " → " + l.userId))],
    ["merged into", (i) => i.mergedInto],
    ["disabled", (i) => i.disabled ? "yes" : ""],
    ["pool", (i) => i.identityPoolName || i.identityPoolId],
    ["last modified", (i) => time(i.lastModified)],
  ], s.identities, "no identities")],
  invocations: (s) => [s.invocations.length, table([
    ["started", (r) => time(r.startedAt)],
    ["function", (r) => r.functionName],
    ["source", (r) => r.source + (r.invocationType === "Event" ? " (async, attempt " + r.attempt + ")" : "")],
    ["outcome", (r) => status(r.ok, r.ok ? "ok" : (r.errorType || "error") + (r.timedOut ? " (timeout)" : ""))],
    ["ms", (r) => Math.round(r.durationMs)],
    ["event, result, logs", (r) => details(r.requestId + "/" + r.attempt, r.ok ? "details" : r.errorMessage || "details", [
      ["event", pretty(r.event)],
      ["result", r.result === undefined ? "" : pretty(r.result)],
      ["error", r.errorMessage],
      ["logs", (r.logs || []).join("\\n")],
    ])],
  ], s.invocations, "no invocations")],
  traces: (s) => [s.traces.length, table([
    ["started", (t) => time(t.startedAt)],
    ["function", (t) => t.segments.map((g) => g.name).join(", ") || "(no function segment)"],
    ["ms", (t) => t.segments.length ? t.segments.map((g) => ms(g.durationMs)).join(", ") : ms(t.durationMs)],
    ["outcome", (t) => marks({ fault: t.fault, error: t.error, throttle: t.throttle,
      exceptions: t.segments.flatMap((g) => g.exceptions) })],
    ["AWS calls", awsCalls],
  ], s.traces, "no traces (functions with active tracing record one per invocation)")],
  sns: (s) => [s.snsDeliveries.length, table([
    ["at", (d) => time(d.at)],
    ["topic", (d) => String(d.topicArn).split(":").pop()],
    ["protocol", (d) => d.protocol],
    ["endpoint", (d) => d.endpoint],
    ["attempt", (d) => d.attempt],
    ["status", (d) => status(d.status === "delivered", d.status)],
    ["error", (d) => d.error],
    ["message id", (d) => d.messageId],
  ], s.snsDeliveries, "no deliveries")],
  sqs: (s) => [s.sqsQueues.length, table([
    ["queue", (q) => q.name],
    ["visible", (q) => q.visible],
    ["in flight", (q) => q.inFlight],
    ["delayed", (q) => q.delayed],
    ["dead-letter queue", (q) => q.deadLetterTarget ? String(q.deadLetterTarget).split(":").pop() : ""],
  ], s.sqsQueues, "no queues")],
  kinesis: (s) => {
    const box = el("div");
    if (s.kinesis.length === 0) box.append(el("p", "no streams", "empty"));
    for (const stream of s.kinesis) {
      box.append(el("h3", stream.stream + " (" + stream.recordCount + " records, newest first)"), table([
        ["arrived", (r) => time(r.arrivedAt)],
        ["shard", (r) => r.shardId],
        ["partition key", (r) => r.partitionKey],
        ["data", (r) => details(stream.stream + "/" + r.sequenceNumber, String(r.data).slice(0, 120), [["data", pretty(r.data)]])],
      ], stream.records, "no records"));
    }
    return [s.kinesis.reduce((n, k) => n + k.recordCount, 0), box];
  },
  mqtt: (s) => {
    const box = el("div");
    box.append(el("h3", "connections"), table([
      ["client id", (c) => c.clientId],
      ["identity", (c) => c.identityId],
      ["role", (c) => String(c.roleArn).split("/").pop()],
      ["guest", (c) => c.guest ? "yes" : ""],
      ["since", (c) => time(new Date(c.connectedAt).toISOString())],
    ], s.mqtt.connections, "no connections"));
    box.append(el("h3", "messages (newest first)"), table([
      ["received", (m) => time(m.receivedAt)],
      ["topic", (m) => m.topic],
      ["client id", (m) => m.clientId],
      ["qos", (m) => m.qos],
      ["payload", (m) => m.payload],
    ], s.mqtt.messages, "no messages"));
    return [s.mqtt.connections.length + " connected · " + s.mqtt.messages.length, box];
  },
  problems: (s) => [s.errors.length, table([
    ["section", (e) => e.section],
    ["error", (e) => e.message],
  ], s.errors, "none" + (s.unavailable.length ? " (not running: " + s.unavailable.join(", ") + ")" : ""))],
};

// The app's views (console/views.ts): columns name a row field and a format; nothing in them is
// markup. Each gets its own section, after Identities, keyed "view-<id>".
function cell(column, value) {
  if (column.format === "time") return time(value);
  if (column.format === "tags") return tags(Array.isArray(value) ? value : value === undefined || value === null || value === "" ? [] : [value]);
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return value;
}
function drawView(view) {
  const box = el("div");
  for (const t of view.tables) {
    if (t.title) box.append(el("h3", t.title));
    box.append(table(t.columns.map((c) => [c.label, (row) => cell(c, row[c.field])]), t.rows, t.empty));
  }
  return box;
}
function renderViews(views) {
  const container = document.getElementById("views");
  const ids = new Set(views.map((view) => "view-" + view.id));
  for (const section of [...container.children]) {
    if (!ids.has(section.id)) { section.remove(); delete last[section.id]; }
  }
  for (const view of views) {
    const id = "view-" + view.id;
    let section = document.getElementById(id);
    if (!section) {
      section = el("section");
      section.id = id;
      const heading = el("h2", view.title);
      heading.append(el("span", "", "count"));
      section.append(heading, el("div", undefined, "body"));
    }
    container.append(section);
    const key = json(view);
    if (last[id] === key) continue;
    last[id] = key;
    section.querySelector("h2").firstChild.textContent = view.title;
    section.querySelector(".count").textContent = String(view.count);
    section.querySelector(".body").replaceChildren(drawView(view));
  }
}

function render(state) {
  document.getElementById("where").textContent = state.endpoint + " · " + state.region;
  renderViews(state.views || []);
  for (const [name, draw] of Object.entries(SECTIONS)) {
    const section = document.getElementById(name);
    const key = json(pick(state, name));
    if (last[name] === key) continue;
    last[name] = key;
    const [count, body] = draw(state);
    section.querySelector(".count").textContent = String(count);
    section.querySelector(".body").replaceChildren(body);
  }
}
function pick(state, name) {
  switch (name) {
    case "users": return state.users;
    case "identities": return state.identities;
    case "invocations": return state.invocations;
    case "traces": return state.traces;
    case "sns": return state.snsDeliveries;
    case "sqs": return state.sqsQueues;
    case "kinesis": return state.kinesis;
    case "mqtt": return state.mqtt;
    default: return [state.errors, state.unavailable];
  }
}

async function tick() {
  const line = document.getElementById("status");
  if (!paused) {
    try {
      const response = await fetch(STATE_URL, { cache: "no-store", headers: { accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const state = await response.json();
      render(state);
      line.textContent = "live · updated " + time(state.generatedAt).slice(11);
      line.className = "";
    } catch (error) {
      line.textContent = "cannot reach the local cloud (" + (error && error.message ? error.message : error) + "), retrying";
      line.className = "bad";
    }
  }
  setTimeout(tick, 1000);
}
document.getElementById("pause").addEventListener("change", (event) => { paused = event.target.checked; });
tick();
`;

const SECTION_TITLES: [string, string][] = [
  ["users", "Users"],
  ["identities", "Identities"],
  ["invocations", "Lambda invocations"],
  ["traces", "Traces (X-Ray)"],
  ["sns", "SNS deliveries"],
  ["sqs", "SQS queues"],
  ["kinesis", "Kinesis"],
  ["mqtt", "MQTT"],
  ["problems", "Problems"],
];

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("base64");

/** Only this page's own script and style may run: no other script, no frame, no form target. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Boarding Pass · local console</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Boarding Pass · local console</h1>
<span id="where" class="muted"></span>
<span id="status">connecting…</span>
<label><input type="checkbox" id="pause"> pause</label>
</header>
<main>
${SECTION_TITLES.map(
  ([id, title]) =>
    `<section id="${id}"><h2>${title}<span class="count"></span></h2><div class="body"><p class="empty">loading…</p></div></section>${id === "identities" ? '\n<div id="views"></div>' : ""}`,
).join("\n")}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
