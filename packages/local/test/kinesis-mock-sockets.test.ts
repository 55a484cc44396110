/**
 * kinesis-mock answers any web page with `Access-Control-Allow-Origin: *` and has no host
 * setting, so it gets no TCP port at all: its worker binds Unix sockets in a private directory,
 * which a page in a browser cannot reach, and the edge forwards to them.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { expect, it } from "vitest";
import { startMockWithRetry } from "../src/edge/kinesis-mock";

it("serves kinesis-mock on a Unix socket in a directory only this user can enter", async () => {
  const mock = await startMockWithRetry("us-east-1", undefined);
  try {
    const address = mock.upstream.address;
    expect(address).toHaveProperty("socketPath");
    const socketPath = (address as { socketPath: string }).socketPath;
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(statSync(dirname(socketPath)).mode & 0o077).toBe(0);

    const response = await mock.upstream.forward({
      method: "POST",
      path: "/",
      query: new URLSearchParams(),
      headers: {
        origin: "https://evil.example",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "Kinesis_20131202.ListStreams",
        "x-amz-date": "20250101T000000Z",
        authorization:
          "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: Buffer.from("{}"),
      requestId: "test",
      region: "us-east-1",
    });

    expect(response.status).toBe(200);
    // The browser's headers stay at the edge: the emulator's own CORS grant never comes back.
    expect(response.headers?.["access-control-allow-origin"]).toBeUndefined();
  } finally {
    await mock.stop();
  }
  expect(() =>
    statSync(dirname((mock.upstream.address as { socketPath: string }).socketPath)),
  ).toThrow();
});
