/** The rule that matches Logins keys and issuers to a pool's configured user-pool providers. */
import { describe, expect, it } from "vitest";
import {
  configuredProviderFor,
  namesProvider,
  userPoolIdOf,
} from "../../src/services/cognito-identity/provider-names";

const AWS_NAME = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E";

describe("namesProvider", () => {
  it.each([
    ["the AWS-shaped name itself", AWS_NAME],
    ["the AWS issuer with its scheme", `https://${AWS_NAME}`],
    ["the local issuer", "http://127.0.0.1:4566/us-east-1_Ab12Cd34E"],
    ["the local Logins key", "127.0.0.1:4566/us-east-1_Ab12Cd34E"],
    ["localhost with a trailing slash", "http://localhost:9000/us-east-1_Ab12Cd34E/"],
  ])("accepts %s", (_what, value) => {
    expect(namesProvider(value, AWS_NAME)).toBe(true);
  });

  it.each([
    ["another pool id", "127.0.0.1:4566/us-east-1_Zz99Yy88X"],
    ["a pool id that differs only in case", "127.0.0.1:4566/us-east-1_ab12cd34e"],
    ["the pool id without a host", "us-east-1_Ab12Cd34E"],
    ["a path that only contains the pool id", "127.0.0.1:4566/us-east-1_Ab12Cd34E/extra"],
    ["another provider", "accounts.google.com"],
  ])("refuses %s", (_what, value) => {
    expect(namesProvider(value, AWS_NAME)).toBe(false);
  });

  it("compares non-user-pool providers exactly", () => {
    expect(namesProvider("https://accounts.google.com", "accounts.google.com")).toBe(true);
    expect(namesProvider("login.example.com", "accounts.google.com")).toBe(false);
  });
});

describe("userPoolIdOf", () => {
  it("reads an AWS-shaped pool id from the last path segment only", () => {
    expect(userPoolIdOf(AWS_NAME)).toBe("us-east-1_Ab12Cd34E");
    expect(userPoolIdOf("https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_X1")).toBe(
      "eu-west-2_X1",
    );
    expect(userPoolIdOf("127.0.0.1:4566/not-a-pool")).toBeUndefined();
    expect(userPoolIdOf("us-east-1_Ab12Cd34E")).toBeUndefined();
  });
});

describe("configuredProviderFor", () => {
  it("returns the configured name a key stands for", () => {
    const configured = [AWS_NAME, "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1"];
    expect(configuredProviderFor("127.0.0.1:4566/us-east-1_Other1", configured)).toBe(
      configured[1],
    );
    expect(configuredProviderFor("127.0.0.1:4566/us-east-1_Nope1", configured)).toBeUndefined();
  });
});
