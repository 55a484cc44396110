import { describe, expect, it } from "vitest";
import { resolveIntrinsic, UnresolvableIntrinsicError } from "../../src/cloud/intrinsics";

describe("resolveIntrinsic", () => {
  const lookup = {
    known: { UserPool: "eu-west-1_Real", "Role.Arn": "arn:aws:iam::111122223333:role/real" },
  };

  it.each([
    { name: "Ref to a known value", value: { Ref: "UserPool" }, expected: "eu-west-1_Real" },
    {
      name: "Ref to a pseudo parameter",
      value: { Ref: "AWS::URLSuffix" },
      expected: "amazonaws.com",
    },
    { name: "Ref to an unknown resource", value: { Ref: "Other" }, expected: "Other" },
    {
      name: "Fn::GetAtt in list form",
      value: { "Fn::GetAtt": ["Role", "Arn"] },
      expected: "arn:aws:iam::111122223333:role/real",
    },
    {
      name: "Fn::GetAtt in dotted form",
      value: { "Fn::GetAtt": "Role.Arn" },
      expected: "arn:aws:iam::111122223333:role/real",
    },
    {
      name: "nested Fn::Join",
      value: { "Fn::Join": [":", [{ "Fn::Join": ["", ["a", { Ref: "UserPool" }]] }, "b"]] },
      expected: "aeu-west-1_Real:b",
    },
    {
      name: "Fn::Sub with references, attributes and pseudo parameters",
      value: { "Fn::Sub": "cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}|${Role.Arn}" },
      expected:
        "cognito-idp.us-east-1.amazonaws.com/eu-west-1_Real|arn:aws:iam::111122223333:role/real",
    },
    {
      name: "Fn::Sub with a variable map and a literal escape",
      value: { "Fn::Sub": ["${Client}:${!Literal}", { Client: { Ref: "UserPool" } }] },
      expected: "eu-west-1_Real:${Literal}",
    },
    {
      name: "plain values inside objects and arrays",
      value: { a: [1, { Ref: "UserPool" }], b: true },
      expected: { a: [1, "eu-west-1_Real"], b: true },
    },
  ])("resolves $name", ({ value, expected }) => {
    // Act
    const resolved = resolveIntrinsic(value, lookup);

    // Assess
    expect(resolved).toEqual(expected);
  });

  it.each([
    { name: "an unsupported function", value: { "Fn::ImportValue": "Shared-Pool" } },
    { name: "a malformed Fn::Join", value: { "Fn::Join": ["", "not-a-list"] } },
    { name: "a malformed Fn::GetAtt", value: { "Fn::GetAtt": ["OnlyLogicalId"] } },
  ])("refuses $name with a typed error", ({ value }) => {
    // Act
    const attempt = () => resolveIntrinsic(value, lookup);

    // Assess
    expect(attempt).toThrow(UnresolvableIntrinsicError);
  });

  it("asks the fallback for anything it does not know", () => {
    // Prepare
    const seen: unknown[] = [];
    const fallback = (reference: unknown) => {
      seen.push(reference);
      return "<placeholder>";
    };

    // Act
    const resolved = resolveIntrinsic({ "Fn::GetAtt": ["Thing", "Id"] }, { fallback });

    // Assess
    expect(resolved).toBe("<placeholder>");
    expect(seen).toEqual([{ kind: "GetAtt", logicalId: "Thing", attribute: "Id" }]);
  });
});
