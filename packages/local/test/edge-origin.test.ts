/**
 * The local cloud's origin policy (edge/origin.ts), table-driven: which hosts and browser origins
 * it admits, what it refuses, and how `--allow-origin` values are read.
 */
import { describe, expect, it } from "vitest";
import {
  createOriginPolicy,
  InvalidAllowedOriginError,
  isRefusal,
  parseAllowedOrigin,
} from "../src/edge/origin";

const policy = createOriginPolicy(["https://dev.example.test:8443"]);
const HOST = "127.0.0.1:4566";

describe("origin policy", () => {
  it.each([
    ["no Origin (SDKs, curl)", {}, undefined],
    ["http://localhost:5173", { origin: "http://localhost:5173" }, "http://localhost:5173"],
    ["http://127.0.0.1:3000", { origin: "http://127.0.0.1:3000" }, "http://127.0.0.1:3000"],
    ["http://[::1]:8080", { origin: "http://[::1]:8080" }, "http://[::1]:8080"],
    ["https://localhost (a TLS dev server)", { origin: "https://localhost" }, "https://localhost"],
    [
      "the --allow-origin one",
      { origin: "https://dev.example.test:8443" },
      "https://dev.example.test:8443",
    ],
    ["a same-origin fetch", { "sec-fetch-site": "same-origin" }, undefined],
    ["a typed URL", { "sec-fetch-site": "none" }, undefined],
    [
      "a cross-site subresource of a loopback page",
      { "sec-fetch-site": "cross-site", referer: "http://localhost:5173/app" },
      undefined,
    ],
  ])("admits %s", (_name, headers, echoed) => {
    const verdict = policy.check({ host: HOST, ...headers });

    expect(isRefusal(verdict)).toBe(false);
    expect(verdict).toEqual({ origin: echoed });
  });

  it.each([
    ["a foreign origin", { origin: "https://evil.example" }],
    ["Origin: null", { origin: "null" }],
    ["the allowed host on another port", { origin: "https://dev.example.test" }],
    ["the allowed host over http", { origin: "http://dev.example.test:8443" }],
    ["a loopback look-alike", { origin: "http://localhost.evil.example" }],
    ["a loopback name under another scheme", { origin: "file://localhost" }],
    ["an origin with a path (not what browsers send)", { origin: "http://localhost:5173/" }],
    ["a cross-site GET without Origin or Referer", { "sec-fetch-site": "cross-site" }],
    [
      "a cross-site GET from a foreign page",
      { "sec-fetch-site": "cross-site", referer: "https://evil.example/page" },
    ],
    ["a same-site GET without Referer", { "sec-fetch-site": "same-site" }],
  ])("refuses %s with a 403", (_name, headers) => {
    const verdict = policy.check({ host: HOST, ...headers });

    expect(verdict).toMatchObject({ status: 403 });
  });

  it.each([
    ["localhost:4566", true],
    ["LOCALHOST", true],
    ["127.0.0.1", true],
    ["127.1.2.3:80", true],
    ["[::1]:4566", true],
    ["rebound.example:4566", false],
    ["localhost.evil.example", false],
    ["127.0.0.1.nip.io", false],
    ["", false],
  ])("Host %j is loopback: %s (DNS rebinding)", (host, admitted) => {
    const verdict = policy.check({ host, origin: "http://localhost:5173" });

    expect(isRefusal(verdict)).toBe(!admitted);
  });

  it("refuses a request without Host", () => {
    expect(policy.check({})).toMatchObject({ status: 403 });
  });
});

describe("--allow-origin", () => {
  it.each([
    ["https://Dev.Example.test", "https://dev.example.test"],
    ["https://dev.example.test:443/", "https://dev.example.test"],
    ["http://dev.example.test:5173", "http://dev.example.test:5173"],
  ])("normalises %s to %s", (value, origin) => {
    expect(parseAllowedOrigin(value)).toBe(origin);
  });

  it.each([
    "*",
    "https://*.example.test",
    "null",
    "dev.example.test",
    "ftp://dev.example.test",
    "https://dev.example.test/app",
    "https://dev.example.test?x=1",
    "https://user@dev.example.test",
  ])("refuses %j with a message naming it", (value) => {
    expect(() => parseAllowedOrigin(value)).toThrow(InvalidAllowedOriginError);
    expect(() => createOriginPolicy([value])).toThrow(JSON.stringify(value));
  });
});
