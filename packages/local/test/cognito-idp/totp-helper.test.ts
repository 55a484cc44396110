import { describe, expect, it } from "vitest";
import { fromBase32, totpAt, totpCode } from "./totp-helper";

describe("the tests' RFC 6238 helper", () => {
  const key = Buffer.from("12345678901234567890", "ascii");
  // RFC 6238 Appendix B, SHA-1 column.
  const vectors: Array<[number, string]> = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];

  it.each(vectors)("at %i s gives %s (8 digits)", (time, expected) => {
    expect(totpAt(key, time, 8)).toBe(expected);
  });

  it.each(vectors)("at %i s gives the last six digits of %s", (time, expected) => {
    expect(totpAt(key, time)).toBe(expected.slice(-6));
  });

  it("decodes base32 as authenticator apps do", () => {
    // "12345678901234567890" in base32.
    expect(fromBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").toString("ascii")).toBe(
      "12345678901234567890",
    );
    expect(totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59_000)).toBe("287082");
  });
});
