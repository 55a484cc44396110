import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { CreateTableInput, TimeToLiveSpecification } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { LocalAwsError } from "../../edge/errors";
import { invokeRequestListener } from "../../edge/in-process";
import { createOriginPolicy, isRefusal } from "../../edge/origin";
import { LoopbackUpstream } from "../../edge/upstream";
import { AwsServiceError, answerServiceErrors } from "../../protocol/errors";
import { JSON_1_0, type JsonErrorDialect, jsonErrorResponse } from "../../protocol/json";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";

/**
 * The errors this module adds to dynalite's, in the shape dynalite answers its own: `__type` as a
 * Coral shape id, the code and message repeated in headers.
 */
const DYNAMODB_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_0,
  headers: ["x-amzn-errortype", "x-amzn-errormessage"],
};
const TARGET_PREFIX = "DynamoDB_20120810.";

/** A table definition as the synthesized stacks describe it: CreateTable input plus its TTL. */
export type LocalTableDefinition = CreateTableInput & {
  TimeToLiveSpecification?: TimeToLiveSpecification;
};

interface DynamoDbOptions {
  /** LevelDB directory; in memory when undefined. */
  dataDir?: string;
  region: string;
  /**
   * How the edge reaches dynalite: `in-process` calls its request listener with the buffered
   * request (no socket hop, the default, see bench/local-aws.ts); `loopback` proxies over HTTP.
   */
  transport?: "in-process" | "loopback";
}

export interface DynamoDbService extends LocalService {
  readonly name: "dynamodb";
  /** dynalite's own loopback endpoint, for benchmarks and tools that bypass the edge. */
  readonly directEndpoint: string;
  /** Creates missing tables and applies their TTL; existing tables are kept as they are. */
  createTables(definitions: readonly LocalTableDefinition[]): Promise<void>;
}

interface TtlSettings {
  [tableName: string]: { AttributeName: string; Enabled: boolean };
}

/**
 * DynamoDB is dynalite in this process. dynalite has no UpdateTimeToLive (and answers
 * DescribeTimeToLive with DISABLED), so the TTL setting is kept here, next to its LevelDB, to let
 * stacks declare TTL attributes; expired items are not deleted (AWS itself takes up to days).
 */
export async function startDynamoDb(options: DynamoDbOptions): Promise<DynamoDbService> {
  const levelDir = options.dataDir ? join(options.dataDir, "leveldb") : undefined;
  const ttlFile = options.dataDir ? join(options.dataDir, "ttl.json") : undefined;
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });

  let ttl: TtlSettings = ttlFile ? await readTtl(ttlFile) : {};
  let engine = await startDynalite(levelDir);
  const transport = options.transport ?? "in-process";

  const send = (request: ServiceRequest): Promise<ServiceResponse> =>
    transport === "in-process"
      ? invokeRequestListener(engine.listener, request)
      : engine.upstream.forward(request);

  const saveTtl = async () => {
    if (!ttlFile) return;
    // Write-then-rename: a kill -9 mid-write leaves the previous file, never a torn one.
    await writeFile(`${ttlFile}.tmp`, JSON.stringify(ttl));
    await rename(`${ttlFile}.tmp`, ttlFile);
  };

  const handleTtl = async (
    operation: "UpdateTimeToLive" | "DescribeTimeToLive",
    request: ServiceRequest,
  ): Promise<ServiceResponse> => {
    let input: {
      TableName?: string;
      TimeToLiveSpecification?: { AttributeName?: string; Enabled?: boolean };
    };
    try {
      input = JSON.parse(request.body.toString("utf8") || "{}");
    } catch {
      throw new AwsServiceError("com.amazon.coral.service#SerializationException", "");
    }
    // Reuse dynalite's own validation and not-found error for the table name.
    const described = await send(
      withTarget(request, "DescribeTable", { TableName: input.TableName }),
    );
    if (described.status !== 200) return described;
    const table = input.TableName as string;

    if (operation === "DescribeTimeToLive") {
      const current = ttl[table];
      const description = current?.Enabled
        ? { TimeToLiveStatus: "ENABLED", AttributeName: current.AttributeName }
        : { TimeToLiveStatus: "DISABLED" };
      return jsonOk({ TimeToLiveDescription: description });
    }
    const spec = input.TimeToLiveSpecification;
    if (!spec?.AttributeName || typeof spec.Enabled !== "boolean") {
      throw validationError("TimeToLiveSpecification needs AttributeName and Enabled");
    }
    if (ttl[table]?.Enabled === spec.Enabled) {
      throw validationError(`TimeToLive is already ${spec.Enabled ? "enabled" : "disabled"}`);
    }
    ttl = { ...ttl, [table]: { AttributeName: spec.AttributeName, Enabled: spec.Enabled } };
    await saveTtl();
    return jsonOk({ TimeToLiveSpecification: spec });
  };

  const service: DynamoDbService = {
    name: "dynamodb",
    get directEndpoint() {
      return engine.endpoint;
    },

    async handle(request) {
      const operation = (request.headers["x-amz-target"] ?? "").slice(TARGET_PREFIX.length);
      if (operation === "UpdateTimeToLive" || operation === "DescribeTimeToLive") {
        // Only the TTL operations are answered here; dynalite renders its own errors.
        return answerServiceErrors(
          { render: (error) => jsonErrorResponse(error, DYNAMODB_ERRORS) },
          () => handleTtl(operation, request),
        );
      }
      const response = await send(request);
      if (operation === "DeleteTable" && response.status === 200) {
        const { TableName } = JSON.parse(request.body.toString("utf8")) as { TableName: string };
        if (ttl[TableName]) {
          const { [TableName]: _dropped, ...rest } = ttl;
          ttl = rest;
          await saveTtl();
        }
      }
      return response;
    },

    async createTables(definitions) {
      for (const { TimeToLiveSpecification: spec, ...definition } of definitions) {
        const tableName = definition.TableName as string;
        const described = await service.handle(
          internalRequest("DescribeTable", { TableName: tableName }, options.region),
        );
        if (described.status !== 200) {
          await expectOk(
            service.handle(internalRequest("CreateTable", definition, options.region)),
            `CreateTable ${tableName}`,
          );
          await waitUntilActive(service, tableName, options.region);
        }
        if (spec?.Enabled && ttl[tableName]?.Enabled !== true) {
          await expectOk(
            service.handle(
              internalRequest(
                "UpdateTimeToLive",
                { TableName: tableName, TimeToLiveSpecification: spec },
                options.region,
              ),
            ),
            `UpdateTimeToLive ${tableName}`,
          );
        }
      }
    },

    async reset() {
      // A fresh store is the only complete wipe dynalite offers (it has no "delete everything").
      await engine.close();
      if (levelDir) await rm(levelDir, { recursive: true, force: true });
      ttl = {};
      await saveTtl();
      engine = await startDynalite(levelDir);
    },

    async close() {
      await engine.close();
    },
  };
  return service;
}

interface DynaliteEngine {
  listener: RequestListener;
  upstream: LoopbackUpstream;
  endpoint: string;
  close(): Promise<void>;
}

async function startDynalite(path: string | undefined): Promise<DynaliteEngine> {
  // Tables become ACTIVE immediately: nothing local benefits from waiting 500 ms.
  const server: Server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  // It listens even when called in-process: its close() only releases LevelDB after the HTTP
  // server closes, and the benchmark compares against this direct port.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const listener = server.listeners("request")[0] as RequestListener;
  // dynalite answers any web page with `Access-Control-Allow-Origin: *`: its own port admits only
  // what the edge would (the edge calls `listener` directly, or strips browser headers).
  const origins = createOriginPolicy();
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const verdict = origins.check(request.headers);
    if (!isRefusal(verdict)) return listener(request, response);
    request.resume();
    const refused = jsonErrorResponse(
      new AwsServiceError("AccessDeniedException", verdict.message, { status: 403 }),
      DYNAMODB_ERRORS,
    );
    response.writeHead(refused.status, refused.headers);
    response.end(refused.body);
  });
  const upstream = new LoopbackUpstream({ host: "127.0.0.1", port });
  return {
    listener,
    upstream,
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      upstream.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error?: Error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

async function readTtl(file: string): Promise<TtlSettings> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as TtlSettings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
}

function jsonOk(body: unknown): ServiceResponse {
  return { status: 200, headers: { "content-type": JSON_1_0 }, body: JSON.stringify(body) };
}

function validationError(message: string): AwsServiceError {
  return new AwsServiceError("com.amazon.coral.validate#ValidationException", message);
}

function withTarget(request: ServiceRequest, operation: string, input: unknown): ServiceRequest {
  return {
    ...request,
    headers: { ...request.headers, "x-amz-target": `${TARGET_PREFIX}${operation}` },
    body: Buffer.from(JSON.stringify(input)),
  };
}

/** dynalite insists on the shape of a SigV4 header (it never checks the signature). */
function internalRequest(operation: string, input: unknown, region: string): ServiceRequest {
  return {
    method: "POST",
    path: "/",
    query: new URLSearchParams(),
    headers: {
      "content-type": JSON_1_0,
      "x-amz-target": `${TARGET_PREFIX}${operation}`,
      "x-amz-date": "20250101T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=local/20250101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: Buffer.from(JSON.stringify(input)),
    requestId: "local-admin",
    region,
  };
}

/** Raised when `createTables` cannot bring a table into the declared shape. */
class TableSetupError extends LocalAwsError {
  constructor(message: string) {
    super("TableSetupFailed", message);
  }
}

async function expectOk(pending: Promise<ServiceResponse>, what: string): Promise<void> {
  const response = await pending;
  if (response.status !== 200) {
    throw new TableSetupError(`${what} failed: ${String(response.body)}`);
  }
}

/** With createTableMs 0 dynalite flips CREATING to ACTIVE on the next timer tick. */
async function waitUntilActive(service: LocalService, table: string, region: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await service.handle(
      internalRequest("DescribeTable", { TableName: table }, region),
    );
    const status = (JSON.parse(String(response.body)) as { Table?: { TableStatus?: string } }).Table
      ?.TableStatus;
    if (status === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new TableSetupError(`Table ${table} did not become ACTIVE`);
}
