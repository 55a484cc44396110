/**
 * Every route with a path parameter validates it strictly in its handler, before any work: the
 * IAM authorizer decides on the raw path, and the handler is the second line when a caller IAM
 * does let through sends something odd (an encoded slash, a traversal, an empty or oversized id).
 * The route table is read from packages/contracts/src/routes.ts (stacks/Api.ts defines the API
 * from it), so a new parameterised route without a case here fails this test.
 */
import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createAdminGetUserHandler } from "../../src/api/handlers/admin-get-user";
import { createAdminDeleteUserHandler } from "../../src/api/handlers/delete-user";
import {
  ADMIN_ROLE_ARN,
  bodyOf,
  type HttpResult,
  iamEvent,
  newIdentityId,
  newSub,
  signedWithRole,
} from "./harness";

/**
 * Dependencies that fail the test if the handler touches any of them but the configuration it
 * checks the caller against (the admin role), which comes before the path.
 */
function untouchable<T extends object>(): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === "adminRoleArn") return ADMIN_ROLE_ARN;
      throw new Error(`The handler used ${String(property)} before validating its path`);
    },
  });
}

type Route = (event: APIGatewayProxyEventV2WithIAMAuthorizer) => Promise<unknown>;

const HANDLERS: Record<string, Route> = {
  "GET /admin/users/{sub}": createAdminGetUserHandler(untouchable()),
  "DELETE /admin/users/{sub}": createAdminDeleteUserHandler(untouchable()),
};

const MALFORMED: Array<[name: string, sub: string]> = [
  ["an encoded slash", "x/GET/identity/preferences"],
  ["a traversal", "../identity/preferences"],
  ["an empty id", ""],
  ["a blank id", " "],
  ["a trailing segment", `${newSub()}/extra`],
  ["a NUL byte", `${newSub()}\u0000`],
  ["not a UUID", "not-a-uuid"],
  ["10,000 characters", "a".repeat(10_000)],
];

function parameterisedRoutes(): string[] {
  const source = readFileSync(new URL("../../../contracts/src/routes.ts", import.meta.url), "utf8");
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

    it.each(MALFORMED)("answers 400 MalformedPath to %s without any work", async (_, sub) => {
      // The admin role's session: the path is what is wrong, not the caller.
      const event = signedWithRole(
        iamEvent({ identityId: newIdentityId(), sub: newSub() }, "us-east-1:pool", {
          method,
          path: template.replace("{sub}", encodeURIComponent(sub)),
          pathParameters: { sub },
        }),
        ADMIN_ROLE_ARN,
      );

      const result = (await handler(event)) as HttpResult;

      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ error: "MalformedPath" });
    });
  });
});
