import net from "node:net";
import { FunctionConfigurationError } from "@boarding-pass/contracts/env";
import {
  createDynamoDbDocumentClient,
  primeDocumentClient,
} from "@boarding-pass/core/adapters/dynamodb";
import { GuestProofLimitError, UserNotFoundError } from "@boarding-pass/core/errors";
import { fakeContext } from "@boarding-pass/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HttpError, json } from "../../src/kit/http";
import { inLambda, primeAtInit, route } from "../../src/kit/route";
import { logger, metrics } from "../../src/observability";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.resetModules();
});

const event = { routeKey: "GET /identity/preferences", body: "secret body" };
const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? "{}");

describe("route(): the HTTP route lifecycle", () => {
  it("scopes the log keys to the request (id and route key, never the body) and flushes metrics", async () => {
    const append = vi.spyOn(logger, "appendKeys");
    const flush = vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics);
    const context = fakeContext();
    const handler = route(async () => {
      metrics.addMetric("Served", "Count", 1);
      return json(200, { ok: true });
    });
    const result = await handler(event, context);
    expect(result).toEqual({
      statusCode: 200,
      headers: { "content-type": "application/json" },
      body: '{"ok":true}',
    });
    expect(append).toHaveBeenCalledWith({
      requestId: context.awsRequestId,
      routeKey: "GET /identity/preferences",
    });
    expect(flush).toHaveBeenCalledOnce();
  });

  it.each([
    [
      new HttpError(400, "MalformedBody", "The body must be a JSON document."),
      400,
      "MalformedBody",
    ],
    [new UserNotFoundError("no such user"), 404, "NotFound"],
    [new GuestProofLimitError(30), 429, "GuestProofLimit"],
    [new TypeError("x is undefined"), 500, "InternalError"],
  ])(
    "maps %s to its status and JSON body, flushing metrics all the same",
    async (error, status, code) => {
      vi.spyOn(logger, "error").mockImplementation(() => {});
      const flush = vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics);
      metrics.addMetric("Attempted", "Count", 1);
      const result = await route(async () => {
        throw error;
      })(event, fakeContext());
      expect(result.statusCode).toBe(status);
      expect(bodyOf(result)).toMatchObject({ error: code });
      expect(flush).toHaveBeenCalledOnce();
    },
  );

  it("never answers a 500 with the error's own words", async () => {
    vi.spyOn(logger, "error").mockImplementation(() => {});
    const result = await route(async () => {
      throw new Error("DynamoDB said: item for jane@example.com");
    })(event);
    expect(result.body).not.toContain("jane");
    expect(bodyOf(result)).toEqual({
      error: "InternalError",
      message: "Something went wrong; try again.",
    });
  });
});

describe("routes are built at cold start", () => {
  it("a missing variable fails the module's init, naming it, before any request", async () => {
    vi.stubEnv("TABLE_NAME", "");
    const init = import("../../src/api/get-profile");
    // Compared by name: resetModules gives each import its own copy of the contracts' class.
    await expect(init).rejects.toMatchObject({
      name: FunctionConfigurationError.name,
      fn: "getProfile",
      variables: ["TABLE_NAME"],
    });
    await expect(init).rejects.toThrow(/TABLE_NAME: is required/);
  });

  it.each([
    ["../../src/api/preferences", "IDENTITY_POOL_ID"],
    ["../../src/api/ensure-iot", "IOT_POLICY_NAME"],
    ["../../src/api/admin-get-user", "ADMIN_ROLE_ARN"],
    ["../../src/api/delete-me", "USER_POOL_ID"],
    ["../../src/api/link-identity", "EVENTS_TOPIC_ARN"],
  ])("%s refuses to initialise without %s", async (entry, variable) => {
    vi.stubEnv("STAGE", "test");
    vi.stubEnv("TABLE_NAME", "identity");
    await expect(import(entry)).rejects.toThrow(new RegExp(`${variable}: `));
  });

  it("a configured module has its handler ready at import, with no request made", async () => {
    vi.stubEnv("TABLE_NAME", "identity");
    const { handler } = await import("../../src/api/get-profile");
    expect(handler).toBeTypeOf("function");
    const result = await handler({ requestContext: {} } as never);
    expect(result.statusCode).toBe(401);
  });
});

describe("priming at init", () => {
  it("runs only in a Lambda execution environment", async () => {
    expect(inLambda({})).toBe(false);
    expect(inLambda({ AWS_LAMBDA_FUNCTION_NAME: "fn" })).toBe(true);
    const primer = vi.fn(async () => {});
    vi.stubEnv("AWS_LAMBDA_FUNCTION_NAME", "");
    await primeAtInit(primer);
    expect(primer).not.toHaveBeenCalled();
    vi.stubEnv("AWS_LAMBDA_FUNCTION_NAME", "fn");
    await primeAtInit(primer);
    expect(primer).toHaveBeenCalledOnce();
  });

  it("signs a DynamoDB request and resolves credentials without opening a socket", async () => {
    // Every connection attempt goes through net.Socket#connect (the unit tier's guard refuses it
    // too); count them instead of listening, which a unit test may not.
    const connect = net.Socket.prototype.connect;
    let attempts = 0;
    net.Socket.prototype.connect = function countedConnect(this: net.Socket, ...args: unknown[]) {
      attempts++;
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof connect;
    try {
      const client = createDynamoDbDocumentClient({
        region: "us-east-1",
        endpoint: "http://127.0.0.1:9",
      });
      const credentials = vi.fn(async () => ({ accessKeyId: "local", secretAccessKey: "local" }));
      (client.config as { credentials: unknown }).credentials = credentials;
      await expect(primeDocumentClient(client)).resolves.toBeUndefined();
      expect(credentials).toHaveBeenCalled();
      expect(attempts).toBe(0);
    } finally {
      net.Socket.prototype.connect = connect;
    }
  });

  it("never fails: a client whose credentials cannot be resolved primes to nothing", async () => {
    const client = createDynamoDbDocumentClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
    });
    (client.config as { credentials: unknown }).credentials = async () => {
      throw new Error("no credentials");
    };
    await expect(primeDocumentClient(client)).resolves.toBeUndefined();
  });
});
