import dgram from "node:dgram";
import { createServer, request } from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { assertLoopbackEndpoint, eventNames, fakeContext, loadEvent } from "../src/index";
import { installNetworkGuard, NetworkAccessError } from "../src/network-guard";

/** The unit tier runs this file: its setup has installed the guard already (test/setup/unit.ts). */
describe("the network guard", () => {
  it("refuses a TCP connection, even to loopback, naming the target and the tier to use", () => {
    expect(() => net.connect({ host: "127.0.0.1", port: 4566 })).toThrow(NetworkAccessError);
    expect(() => net.connect({ host: "127.0.0.1", port: 4566 })).toThrow(
      /a connection to 127\.0\.0\.1:4566 was refused.*integration tier/,
    );
  });

  it("refuses listening, on an ephemeral port or a named one", () => {
    expect(() => createServer().listen(0, "127.0.0.1")).toThrow(/listening on 127\.0\.0\.1:0/);
    expect(() => net.createServer().listen()).toThrow(NetworkAccessError);
  });

  it("refuses an HTTP request before any byte leaves", () => {
    expect(() => request("http://127.0.0.1:4566/").end()).toThrow(NetworkAccessError);
  });

  it("refuses UDP binds and datagrams", () => {
    // Prepare
    const socket = dgram.createSocket("udp4");

    // Act and Assess
    expect(() => socket.bind(0)).toThrow(NetworkAccessError);
    expect(() => socket.send("segment", 2000, "127.0.0.1")).toThrow(NetworkAccessError);
  });

  it("installs once: a second install keeps the same guard", () => {
    // Prepare
    const connect = net.Socket.prototype.connect;

    // Act
    installNetworkGuard();

    // Assess
    expect(net.Socket.prototype.connect).toBe(connect);
  });
});

describe("loadEvent", () => {
  it.each([
    ["cognito", "pre-sign-up-sign-up", "triggerSource", "PreSignUp_SignUp"],
    ["apigw", "http-api-iam-cognito-identity", "version", "2.0"],
  ] as const)("loads %s/%s", (source, name, field, value) => {
    expect(loadEvent(source, name)[field]).toBe(value);
  });

  it("loads SNS and Kinesis batches in the shape Lambda receives them", () => {
    // Act
    const sns = loadEvent<{ Records: Array<{ EventSource: string }> }>("sns", "notification");
    const kinesis = loadEvent<{ Records: Array<{ eventSource: string }> }>("kinesis", "records");

    // Assess
    expect(sns.Records.map((record) => record.EventSource)).toEqual(["aws:sns"]);
    expect(kinesis.Records.map((record) => record.eventSource)).toEqual(["aws:kinesis"]);
  });

  it("hands out a fresh copy each time", () => {
    // Prepare
    const first = loadEvent<{ triggerSource: string }>("cognito", "pre-sign-up-sign-up");

    // Act
    first.triggerSource = "changed";

    // Assess
    expect(loadEvent("cognito", "pre-sign-up-sign-up").triggerSource).toBe("PreSignUp_SignUp");
  });

  it("names the missing file", () => {
    expect(() => loadEvent("sns", "no-such-event")).toThrow(
      /sns event fixture .*no-such-event\.json/,
    );
  });

  it("lists a source's fixtures", () => {
    expect(eventNames("cognito")).toContain("pre-token-generation-v2-authentication");
    expect(eventNames("sns")).toEqual(["notification"]);
  });
});

describe("fakeContext and the loopback check", () => {
  it("counts down from the budget", () => {
    // Act
    const context = fakeContext(5000);

    // Assess
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(5000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(4000);
    expect(context.answeredInTime()).toBe(true);
  });

  it("accepts loopback endpoints and refuses any other", () => {
    expect(assertLoopbackEndpoint("http://127.0.0.1:4566")).toBe("http://127.0.0.1:4566");
    expect(assertLoopbackEndpoint("http://[::1]:4566")).toBe("http://[::1]:4566");
    expect(() => assertLoopbackEndpoint("https://dynamodb.us-east-1.amazonaws.com")).toThrow(
      /non-loopback/,
    );
  });
});
