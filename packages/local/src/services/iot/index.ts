/**
 * Emulated AWS IoT control plane (REST JSON): IoT policies and their attachment to targets
 * (Cognito identity ids, certificate ARNs, thing groups), plus DescribeEndpoint.
 *
 * Paths and shapes follow `@aws-sdk/client-iot`'s model (`AttachPolicy` = PUT
 * /target-policies/{policyName}, `DetachPolicy` = POST /target-policies/{policyName},
 * `ListAttachedPolicies` = POST /attached-policies/{target}, ...). Errors carry both the
 * `x-amzn-ErrorType` header and a `{"message"}` body, with the model's HTTP status (note
 * LimitExceededException is 410 in IoT), so the SDK raises the modeled exception class.
 *
 * `attachedPolicies(target)` is the hook for the local MQTT broker's authorization, and
 * `setDataEndpoint(host)` makes DescribeEndpoint name that broker once it is listening.
 */
import { randomBytes } from "node:crypto";
import { Journal } from "../../journal";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";

/** Policies per target, IoT's documented quota (field guide §3). */
const MAX_POLICIES_PER_TARGET = 10;
/** Document size quota, counted without whitespace as IoT does. */
const MAX_POLICY_CHARS = 2048;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 250;

export interface IotServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /**
   * Answer of DescribeEndpoint per endpoint type (`iot:Data-ATS`, `iot:Data`,
   * `iot:CredentialProvider`, `iot:Jobs`); a string applies to every type. Default `localhost`,
   * the local MQTT broker's host.
   */
  endpointAddress?: string | Partial<Record<EndpointType, string>>;
  now?: () => number;
}

export type EndpointType = "iot:Data" | "iot:Data-ATS" | "iot:CredentialProvider" | "iot:Jobs";
const ENDPOINT_TYPES: readonly EndpointType[] = [
  "iot:Data",
  "iot:Data-ATS",
  "iot:CredentialProvider",
  "iot:Jobs",
];

export interface IotPolicy {
  policyName: string;
  policyArn: string;
  policyDocument: string;
  /** Epoch ms. */
  createdAt: number;
  generationId: string;
}

export interface IotService extends LocalService {
  readonly name: "iot";
  /** Policies attached to a target (identity id, certificate ARN...), in attachment order. */
  attachedPolicies(target: string): IotPolicy[];
  /**
   * The MQTT broker's `host:port` for DescribeEndpoint's data types (`iot:Data`,
   * `iot:Data-ATS`), set by whoever starts the broker: its port is only known once it listens.
   * Takes precedence over `endpointAddress` for those two types; `undefined` restores it.
   */
  setDataEndpoint(host: string | undefined): void;
  /**
   * Create-or-replace a policy's document (the template provisioner's update: AWS would add a
   * default version; locally the one document is replaced, attachments kept).
   */
  putPolicy(policyName: string, policyDocument: string): IotPolicy;
}

/** The endpoint types an MQTT client connects to (the others are HTTP services). */
const DATA_ENDPOINT_TYPES: readonly EndpointType[] = ["iot:Data", "iot:Data-ATS"];

type JournalRecord =
  | { op: "createPolicy"; policy: IotPolicy }
  | { op: "deletePolicy"; policyName: string }
  | { op: "attach"; policyName: string; target: string }
  | { op: "detach"; policyName: string; target: string };

class IotError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = (what: string) => new IotError("ResourceNotFoundException", 404, what);
const invalid = (message: string) => new IotError("InvalidRequestException", 400, message);

export function createIotService(options: IotServiceOptions): IotService {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const now = options.now ?? Date.now;
  const policies = new Map<string, IotPolicy>();
  /** target → policy names, insertion-ordered. */
  const attachments = new Map<string, Set<string>>();
  let dataEndpoint: string | undefined;

  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "createPolicy":
        policies.set(record.policy.policyName, record.policy);
        break;
      case "deletePolicy":
        policies.delete(record.policyName);
        break;
      case "attach": {
        const set = attachments.get(record.target) ?? new Set<string>();
        set.add(record.policyName);
        attachments.set(record.target, set);
        break;
      }
      case "detach": {
        const set = attachments.get(record.target);
        set?.delete(record.policyName);
        if (set?.size === 0) attachments.delete(record.target);
        break;
      }
    }
  }

  function snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [...policies.values()].map((policy) => ({
      op: "createPolicy",
      policy,
    }));
    for (const [target, names] of attachments) {
      for (const policyName of names) out.push({ op: "attach", policyName, target });
    }
    return out;
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "iot", snapshot, compactAfter: options.compactAfter },
    apply,
  );

  function requirePolicy(name: string): IotPolicy {
    const policy = policies.get(name);
    if (!policy) throw notFound(`Policy not found: ${name}`);
    return policy;
  }

  function targetsOf(policyName: string): string[] {
    return [...attachments].filter(([, names]) => names.has(policyName)).map(([target]) => target);
  }

  // ---- operations ----
  function createPolicy(policyName: string, body: Record<string, unknown>): ServiceResponse {
    validatePolicyName(policyName);
    const document = body.policyDocument;
    if (typeof document !== "string") throw invalid("policyDocument is required");
    validatePolicyDocument(document);
    const arn = `arn:aws:iot:${options.region}:${accountId}:policy/${policyName}`;
    if (policies.has(policyName)) {
      throw new IotError(
        "ResourceAlreadyExistsException",
        409,
        `Policy cannot be created - name already exists (name=${policyName})`,
        {
          resourceId: policyName,
          resourceArn: arn,
        },
      );
    }
    const policy: IotPolicy = {
      policyName,
      policyArn: arn,
      policyDocument: document,
      createdAt: now(),
      generationId: randomBytes(32).toString("hex"),
    };
    journal.commit({ op: "createPolicy", policy });
    return json(200, {
      policyName,
      policyArn: arn,
      policyDocument: document,
      policyVersionId: "1",
    });
  }

  function getPolicy(policyName: string): ServiceResponse {
    const p = requirePolicy(policyName);
    const seconds = p.createdAt / 1000;
    return json(200, {
      policyName: p.policyName,
      policyArn: p.policyArn,
      policyDocument: p.policyDocument,
      defaultVersionId: "1",
      creationDate: seconds,
      lastModifiedDate: seconds,
      generationId: p.generationId,
    });
  }

  function deletePolicy(policyName: string): ServiceResponse {
    requirePolicy(policyName);
    if (targetsOf(policyName).length > 0) {
      throw new IotError(
        "DeleteConflictException",
        409,
        "The policy cannot be deleted as the policy is attached to one or more principals (name=" +
          policyName +
          ")",
      );
    }
    journal.commit({ op: "deletePolicy", policyName });
    return empty();
  }

  function attachPolicy(policyName: string, body: Record<string, unknown>): ServiceResponse {
    const target = requireTarget(body);
    requirePolicy(policyName);
    const current = attachments.get(target);
    // Re-attaching is a no-op success, as in IoT (field guide §3).
    if (current?.has(policyName)) return empty();
    if ((current?.size ?? 0) >= MAX_POLICIES_PER_TARGET) {
      throw new IotError(
        "LimitExceededException",
        410,
        `The number of attached policies to the target cannot exceed ${MAX_POLICIES_PER_TARGET}.`,
      );
    }
    journal.commit({ op: "attach", policyName, target });
    return empty();
  }

  function detachPolicy(policyName: string, body: Record<string, unknown>): ServiceResponse {
    const target = requireTarget(body);
    requirePolicy(policyName);
    if (attachments.get(target)?.has(policyName))
      journal.commit({ op: "detach", policyName, target });
    return empty();
  }

  function describeEndpoint(query: URLSearchParams): ServiceResponse {
    const type = (query.get("endpointType") ?? "iot:Data") as EndpointType;
    if (!ENDPOINT_TYPES.includes(type)) throw invalid(`Endpoint type ${type} is not valid.`);
    if (dataEndpoint !== undefined && DATA_ENDPOINT_TYPES.includes(type)) {
      return json(200, { endpointAddress: dataEndpoint });
    }
    const configured = options.endpointAddress;
    const address =
      typeof configured === "string" ? configured : (configured?.[type] ?? "localhost");
    return json(200, { endpointAddress: address });
  }

  // ---- routing ----
  type Handler = (
    params: string[],
    query: URLSearchParams,
    body: Record<string, unknown>,
  ) => ServiceResponse;
  const routes: Array<[string, RegExp, Handler]> = [
    [
      "GET",
      /^\/policies$/,
      (_p, q) =>
        listed(
          q,
          [...policies.values()].map(summary),
          "policies",
          q.get("isAscendingOrder") !== "false",
        ),
    ],
    ["POST", /^\/policies\/([^/]+)$/, ([name], _q, body) => createPolicy(name!, body)],
    ["GET", /^\/policies\/([^/]+)$/, ([name]) => getPolicy(name!)],
    ["DELETE", /^\/policies\/([^/]+)$/, ([name]) => deletePolicy(name!)],
    ["PUT", /^\/target-policies\/([^/]+)$/, ([name], _q, body) => attachPolicy(name!, body)],
    ["POST", /^\/target-policies\/([^/]+)$/, ([name], _q, body) => detachPolicy(name!, body)],
    [
      "POST",
      /^\/attached-policies\/(.+)$/,
      ([target], q) => {
        const names = [...(attachments.get(target!) ?? [])];
        return listed(
          q,
          names.map((n) => summary(policies.get(n)!)),
          "policies",
          true,
          false,
        );
      },
    ],
    [
      "POST",
      /^\/policy-targets\/([^/]+)$/,
      ([name], q) => {
        requirePolicy(name!);
        return listed(q, targetsOf(name!), "targets", true, false);
      },
    ],
    ["GET", /^\/endpoint$/, (_p, q) => describeEndpoint(q)],
  ];

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    try {
      for (const [method, pattern, handler] of routes) {
        if (method !== request.method.toUpperCase()) continue;
        const match = pattern.exec(request.path);
        if (!match) continue;
        const params = match.slice(1).map(decodeSegment);
        const response = handler(params, request.query, parseBody(request.body));
        response.headers = { ...response.headers, "x-amzn-requestid": request.requestId };
        return response;
      }
      throw new IotError(
        "UnknownOperationException",
        404,
        `No local IoT operation for ${request.method} ${request.path}`,
      );
    } catch (err) {
      if (err instanceof IotError) {
        return {
          status: err.status,
          headers: {
            "content-type": "application/json",
            "x-amzn-errortype": err.type,
            "x-amzn-requestid": request.requestId,
          },
          body: JSON.stringify({ message: err.message, ...err.extra }),
        };
      }
      return {
        status: 500,
        headers: {
          "content-type": "application/json",
          "x-amzn-errortype": "InternalFailureException",
        },
        body: JSON.stringify({ message: err instanceof Error ? err.message : String(err) }),
      };
    }
  }

  return {
    name: "iot",
    handle,
    attachedPolicies(target) {
      return [...(attachments.get(target) ?? [])].map((name) => ({ ...policies.get(name)! }));
    },
    setDataEndpoint(host) {
      dataEndpoint = host;
    },
    putPolicy(policyName, policyDocument) {
      validatePolicyName(policyName);
      validatePolicyDocument(policyDocument);
      const existing = policies.get(policyName);
      if (existing?.policyDocument === policyDocument) return { ...existing };
      const policy: IotPolicy = {
        policyName,
        policyArn: `arn:aws:iot:${options.region}:${accountId}:policy/${policyName}`,
        policyDocument,
        createdAt: existing?.createdAt ?? now(),
        generationId: randomBytes(32).toString("hex"),
      };
      journal.commit({ op: "createPolicy", policy });
      return { ...policy };
    },
    async reset() {
      policies.clear();
      attachments.clear();
      journal.reset();
    },
    async close() {
      journal.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

function summary(p: IotPolicy): { policyName: string; policyArn: string } {
  return { policyName: p.policyName, policyArn: p.policyArn };
}

/**
 * Marker-paginated list. `sort` orders by name (ListPolicies); attachment lists keep their order.
 */
function listed<T>(
  query: URLSearchParams,
  items: T[],
  field: string,
  ascending: boolean,
  sort = true,
): ServiceResponse {
  const pageSize = query.has("pageSize") ? Number(query.get("pageSize")) : DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalid(`pageSize must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  let ordered = items;
  if (sort) {
    const key = (item: T) => (item as { policyName?: string }).policyName ?? String(item);
    ordered = [...items].sort((a, b) => key(a).localeCompare(key(b)));
    if (!ascending) ordered.reverse();
  }
  const marker = query.get("marker");
  const start = marker ? Number(Buffer.from(marker, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid("Invalid marker");
  const page = ordered.slice(start, start + pageSize);
  const end = start + page.length;
  const body: Record<string, unknown> = { [field]: page };
  if (end < ordered.length) body.nextMarker = Buffer.from(String(end)).toString("base64url");
  return json(200, body);
}

function validatePolicyName(name: string): void {
  if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
    throw invalid(
      `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint`,
    );
  }
}

/** IoT accepts only JSON documents with Statements of Effect/Action/Resource, 2048 chars sans whitespace. */
function validatePolicyDocument(document: string): void {
  const malformed = (why: string) =>
    new IotError("MalformedPolicyException", 400, `Policy document is malformed: ${why}`);
  if (document.replace(/\s/g, "").length > MAX_POLICY_CHARS) {
    throw malformed(`the document exceeds ${MAX_POLICY_CHARS} characters (excluding whitespace)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    throw malformed("not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw malformed("not a JSON object");
  const statements = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements)
    ? statements
    : statements !== undefined
      ? [statements]
      : [];
  if (list.length === 0) throw malformed("missing Statement");
  for (const s of list as Array<Record<string, unknown>>) {
    if (typeof s !== "object" || s === null) throw malformed("Statement must be an object");
    if (s.Effect !== "Allow" && s.Effect !== "Deny")
      throw malformed("Effect must be Allow or Deny");
    if (s.Action === undefined) throw malformed("missing Action");
    if (s.Resource === undefined) throw malformed("missing Resource");
  }
}

/** Cognito identity ids (`us-east-1:<uuid>`) or principal ARNs (certificates, thing groups). */
const TARGET =
  /^(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:[0-9a-f-]{36}|arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:[\w/:.-]+)$/;

function requireTarget(body: Record<string, unknown>): string {
  const target = body.target;
  if (typeof target !== "string" || target === "") throw invalid("target is required");
  if (target.length > 2048 || !TARGET.test(target)) {
    throw invalid(`Invalid target: ${target.slice(0, 100)}`);
  }
  return target;
}
function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? "");
  } catch {
    throw invalid("Invalid percent-encoding in path");
  }
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    throw invalid("Request body is not valid JSON");
  }
}

function json(status: number, body: unknown): ServiceResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function empty(): ServiceResponse {
  return { status: 200, headers: { "content-type": "application/json" }, body: "" };
}
