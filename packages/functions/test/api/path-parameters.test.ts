/**
 * Every route with a path parameter validates it strictly in its handler, before any work: the
 * IAM authorizer decides on the raw path, and the handler is the second line when a caller IAM
 * does let through sends something odd (an encoded slash, a traversal, an empty or oversized id).
 * The route table is read from stacks/Api.ts, so a new parameterised route without a case here
 * fails this test.
 */
import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createAdminGetUserHandler } from "../../src/api/admin-get-user";
import { createAdminDeleteUserHandler } from "../../src/api/delete-user";
import { bodyOf, type HttpResult, iamEvent, newIdentityId, newSub } from "./harness";

/** Dependencies that fail the test if the handler touches any of them. */
function untouchable<T extends object>(): T {
  return new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`The handler used ${String(property)} before validating its path`);
    },
  });
}

type Route = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => Promise<unknown>;

const HANDLERS: Record<string, Route> = {
  "GET /admin/users/{sub}": createAdminGetUserHandler(untouchable()),
  "DELETE /admin/users/{sub}": createAdminDeleteUserHandler(untouchable()),
};

const MALFORMED = [
  "x/GET/identity/preferences",
  "../identity/preferences",
  "",
  " ",
  `${newSub()}/extra`,
  `${newSub()}\u0000`,
  "not-a-uuid",
  "a".repeat(10_000),
];

function parameterisedRoutes(): string[] {
  const source = readFileSync(new URL("../../../../stacks/Api.ts", import.meta.url), "utf8");
  return [...source.matchAll(/"((?:GET|PUT|POST|PATCH|DELETE) \/[^"]*\{[^"]*)"/g)].map(
    (match) => match[1]!,
  );
}

describe("path parameters", () => {
  it("has a case for every parameterised route of the API", () => {
    expect(Object.keys(HANDLERS).sort()).toEqual(parameterisedRoutes().sort());
  });

  describe.each(Object.entries(HANDLERS))("%s", (routeKey, handler) => {
    const [method, template] = routeKey.split(" ") as [string, string];

    it.each(MALFORMED)("answers 400 MalformedPath to %j without any work", async (sub) => {
      const event = iamEvent({ identityId: newIdentityId(), sub: newSub() }, "us-east-1:pool", {
        method,
        path: template.replace("{sub}", encodeURIComponent(sub)),
        pathParameters: { sub },
      });

      const result = (await handler(event)) as HttpResult;

      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ error: "MalformedPath" });
    });
  });
});
