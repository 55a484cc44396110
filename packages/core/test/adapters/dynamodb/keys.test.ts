import { describe, expect, it } from "vitest";
import { emailUniquenessKey } from "../../../src/adapters/dynamodb/keys";
import { canonicalizeEmail } from "../../../src/sign-up/email";

describe("emailUniquenessKey", () => {
  it("keys the reservation item on the canonical address", () => {
    // Prepare
    const { canonical } = canonicalizeEmail("Straße@Bücher.Example");
    // Act
    const key = emailUniquenessKey(canonical);
    // Assess
    expect(key).toEqual({ pk: "EMAIL#strasse@xn--bcher-kva.example", sk: "EMAIL" });
  });

  it("refuses a raw address so that case variants cannot get their own key", () => {
    // Act
    const act = () => emailUniquenessKey("Alice@Example.com");
    // Assess
    expect(act).toThrowError(expect.objectContaining({ reason: "not-canonical" }));
  });
});
