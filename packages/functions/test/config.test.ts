import { describe, expect, it } from "vitest";
import { preTokenGenerationConfig } from "../src/config";

const ENV = {
  STAGE: "test",
  TABLE_NAME: "identity",
  ROLE_CATALOG: JSON.stringify({
    defaultRole: "member",
    roles: { member: { iamRoleArn: "arn:aws:iam::000000000000:role/member", precedence: 10 } },
  }),
};

describe("pre token generation configuration", () => {
  it("folds mailbox aliases unless FOLD_MAILBOX_ALIASES says false, as the sign-up policy does", () => {
    expect(preTokenGenerationConfig(ENV).foldMailboxAliases).toBe(true);
    expect(
      preTokenGenerationConfig({ ...ENV, FOLD_MAILBOX_ALIASES: "false" }).foldMailboxAliases,
    ).toBe(false);
  });

  it("fails fast, naming the variable, on a value that is not true or false", () => {
    expect(() => preTokenGenerationConfig({ ...ENV, FOLD_MAILBOX_ALIASES: "yes" })).toThrow(
      /FOLD_MAILBOX_ALIASES/,
    );
  });
});
