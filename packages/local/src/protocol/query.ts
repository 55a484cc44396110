/**
 * The AWS query protocol (SNS, STS): form-encoded requests (`Action=...&Version=...`) answered
 * with XML.
 *
 * The SDK's query deserializer is strict about element names: it reads `<OpResponse><OpResult>` and
 * silently yields `undefined` fields for a wrong root, so every response goes through
 * `queryResponse`, which derives both names from the action. Errors go through `queryErrorResponse`:
 * the SDK maps `<Error><Code>` to an exception class through the model's `awsQueryError` code.
 */
import type { ServiceRequest, ServiceResponse } from "../types";
import { AwsServiceError, answerServiceErrors, internalError } from "./errors";

/** Form body plus URL query, body winning: the SDK sends POST bodies, curl users send GET queries. */
export function readQueryParams(request: ServiceRequest): URLSearchParams {
  const params = new URLSearchParams(request.query);
  const contentType = request.headers["content-type"] ?? "";
  if (request.body.length > 0 && !contentType.includes("json")) {
    for (const [key, value] of new URLSearchParams(request.body.toString("utf8"))) {
      params.set(key, value);
    }
  }
  return params;
}

/**
 * The query protocol flattens structures into dotted keys (`Attributes.entry.1.key`,
 * `PublishBatchRequestEntries.member.2.Message`). `nested` rebuilds the tree so that readers can
 * walk it instead of string-matching keys.
 */
export type ParamTree = { [key: string]: ParamTree | string };

export function nested(params: URLSearchParams, prefix: string): ParamTree | undefined {
  const root: ParamTree = {};
  let found = false;
  const head = `${prefix}.`;
  for (const [key, value] of params) {
    if (!key.startsWith(head)) continue;
    found = true;
    const parts = key.slice(head.length).split(".");
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const next = node[part];
      if (typeof next === "object") node = next;
      else {
        const created: ParamTree = {};
        node[part] = created;
        node = created;
      }
    }
    node[parts[parts.length - 1]!] = value;
  }
  return found ? root : undefined;
}

/** Items of a `member.N` / `entry.N` list in index order (the SDK numbers from 1). */
export function listItems(tree: ParamTree | undefined, wrapper: "member" | "entry"): ParamTree[] {
  const list = tree?.[wrapper];
  if (!list || typeof list !== "object") return [];
  return Object.keys(list)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => list[k])
    .filter((v): v is ParamTree => typeof v === "object");
}

/** `Prefix.entry.N.key` / `Prefix.entry.N.value` maps (SNS `Attributes`). */
export function readEntryMap(params: URLSearchParams, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of listItems(nested(params, prefix), "entry")) {
    const key = item.key;
    const value = item.value;
    if (typeof key === "string") out[key] = typeof value === "string" ? value : "";
  }
  return out;
}

function xmlEscape(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\r/g, "&#xD;");
}

/** Pre-rendered XML, for the shapes `xml()` cannot express on its own (maps of entries). */
class RawXml {
  constructor(readonly xml: string) {}
}

export type XmlValue =
  | string
  | number
  | boolean
  | undefined
  | RawXml
  | XmlValue[]
  | { [element: string]: XmlValue };

/**
 * Renders a value as XML children. Objects become elements, arrays become `<member>` lists (the
 * query protocol's default list encoding), `undefined` is omitted so optional fields vanish.
 */
function xml(value: XmlValue): string {
  if (value === undefined) return "";
  if (value instanceof RawXml) return value.xml;
  if (Array.isArray(value)) return value.map((item) => `<member>${xml(item)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .map(([name, child]) => `<${name}>${xml(child)}</${name}>`)
      .join("");
  }
  return xmlEscape(String(value));
}

/** `<entry><key>k</key><value>v</value></entry>` maps, as SNS returns `Attributes`. */
export function xmlEntryMap(map: Record<string, string>): RawXml {
  return new RawXml(
    Object.entries(map)
      .map(([k, v]) => `<entry><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></entry>`)
      .join(""),
  );
}

/** `<ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata>…` */
export function queryResponse(
  action: string,
  xmlns: string,
  requestId: string,
  result?: XmlValue,
): ServiceResponse {
  const resultXml = result === undefined ? "" : `<${action}Result>${xml(result)}</${action}Result>`;
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">${resultXml}` +
    `<ResponseMetadata><RequestId>${xmlEscape(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>`;
  return {
    status: 200,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body,
  };
}

/**
 * `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>…`. A service names its namespace and
 * sends the XML declaration, as SNS and STS do; the edge, answering for a service it could not
 * reach, sends the bare document.
 */
export function queryErrorResponse(
  error: AwsServiceError,
  requestId: string,
  xmlns?: string,
): ServiceResponse {
  const head =
    xmlns === undefined
      ? "<ErrorResponse>"
      : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${xmlns}">`;
  const body =
    `${head}<Error><Type>${error.fault === "server" ? "Receiver" : "Sender"}</Type>` +
    `<Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
    `<RequestId>${xmlEscape(requestId)}</RequestId></ErrorResponse>`;
  return {
    status: error.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body,
  };
}

/** Runs an action handler, rendering `AwsServiceError`s (and bugs, as InternalError 500) as XML. */
export function runQueryAction(
  xmlns: string,
  requestId: string,
  action: () => Promise<ServiceResponse> | ServiceResponse,
): Promise<ServiceResponse> {
  return answerServiceErrors(
    {
      render: (error) => queryErrorResponse(error, requestId, xmlns),
      unexpected: internalError("InternalError"),
    },
    action,
  );
}

export function requireParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === "") {
    throw new AwsServiceError("InvalidParameter", `Invalid parameter: ${name}`);
  }
  return value;
}
