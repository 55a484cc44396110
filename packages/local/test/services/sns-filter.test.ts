/**
 * Filter policies, table-driven. Cases follow the examples of AWS's "Amazon SNS subscription
 * filter policies" pages (the customer-transaction message with customer_interests, store, event
 * and price_usd), plus the edge cases those pages state in prose.
 */
import { describe, expect, it } from "vitest";
import {
  type FilterableAttribute,
  FilterPolicyError,
  type FilterPolicyScope,
  matchesFilterPolicy,
  parseFilterPolicy,
} from "../../src/services/sns/filter";

const attributes: Record<string, FilterableAttribute> = {
  customer_interests: { DataType: "String.Array", StringValue: '["soccer", "rugby", "hockey"]' },
  store: { DataType: "String", StringValue: "example_corp" },
  event: { DataType: "String", StringValue: "order_placed" },
  price_usd: { DataType: "Number", StringValue: "210.75" },
  encoded: { DataType: "Binary", BinaryValue: "AQID" },
};

const body = JSON.stringify({
  customer_interests: ["soccer", "rugby", "hockey"],
  store: "example_corp",
  event: "order_placed",
  price_usd: 210.75,
  order: { state: "placed", items: 3, gift: null },
});

const match = (
  policy: unknown,
  message: { attributes?: Record<string, FilterableAttribute>; body?: string },
  scope: FilterPolicyScope = "MessageAttributes",
) => matchesFilterPolicy(parseFilterPolicy(JSON.stringify(policy), scope), message);

describe("attribute scope", () => {
  it.each<[string, unknown, boolean]>([
    ["AND across keys", { store: ["example_corp"], event: ["order_placed"] }, true],
    [
      "AND fails when one key fails",
      { store: ["example_corp"], event: ["order_cancelled"] },
      false,
    ],
    ["OR within a key", { event: ["order_cancelled", "order_placed"] }, true],
    ["exact string", { store: ["other_corp"] }, false],
    ["string match is case-sensitive", { store: ["EXAMPLE_CORP"] }, false],
    ["String.Array: any element", { customer_interests: ["rugby", "tennis"] }, true],
    ["String.Array: no element", { customer_interests: ["baseball"] }, false],
    ["numeric exact by literal", { price_usd: [210.75] }, true],
    ["a string literal does not match a Number", { price_usd: ["210.75"] }, false],
    ["numeric =", { price_usd: [{ numeric: ["=", 210.75] }] }, true],
    ["numeric >", { price_usd: [{ numeric: [">", 100] }] }, true],
    ["numeric range outside", { price_usd: [{ numeric: [">", 0, "<=", 150] }] }, false],
    ["numeric range inside", { price_usd: [{ numeric: [">=", 200, "<", 300] }] }, true],
    ["numeric on a String attribute", { store: [{ numeric: [">", 0] }] }, false],
    ["prefix", { store: [{ prefix: "example" }] }, true],
    ["prefix miss", { store: [{ prefix: "corp" }] }, false],
    ["suffix", { store: [{ suffix: "_corp" }] }, true],
    ["equals-ignore-case", { store: [{ "equals-ignore-case": "EXAMPLE_CORP" }] }, true],
    ["anything-but single value", { event: [{ "anything-but": "order_cancelled" }] }, true],
    [
      "anything-but list containing the value",
      { event: [{ "anything-but": ["order_placed", "x"] }] },
      false,
    ],
    [
      "anything-but prefix (excluded)",
      { event: [{ "anything-but": { prefix: "order_" } }] },
      false,
    ],
    ["anything-but prefix (allowed)", { event: [{ "anything-but": { prefix: "ship" } }] }, true],
    ["anything-but suffix", { event: [{ "anything-but": { suffix: "_placed" } }] }, false],
    ["anything-but needs the attribute", { coupon: [{ "anything-but": "x" }] }, false],
    [
      "anything-but on String.Array: one other element suffices",
      { customer_interests: [{ "anything-but": ["rugby"] }] },
      true,
    ],
    ["exists true", { store: [{ exists: true }] }, true],
    ["exists false on a present key", { store: [{ exists: false }] }, false],
    ["exists false on an absent key", { coupon: [{ exists: false }] }, true],
    ["Binary attributes are present but never compared", { encoded: ["AQID"] }, false],
    ["Binary attributes satisfy exists", { encoded: [{ exists: true }] }, true],
    ["$or: second branch", { $or: [{ store: ["nope"] }, { event: ["order_placed"] }] }, true],
    ["$or: no branch", { $or: [{ store: ["nope"] }, { event: ["nope"] }] }, false],
    [
      "$or ANDed with sibling keys",
      { store: ["example_corp"], $or: [{ event: ["x"] }, { price_usd: [{ numeric: ["<", 10] }] }] },
      false,
    ],
    ["$or with a single branch is an ordinary key", { $or: ["x"] }, false],
  ])("%s", (_name, policy, expected) => {
    expect(match(policy, { attributes })).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ["Number 101", "101", true],
    ["Number 100.1", "100.1", true],
    ["Number 100", "100", false],
    ["Number 1.0e2", "1.0e2", false],
  ])("anything-but [100, 500] with %s", (_name, value, expected) => {
    const message = { attributes: { price: { DataType: "Number", StringValue: value } } };
    expect(match({ price: [{ "anything-but": [100, 500] }] }, message)).toBe(expected);
  });

  it("compares numbers to five decimal places", () => {
    const message = { attributes: { n: { DataType: "Number", StringValue: "3.015e2" } } };
    expect(match({ n: [{ numeric: ["=", 301.5] }] }, message)).toBe(true);
    expect(match({ n: [301.500001] }, message)).toBe(true);
    expect(match({ n: [301.5001] }, message)).toBe(false);
  });

  it("matches nothing but exists:false when the message has no attributes", () => {
    expect(match({ store: ["example_corp"] }, {})).toBe(false);
    expect(match({ store: [{ exists: false }] }, {})).toBe(true);
  });
});

describe("body scope", () => {
  it.each<[string, unknown, boolean]>([
    ["top-level string", { store: ["example_corp"] }, true],
    ["nested key", { order: { state: ["placed"] } }, true],
    ["nested numeric", { order: { items: [{ numeric: [">", 2] }] } }, true],
    ["nested miss", { order: { state: ["shipped"] } }, false],
    ["nested exists false", { order: { missing: [{ exists: false }] } }, true],
    ["nested exists false on a present key", { order: { state: [{ exists: false }] } }, false],
    ["null literal", { order: { gift: [null] } }, true],
    ["array property: any element", { customer_interests: ["rugby"] }, true],
    ["anything-but numbers over an array", { nums: [{ "anything-but": [100, 500] }] }, false],
    ["a leaf rule against an object", { order: ["placed"] }, false],
    [
      "$or across nested keys",
      { $or: [{ order: { state: ["x"] } }, { price_usd: [{ numeric: [">", 200] }] }] },
      true,
    ],
  ])("%s", (_name, policy, expected) => {
    expect(match(policy, { body }, "MessageBody")).toBe(expected);
  });

  it("matches arrays of numbers with anything-but when one element is not excluded", () => {
    expect(
      match(
        { price: [{ "anything-but": [100, 500] }] },
        { body: '{"price":[100,50]}' },
        "MessageBody",
      ),
    ).toBe(true);
    expect(
      match({ price: [{ "anything-but": [100, 500] }] }, { body: '{"price":100}' }, "MessageBody"),
    ).toBe(false);
  });

  it("treats a body that is not a JSON object as having no properties", () => {
    expect(match({ store: ["example_corp"] }, { body: "plain text" }, "MessageBody")).toBe(false);
    expect(match({ store: [{ exists: false }] }, { body: "plain text" }, "MessageBody")).toBe(true);
  });
});

describe("validation", () => {
  const tooManyKeys = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((k) => [k, ["x"]]));
  const fiveKeys = Object.fromEntries(["a", "b", "c", "d", "e"].map((k) => [k, ["x"]]));
  const tooComplex = {
    a: Array.from({ length: 10 }, (_, i) => `a${i}`),
    b: Array.from({ length: 16 }, (_, i) => `b${i}`),
  };

  it.each<[string, string, FilterPolicyScope?]>([
    ["not JSON", "{store:"],
    ["not an object", '["a"]'],
    ["empty object", "{}"],
    ["value not in an array", '{"a":"b"}'],
    ["empty array", '{"a":[]}'],
    ["nested policy with attribute scope", '{"a":{"b":["c"]}}'],
    ["unknown operator", '{"a":[{"regex":"x"}]}'],
    ["two operators in one object", '{"a":[{"prefix":"x","suffix":"y"}]}'],
    ["non-string prefix", '{"a":[{"prefix":1}]}'],
    ["non-boolean exists", '{"a":[{"exists":"yes"}]}'],
    ["numeric with a bad operator", '{"a":[{"numeric":["==",1]}]}'],
    ["numeric range upside down", '{"a":[{"numeric":[">",5,"<",1]}]}'],
    ["numeric range in the wrong order", '{"a":[{"numeric":["<",1,">",0]}]}'],
    ["numeric with a string", '{"a":[{"numeric":[">","1"]}]}'],
    ["number out of range", '{"a":[{"numeric":[">",2000000000]}]}'],
    ["empty anything-but", '{"a":[{"anything-but":[]}]}'],
    ["anything-but with an unsupported operator", '{"a":[{"anything-but":{"equals":"x"}}]}'],
    ["more than five keys", JSON.stringify(tooManyKeys)],
    ["more than 150 combinations", JSON.stringify(tooComplex)],
    ["nested empty object in body scope", '{"a":{}}', "MessageBody"],
  ])("rejects %s", (_name, policy, scope = "MessageAttributes") => {
    expect(() => parseFilterPolicy(policy, scope)).toThrow(FilterPolicyError);
  });

  it.each<[string, unknown, FilterPolicyScope]>([
    ["five keys", fiveKeys, "MessageAttributes"],
    ["nested body policy", { a: { b: { c: ["d"] } } }, "MessageBody"],
    ["$or", { $or: [{ a: ["x"] }, { b: [{ numeric: [">", 1] }] }] }, "MessageAttributes"],
    [
      "every operator",
      {
        a: [
          "x",
          1,
          { prefix: "p" },
          { suffix: "s" },
          { "equals-ignore-case": "E" },
          { exists: true },
          { "anything-but": { prefix: "z" } },
          { numeric: ["=", 1] },
        ],
      },
      "MessageAttributes",
    ],
  ])("accepts %s", (_name, policy, scope) => {
    expect(() => parseFilterPolicy(JSON.stringify(policy), scope)).not.toThrow();
  });
});
