/**
 * The start-up's dependency order without mutable cycles: the edge holds its port before the
 * services that name its endpoint exist, and a step built early reaches one built later only
 * through an explicit late-bound port that refuses to be used before it is provided.
 */
import { describe, expect, it } from "vitest";
import { bindEdge } from "../src/edge/index";
import { startLocalAws } from "../src/index";
import { lateBound, NotBoundYetError } from "../src/late-bound";

describe("late-bound port", () => {
  it("fails loudly when read before it is provided, and refuses a second provider", async () => {
    const port = lateBound<{ invoke(): string }>("The Lambda runtime");
    expect(() => port.get()).toThrow(NotBoundYetError);
    expect(() => port.get()).toThrow("The Lambda runtime is used before the start-up provided it");
    const runtime = { invoke: () => "ran" };
    port.set(runtime);
    expect(port.get().invoke()).toBe("ran");
    await expect(port.ready).resolves.toBe(runtime);
    expect(() => port.set({ invoke: () => "other" })).toThrow("already provided");
    expect(port.get()).toBe(runtime);
  });
});

describe("edge bound before it serves", () => {
  it("knows its endpoint at bind time and answers a request sent meanwhile once it serves", async () => {
    const edge = await bindEdge({ host: "127.0.0.1", port: 0, region: "us-east-1" });
    try {
      expect(edge.endpoint).toBe(`http://127.0.0.1:${edge.port}`);
      const early = fetch(`${edge.endpoint}/_local/health`);
      // Give the request time to reach the edge: it must wait, not be answered by nothing.
      await new Promise((resolve) => setTimeout(resolve, 50));
      edge.serve({
        services: new Map(),
        control: async (request) => ({ status: 200, body: JSON.stringify({ path: request.path }) }),
      });
      const response = await early;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ path: "/_local/health" });
      expect(() =>
        edge.serve({ services: new Map(), control: async () => ({ status: 500 }) }),
      ).toThrow("already provided");
    } finally {
      await edge.close();
    }
  });

  it("hands the services the endpoint it bound: queue URLs and token issuers name the real port", async () => {
    const aws = await startLocalAws({ port: 0, include: ["sqs", "cognito-idp"], log: () => {} });
    try {
      const created = await fetch(aws.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "AmazonSQS.CreateQueue",
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: JSON.stringify({ QueueName: "bound-first" }),
      });
      expect(await created.json()).toEqual({
        QueueUrl: `${aws.endpoint}/000000000000/bound-first`,
      });
    } finally {
      await aws.stop();
    }
  });

  it("releases the port when a service cannot start", async () => {
    const taken = await bindEdge({ host: "127.0.0.1", port: 0, region: "us-east-1" });
    await taken.close();
    // A plane on that port whose start fails (a bad data directory) must not keep the port.
    await expect(
      startLocalAws({ port: taken.port, dataDir: "/dev/null/not-a-dir", include: ["sqs"] }),
    ).rejects.toThrow();
    const again = await bindEdge({ host: "127.0.0.1", port: taken.port, region: "us-east-1" });
    await again.close();
  });
});
