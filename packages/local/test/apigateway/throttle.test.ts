/**
 * Stage and route throttling of the local HTTP API, as API Gateway documents it ("Throttling
 * requests to your HTTP API"): a token bucket per route, `ThrottlingBurstLimit` deep and refilled
 * at `ThrottlingRateLimit` per second, from the stage's `RouteSettings` or else its
 * `DefaultRouteSettings`; an empty bucket is 429 `{"message":"Too Many Requests"}` before the
 * authorizer or the function. The API's clock is injected, so no test waits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type HttpApi,
  httpApisFromTemplate,
  startHttpApi,
} from "../../src/services/apigateway/index";
import { createStsService } from "../../src/services/sts/index";
import { ACCOUNT, InProcessInvoker, REGION, TestIamDirectory } from "./fixtures";

const invoker = new InProcessInvoker();
let nowMs = Date.parse("2026-12-07T12:00:00Z");
let api: HttpApi;
let invocations = 0;

const route = (routeKey: string, authorizationType: "NONE" | "AWS_IAM" = "NONE") => ({
  routeKey,
  functionArn: invoker.register(`fn-${routeKey.replace(/\W+/g, "-")}`, () => {
    invocations += 1;
    return { statusCode: 200, body: "ok" };
  }),
  payloadFormatVersion: "2.0" as const,
  authorizationType,
});

beforeAll(async () => {
  api = await startHttpApi({
    region: REGION,
    accountId: ACCOUNT,
    apiId: "throttle01",
    routes: [route("POST /proof"), route("GET /data"), route("GET /signed", "AWS_IAM")],
    throttling: {
      default: { rateLimit: 100, burstLimit: 3 },
      routes: { "POST /proof": { rateLimit: 1, burstLimit: 2 } },
    },
    invoker,
    sts: createStsService({ region: REGION }),
    iam: new TestIamDirectory(),
    now: () => nowMs,
    log: () => {},
  });
});

afterAll(async () => {
  await api?.close();
});

const statuses = async (method: string, path: string, count: number) => {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${api.url}${path}`, { method });
    out.push(response.status);
    if (response.status === 429) {
      expect(await response.json()).toEqual({ message: "Too Many Requests" });
    } else {
      await response.body?.cancel();
    }
  }
  return out;
};

describe("HTTP API throttling", () => {
  it("refuses a route past its burst with 429, before the function runs, and refills at its rate", async () => {
    // Act: a burst of four, then one second later (one token back), two more.
    const before = invocations;
    const burst = await statuses("POST", "/proof", 4);
    nowMs += 1000;
    const afterASecond = await statuses("POST", "/proof", 2);

    // Assess
    expect(burst).toEqual([200, 200, 429, 429]);
    expect(afterASecond).toEqual([200, 429]);
    expect(invocations - before).toBe(3);
  });

  it("gives every other route its own bucket from the stage default", async () => {
    nowMs += 60_000;
    expect(await statuses("GET", "/data", 4)).toEqual([200, 200, 200, 429]);
    // The throttled route did not spend this one's tokens, nor the other way round.
    expect(await statuses("POST", "/proof", 1)).toEqual([200]);
  });

  it("throttles before authorization: an unsigned request past the limit is 429, not 403", async () => {
    nowMs += 60_000;
    expect(await statuses("GET", "/signed", 4)).toEqual([403, 403, 403, 429]);
  });
});

describe("throttling from the template", () => {
  it("reads the stage's DefaultRouteSettings and RouteSettings", () => {
    // Prepare: the shape CDK writes for an HTTP API's $default stage.
    const resources = {
      Api: { Type: "AWS::ApiGatewayV2::Api", Properties: { Name: "api", ProtocolType: "HTTP" } },
      Stage: {
        Type: "AWS::ApiGatewayV2::Stage",
        Properties: {
          ApiId: { Ref: "Api" },
          StageName: "$default",
          DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
          RouteSettings: {
            "POST /identity/guest-proof": { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
            "GET /logged": { DetailedMetricsEnabled: true },
          },
        },
      },
    };

    // Act
    const [parsed] = httpApisFromTemplate(resources, (value) => String(value));

    // Assess
    expect(parsed?.throttling).toEqual({
      default: { rateLimit: 100, burstLimit: 200 },
      routes: { "POST /identity/guest-proof": { rateLimit: 10, burstLimit: 20 } },
    });
  });
});
