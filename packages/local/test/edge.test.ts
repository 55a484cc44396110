import { connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createControlHandler } from "../src/edge/control";
import { NonLoopbackHostError } from "../src/edge/errors";
import { type Edge, startEdge } from "../src/edge/index";
import { startLocalAws } from "../src/index";
import type { LocalService, ServiceName, ServiceRequest, ServiceResponse } from "../src/types";

/** A stand-in service that records what the edge hands it. */
class RecordingService implements LocalService {
  readonly seen: ServiceRequest[] = [];
  resets = 0;
  constructor(
    readonly name: ServiceName,
    private readonly reply: (request: ServiceRequest) => ServiceResponse = () => ({
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: "{}",
    }),
  ) {}
  async handle(request: ServiceRequest) {
    this.seen.push(request);
    return this.reply(request);
  }
  async reset() {
    this.resets++;
  }
  async close() {}
  async control(path: string, query: URLSearchParams): Promise<ServiceResponse> {
    return { status: 200, body: JSON.stringify({ path, q: query.get("q") }) };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("edge", () => {
  const services = new Map<ServiceName, LocalService>();
  const cognito = new RecordingService("cognito-idp");
  const failing = new RecordingService("iot", () => {
    throw new Error("boom");
  });
  const failures: unknown[] = [];
  let edge: Edge;

  beforeAll(async () => {
    services.set("cognito-idp", cognito);
    services.set("iot", failing);
    edge = await startEdge({
      host: "127.0.0.1",
      port: 0,
      region: "us-east-1",
      services,
      control: createControlHandler({
        services,
        region: "us-east-1",
        dataDir: undefined,
        reset: async () => {
          await Promise.all([...services.values()].map((service) => service.reset()));
        },
        health: () => ({}),
      }),
      onError: (error) => failures.push(error),
      maxBodyBytes: 64 * 1024,
    });
  });
  afterAll(async () => {
    await edge.close();
  });

  it("hands a routed request to its service with an AWS-shaped request id and the access key", async () => {
    // Prepare
    const pool = crypto.randomUUID();

    // Act
    const response = await fetch(edge.endpoint, {
      method: "POST",
      headers: {
        "x-amz-target": "AWSCognitoIdentityProviderService.AdminGetUser",
        "content-type": "application/x-amz-json-1.1",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIAEDGE/20250101/eu-central-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify({ UserPoolId: pool }),
    });

    // Assess
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-amzn-requestid");
    expect(requestId).toMatch(UUID);
    const seen = cognito.seen.find((request) => request.body.toString().includes(pool));
    expect(seen).toMatchObject({ requestId, accessKeyId: "AKIAEDGE", region: "eu-central-1" });
    // No browser, no CORS grant; answers still vary by origin for caches.
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("vary")).toBe("Origin");
  });

  it("answers a CORS preflight of a loopback page allowing the requested headers", async () => {
    const response = await fetch(edge.endpoint, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-amz-target,x-amz-user-agent,content-type",
      },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(response.headers.get("vary")).toBe("Origin");
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "x-amz-target,x-amz-user-agent,content-type",
    );
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-expose-headers")).toBe(
      "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date, ETag",
    );
  });

  it("rejects an unroutable JSON request with UnknownOperationException", async () => {
    const response = await fetch(edge.endpoint, {
      method: "POST",
      headers: { "x-amz-target": "AmazonSQS.SendMessage" },
      body: "{}",
    });

    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
  });

  it("answers an unregistered query service with an ErrorResponse document", async () => {
    const response = await fetch(edge.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=Publish&Version=2010-03-31&TopicArn=x",
    });

    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toMatch(
      /^<ErrorResponse><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>.+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    expect(text).toContain(response.headers.get("x-amzn-requestid"));
  });

  it("answers an unregistered JSON service with UnknownOperationException", async () => {
    const response = await fetch(edge.endpoint, {
      method: "POST",
      headers: { "x-amz-target": "Kinesis_20131202.ListStreams" },
      body: "{}",
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
  });

  it("turns a throwing service into an AWS-shaped 500 instead of a dropped connection", async () => {
    const response = await fetch(`${edge.endpoint}/target-policies/p`, {
      method: "PUT",
      headers: {
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: "{}",
    });

    expect(response.status).toBe(500);
    expect(response.headers.get("x-amzn-errortype")).toBe("InternalFailure");
    // The message helps whoever runs the emulator; the stack stays in the log.
    expect(await response.json()).toEqual({ __type: "InternalFailure", message: "boom" });
    expect(failures).toContainEqual(new Error("boom"));
  });

  it("answers an oversized body with an AWS-shaped 413", async () => {
    const response = await fetch(edge.endpoint, {
      method: "POST",
      headers: { "x-amz-target": "AWSCognitoIdentityProviderService.SignUp" },
      body: "x".repeat(64 * 1024 + 1),
    });

    expect(response.status).toBe(413);
    expect(response.headers.get("x-amzn-errortype")).toBe("RequestEntityTooLargeException");
  });

  it("serves HTTP/2 prior-knowledge (h2c) clients on the same port", async () => {
    const session = connect(edge.endpoint);
    try {
      const reply = await new Promise<{ status: number; body: string; id: unknown }>(
        (resolve, reject) => {
          const stream = session.request({
            ":method": "POST",
            ":path": "/",
            "x-amz-target": "AWSCognitoIdentityProviderService.GetUser",
          });
          let status = 0;
          let id: unknown;
          let body = "";
          stream.on("response", (headers) => {
            status = Number(headers[":status"]);
            id = headers["x-amzn-requestid"];
          });
          stream.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          stream.on("end", () => resolve({ status, body, id }));
          stream.on("error", reject);
          stream.end("{}");
        },
      );
      expect(reply).toMatchObject({ status: 200, body: "{}" });
      expect(reply.id).toMatch(UUID);
    } finally {
      session.close();
    }
  });

  describe("control API", () => {
    it("dispatches /_local/<service>/<path> to the service's control()", async () => {
      const response = await fetch(`${edge.endpoint}/_local/cognito-idp/users/list?q=abc`);

      expect(await response.json()).toEqual({ path: "users/list", q: "abc" });
    });

    it("reports health and resets every service", async () => {
      const before = cognito.resets;

      const health = await fetch(`${edge.endpoint}/_local/health`).then((r) => r.json());
      const reset = await fetch(`${edge.endpoint}/_local/reset`, { method: "POST" });

      expect(health).toMatchObject({ status: "ok", services: ["cognito-idp", "iot"] });
      expect(reset.status).toBe(200);
      expect(cognito.resets).toBe(before + 1);
    });

    it("refuses state changes started by a web page", async () => {
      const response = await fetch(`${edge.endpoint}/_local/reset`, {
        method: "POST",
        headers: { origin: "https://evil.example" },
      });

      expect(response.status).toBe(403);
    });

    it("refuses requests addressed to a non-loopback host name (DNS rebinding)", async () => {
      const session = connect(edge.endpoint);
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const stream = session.request({
            ":path": "/_local/health",
            ":authority": "rebound.example:80",
          });
          stream.on("response", (headers) => resolve(Number(headers[":status"])));
          stream.on("error", reject);
          stream.resume();
          stream.end();
        });
        expect(status).toBe(403);
      } finally {
        session.close();
      }
    });

    it("returns 404 for unknown control routes", async () => {
      const response = await fetch(`${edge.endpoint}/_local/nothing-here`);

      expect(response.status).toBe(404);
    });
  });
});

describe("startLocalAws", () => {
  it("refuses to listen on a non-loopback host", async () => {
    await expect(startLocalAws({ port: 0, host: "0.0.0.0" })).rejects.toBeInstanceOf(
      NonLoopbackHostError,
    );
  });
});
