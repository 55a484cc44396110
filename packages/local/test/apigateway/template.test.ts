/**
 * Reading routes from a synthesized template (the shapes SST's Api construct emits, as in
 * `.sst/local/templates/Api.json`), and route selection on its own.
 */
import { describe, expect, it } from "vitest";
import {
  httpApisFromTemplate,
  httpRoutesFromTemplate,
  RouteKeyError,
} from "../../src/services/apigateway/index";
import { createRouter } from "../../src/services/apigateway/routes";
import type { HttpRoute } from "../../src/services/apigateway/types";

const integration = (fn: string) => ({
  Type: "AWS::ApiGatewayV2::Integration",
  Properties: {
    ApiId: { Ref: "ApiCD79AAA0" },
    IntegrationType: "AWS_PROXY",
    IntegrationUri: { "Fn::GetAtt": [fn, "Arn"] },
    PayloadFormatVersion: "2.0",
  },
});
const route = (routeKey: string, integrationId: string, extra: Record<string, unknown> = {}) => ({
  Type: "AWS::ApiGatewayV2::Route",
  Properties: {
    ApiId: { Ref: "ApiCD79AAA0" },
    RouteKey: routeKey,
    Target: { "Fn::Join": ["", ["integrations/", { Ref: integrationId }]] },
    ...extra,
  },
});

const resources = {
  ApiCD79AAA0: {
    Type: "AWS::ApiGatewayV2::Api",
    Properties: {
      CorsConfiguration: {
        AllowCredentials: false,
        AllowHeaders: ["*"],
        AllowMethods: ["*"],
        AllowOrigins: ["*"],
      },
      Name: "local-boarding-pass-Api",
      ProtocolType: "HTTP",
    },
  },
  ApiDefaultStage1AAE989B: {
    Type: "AWS::ApiGatewayV2::Stage",
    Properties: { ApiId: { Ref: "ApiCD79AAA0" }, AutoDeploy: true, StageName: "$default" },
  },
  ApiuserPool3129E164: {
    Type: "AWS::ApiGatewayV2::Authorizer",
    Properties: {
      ApiId: { Ref: "ApiCD79AAA0" },
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: {
        Audience: [
          { "Fn::ImportValue": "local-boarding-pass-Auth:ExportsOutputRefAuthUserPoolClient" },
        ],
        Issuer: {
          "Fn::Join": [
            "",
            [
              "https://cognito-idp.us-east-1.amazonaws.com/",
              { "Fn::ImportValue": "local-boarding-pass-Auth:ExportsOutputRefAuthUserPool" },
            ],
          ],
        },
      },
      Name: "userPool",
    },
  },
  IntegrationLink: integration("ApiLambdaPOSTidentitylink8CEAD48B"),
  RouteLink: route("POST /identity/link", "IntegrationLink", { AuthorizationType: "AWS_IAM" }),
  IntegrationAdmin: integration("ApiLambdaGETadminuserssub872E041C"),
  RouteAdmin: route("GET /admin/users/{sub}", "IntegrationAdmin", { AuthorizationType: "AWS_IAM" }),
  IntegrationProfile: integration("ApiLambdaGETprofile46380687"),
  RouteProfile: route("GET /profile", "IntegrationProfile", {
    AuthorizationType: "JWT",
    AuthorizerId: { Ref: "ApiuserPool3129E164" },
    AuthorizationScopes: ["boarding/read"],
  }),
};

/** What the composer's resolver does: local ARNs for functions, the local pool for imports. */
function resolve(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (v["Fn::GetAtt"]) {
    const [id] = v["Fn::GetAtt"] as [string];
    return `arn:aws:lambda:us-east-1:000000000000:function:${id}`;
  }
  if (v["Fn::ImportValue"]) {
    return String(v["Fn::ImportValue"]).endsWith("Client") ? "client123" : "us-east-1_Pool1";
  }
  if (v["Fn::Join"]) {
    const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts
      .map(resolve)
      .join(sep)
      .replace("https://cognito-idp.us-east-1.amazonaws.com", "http://127.0.0.1:4566");
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

describe("httpRoutesFromTemplate", () => {
  it("follows each route to its integration and authorizer", () => {
    expect(httpRoutesFromTemplate(resources, resolve)).toEqual([
      {
        routeKey: "POST /identity/link",
        functionArn:
          "arn:aws:lambda:us-east-1:000000000000:function:ApiLambdaPOSTidentitylink8CEAD48B",
        payloadFormatVersion: "2.0",
        authorizationType: "AWS_IAM",
      },
      {
        routeKey: "GET /admin/users/{sub}",
        functionArn:
          "arn:aws:lambda:us-east-1:000000000000:function:ApiLambdaGETadminuserssub872E041C",
        payloadFormatVersion: "2.0",
        authorizationType: "AWS_IAM",
      },
      {
        routeKey: "GET /profile",
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:ApiLambdaGETprofile46380687",
        payloadFormatVersion: "2.0",
        authorizationType: "JWT",
        jwt: {
          issuer: "http://127.0.0.1:4566/us-east-1_Pool1",
          audience: ["client123"],
          identitySource: "$request.header.Authorization",
        },
        authorizationScopes: ["boarding/read"],
      },
    ]);
  });

  it("reads the API's stage and CORS configuration", () => {
    const [api] = httpApisFromTemplate(resources, resolve);
    expect(api).toMatchObject({
      logicalId: "ApiCD79AAA0",
      name: "local-boarding-pass-Api",
      stageName: "$default",
      cors: {
        allowCredentials: false,
        allowHeaders: ["*"],
        allowMethods: ["*"],
        allowOrigins: ["*"],
      },
    });
    expect(api?.routes).toHaveLength(3);
  });
});

describe("route selection", () => {
  const r = (routeKey: string): HttpRoute => ({
    routeKey,
    functionArn: routeKey,
    payloadFormatVersion: "2.0",
    authorizationType: "NONE",
  });

  it("prefers literal over parameter over greedy, a method over ANY, and $default last", () => {
    const select = createRouter([
      r("$default"),
      r("ANY /{proxy+}"),
      r("GET /pets/{proxy+}"),
      r("GET /pets/dog/{id}"),
      r("GET /pets/dog/1"),
      r("ANY /pets/dog/{id}"),
    ]);
    const key = (method: string, path: string) => select(method, path)?.route.routeKey;
    expect(key("GET", "/pets/dog/1")).toBe("GET /pets/dog/1");
    expect(key("GET", "/pets/dog/2")).toBe("GET /pets/dog/{id}");
    expect(key("POST", "/pets/dog/2")).toBe("ANY /pets/dog/{id}");
    expect(key("GET", "/pets/cat/1")).toBe("GET /pets/{proxy+}");
    expect(key("POST", "/pets/cat/1")).toBe("ANY /{proxy+}");
    expect(key("GET", "/")).toBe("$default");
    expect(select("GET", "/pets/dog/2")?.pathParameters).toEqual({ id: "2" });
  });

  it("matches nothing without $default, and refuses bad route keys", () => {
    const select = createRouter([r("GET /a/{b}")]);
    expect(select("GET", "/a")).toBeUndefined();
    expect(select("GET", "/a/b/c")).toBeUndefined();
    expect(select("POST", "/a/b")).toBeUndefined();
    expect(() => createRouter([r("GET /a/{proxy+}/b")])).toThrow(RouteKeyError);
    expect(() => createRouter([r("FETCH /a")])).toThrow(RouteKeyError);
    expect(() => createRouter([r("GET /a"), r("GET /a")])).toThrow(RouteKeyError);
  });
});
