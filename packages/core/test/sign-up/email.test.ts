import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoardingPassError, InvalidEmailError, type InvalidEmailReason } from "../../src/errors";
import {
  canonicalizeDomain,
  canonicalizeEmail,
  domainOfCanonicalEmail,
} from "../../src/sign-up/email";

function reasonOf(raw: string): InvalidEmailReason | undefined {
  try {
    canonicalizeEmail(raw);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidEmailError) return error.reason;
    throw error;
  }
}

describe("canonicalizeEmail: Unicode cases", () => {
  // Each row pins one decision of the canonical form; the canonical string is a storage format.
  it.each([
    {
      case: "plain address is unchanged",
      raw: "alice@example.com",
      canonical: "alice@example.com",
    },
    {
      case: "trailing and leading spaces",
      raw: "  alice@example.com \t",
      canonical: "alice@example.com",
    },
    {
      case: "uppercase local part and domain",
      raw: "Alice@EXAMPLE.COM",
      canonical: "alice@example.com",
    },
    { case: "sharp s folds to ss", raw: "straße@example.com", canonical: "strasse@example.com" },
    {
      case: "capital sharp s folds to ss",
      raw: "STRAẞE@example.com",
      canonical: "strasse@example.com",
    },
    { case: "long s becomes s (NFKC)", raw: "ſam@example.com", canonical: "sam@example.com" },
    { case: "Kelvin sign becomes k", raw: "\u212Aate@example.com", canonical: "kate@example.com" },
    {
      case: "dotless i is kept",
      raw: "\u0131lker@example.com",
      canonical: "\u0131lker@example.com",
    },
    {
      case: "dotted capital I folds to i + combining dot",
      raw: "\u0130lker@example.com",
      canonical: "i\u0307lker@example.com",
    },
    {
      case: "fullwidth letters and at sign",
      raw: "ＪＯＨＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ",
      canonical: "john@example.com",
    },
    { case: "final sigma folds to sigma", raw: "ΟΔΟΣ@example.gr", canonical: "οδοσ@example.gr" },
    { case: "ligature expands", raw: "ﬀ@example.com", canonical: "ff@example.com" },
    {
      case: "IDN domain to punycode",
      raw: "anna@bücher.example",
      canonical: "anna@xn--bcher-kva.example",
    },
    {
      case: "uppercase IDN domain",
      raw: "anna@BÜCHER.EXAMPLE",
      canonical: "anna@xn--bcher-kva.example",
    },
    {
      case: "sharp s in a domain is kept (nontransitional)",
      raw: "a@straße.de",
      canonical: "a@xn--strae-oqa.de",
    },
    {
      case: "one trailing root dot is removed",
      raw: "alice@example.com.",
      canonical: "alice@example.com",
    },
    {
      case: "dots in the local part are kept",
      raw: "a.l.ice@example.com",
      canonical: "a.l.ice@example.com",
    },
    { case: "+tags are kept", raw: "alice+news@example.com", canonical: "alice+news@example.com" },
  ])("$case", ({ raw, canonical }) => {
    // Act
    const result = canonicalizeEmail(raw);
    // Assess
    expect(result.canonical).toBe(canonical);
    expect(result).toEqual({
      canonical,
      localPart: canonical.slice(0, canonical.lastIndexOf("@")),
      domain: canonical.slice(canonical.lastIndexOf("@") + 1),
    });
  });

  it.each([
    ["straße@example.com", "STRASSE@example.com"],
    ["STRAẞE@example.com", "strasse@example.com"],
    ["ſam@example.com", "SAM@example.com"],
    ["\u212Aate@example.com", "KATE@example.com"],
    ["ＪＯＨＮ@example.com", "john@example.com"],
    ["anna@bücher.example", "anna@xn--bcher-kva.example"],
    ["\u0130lker@example.com", "i\u0307lker@example.com"],
    ["οδος@example.gr", "ΟΔΟΣ@example.gr"],
    ["alice@example.com ", "ALICE@Example.Com."],
  ])("%s and %s are the same mailbox", (first, second) => {
    // Act
    const a = canonicalizeEmail(first).canonical;
    const b = canonicalizeEmail(second).canonical;
    // Assess
    expect(a).toBe(b);
  });

  it.each([
    ["\u0131lker@example.com", "ilker@example.com"],
    ["\u0131lker@example.com", "Ilker@example.com"],
    ["\u0130lker@example.com", "ilker@example.com"],
    ["alice.smith@example.com", "alicesmith@example.com"],
    ["alice+news@example.com", "alice@example.com"],
    ["a@straße.de", "a@strasse.de"],
    ["аlice@example.com", "alice@example.com"], // Cyrillic а: a look-alike, not a case variant
  ])("%s and %s stay distinct", (first, second) => {
    // Act
    const a = canonicalizeEmail(first).canonical;
    const b = canonicalizeEmail(second).canonical;
    // Assess
    expect(a).not.toBe(b);
  });
});

describe("canonicalizeEmail: rejections", () => {
  const longLocal = "a".repeat(65);
  const longDomain = `${"d".repeat(60)}.${"e".repeat(60)}.${"f".repeat(60)}.${"g".repeat(60)}.com`;

  it.each<{ case: string; raw: string; reason: InvalidEmailReason }>([
    { case: "empty", raw: "", reason: "empty" },
    { case: "only spaces", raw: "   ", reason: "empty" },
    { case: "no at sign", raw: "alice.example.com", reason: "missing-at" },
    { case: "two at signs", raw: "a@b@example.com", reason: "too-many-at" },
    { case: "quoted local part with at", raw: '"a@b"@example.com', reason: "too-many-at" },
    { case: "empty local part", raw: "@example.com", reason: "empty-local-part" },
    { case: "empty domain", raw: "alice@", reason: "invalid-domain" },
    { case: "space inside", raw: "al ice@example.com", reason: "whitespace" },
    { case: "ideographic space inside", raw: "al\u3000ice@example.com", reason: "whitespace" },
    { case: "newline inside", raw: "alice@exa\nmple.com", reason: "control-character" },
    { case: "NUL", raw: "alice\u0000@example.com", reason: "control-character" },
    { case: "zero-width space", raw: "al\u200Bice@example.com", reason: "control-character" },
    { case: "bidi override", raw: "al\u202Eice@example.com", reason: "control-character" },
    { case: "leading dot", raw: ".alice@example.com", reason: "local-part-syntax" },
    { case: "trailing dot", raw: "alice.@example.com", reason: "local-part-syntax" },
    { case: "double dot", raw: "al..ice@example.com", reason: "local-part-syntax" },
    { case: "specials", raw: "al<ice>@example.com", reason: "local-part-syntax" },
    {
      case: "local part of 65 octets",
      raw: `${longLocal}@example.com`,
      reason: "local-part-too-long",
    },
    {
      case: "local part of 33 two-octet letters",
      raw: `${"é".repeat(33)}@example.com`,
      reason: "local-part-too-long",
    },
    { case: "address over 254 octets", raw: `${"a".repeat(64)}@${longDomain}`, reason: "too-long" },
    { case: "single-label domain", raw: "alice@localhost", reason: "invalid-domain" },
    { case: "IPv4 literal", raw: "alice@192.168.0.1", reason: "invalid-domain" },
    { case: "IPv6 literal", raw: "alice@[::1]", reason: "invalid-domain" },
    { case: "underscore in domain", raw: "alice@exa_mple.com", reason: "invalid-domain" },
    { case: "empty domain label", raw: "alice@example..com", reason: "invalid-domain" },
    { case: "label starting with hyphen", raw: "alice@-example.com", reason: "invalid-domain" },
    { case: "two trailing dots", raw: "alice@example.com..", reason: "invalid-domain" },
  ])("refuses $case", ({ raw, reason }) => {
    // Act
    const actual = reasonOf(raw);
    // Assess
    expect(actual).toBe(reason);
  });

  it("accepts a local part of exactly 64 octets", () => {
    // Prepare
    const raw = `${"a".repeat(64)}@example.com`;
    // Act
    const { localPart } = canonicalizeEmail(raw);
    // Assess
    expect(localPart).toHaveLength(64);
  });

  it("throws a typed error with a stable code and never echoes the address", () => {
    // Act
    const error = (() => {
      try {
        canonicalizeEmail("secret person@example.com");
      } catch (caught) {
        return caught;
      }
    })();
    // Assess
    expect(error).toBeInstanceOf(InvalidEmailError);
    expect(error).toBeInstanceOf(BoardingPassError);
    expect((error as InvalidEmailError).code).toBe("INVALID_EMAIL");
    expect((error as Error).message).not.toContain("secret");
  });
});

describe("canonicalizeEmail: properties", () => {
  const localChar = fc.constantFrom(
    ..."aAzZ09.+-_ßẞſıİΣςΩ\u212AＡｚé\u0301ﬀ".split(""),
    "\u0130",
    "\u0307",
  );
  const localPart = fc.array(localChar, { minLength: 1, maxLength: 20 }).map((c) => c.join(""));
  const domain = fc.constantFrom("example.com", "EXAMPLE.com.", "bücher.example", "ＥＸ.ｏｒｇ");

  it("is idempotent: a canonical address canonicalises to itself", () => {
    fc.assert(
      fc.property(localPart, domain, (local, dom) => {
        let first: string;
        try {
          first = canonicalizeEmail(`${local}@${dom}`).canonical;
        } catch (error) {
          if (error instanceof InvalidEmailError) return; // refused inputs have no canonical form
          throw error;
        }
        expect(canonicalizeEmail(first).canonical).toBe(first);
      }),
    );
  });

  it("maps upper- and lowercase spellings of the same address together (outside ı)", () => {
    fc.assert(
      fc.property(localPart, domain, (local, dom) => {
        fc.pre(!local.includes("\u0131") && !local.includes("I"));
        const results = [local.toUpperCase(), local.toLowerCase()].map((variant) => {
          try {
            return canonicalizeEmail(`${variant}@${dom}`).canonical;
          } catch (error) {
            if (error instanceof InvalidEmailError) return error.reason;
            throw error;
          }
        });
        expect(results[0]).toBe(results[1]);
      }),
    );
  });

  it("never yields whitespace, control characters or a second at sign", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (raw) => {
        let canonical: string;
        try {
          canonical = canonicalizeEmail(raw).canonical;
        } catch (error) {
          if (error instanceof InvalidEmailError) return;
          throw error;
        }
        expect(canonical).not.toMatch(/[\s\p{Cc}\p{Cf}]/u);
        expect(canonical.split("@")).toHaveLength(2);
      }),
    );
  });
});

describe("canonicalizeDomain", () => {
  it("matches the domain part of canonicalizeEmail", () => {
    // Act
    const domain = canonicalizeDomain("BÜCHER.Example.");
    // Assess
    expect(domain).toBe(canonicalizeEmail("x@BÜCHER.Example.").domain);
    expect(domainOfCanonicalEmail("x@xn--bcher-kva.example")).toBe(domain);
  });
});
