/**
 * The path of the `execute-api` resource ARN the local IAM authorizer evaluates: built from the raw
 * request path, so only the request's own slashes separate segments.
 */
import { describe, expect, it } from "vitest";
import { executeApiPath } from "../../src/services/apigateway/iam-authorizer";

describe("executeApiPath", () => {
  it.each([
    ["/identity/preferences", "identity/preferences"],
    ["/", ""],
    // An encoded slash never becomes a separator, whatever its case.
    [
      "/admin/users/x%2FGET%2Fidentity%2Fpreferences",
      "admin/users/x%2FGET%2Fidentity%2Fpreferences",
    ],
    [
      "/admin/users/x%2fGET%2fidentity%2fpreferences",
      "admin/users/x%2FGET%2Fidentity%2Fpreferences",
    ],
    // Other escapes name the same resource as their characters (Allow and Deny alike).
    ["/identity/pr%65ferences", "identity/preferences"],
    ["/items/a%20b", "items/a b"],
    // Double encoding decodes once: the text `%2F`, still no separator.
    ["/admin/users/x%252FGET", "admin/users/x%2FGET"],
    // Not valid percent-encoding: kept as sent.
    ["/items/%E0%A4%A", "items/%E0%A4%A"],
  ])("%s → %s", (raw, path) => {
    expect(executeApiPath(raw)).toBe(path);
  });
});
