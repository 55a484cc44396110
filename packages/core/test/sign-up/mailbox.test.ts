import { describe, expect, it } from "vitest";
import { InvalidEmailError } from "../../src/errors";
import { canonicalizeEmail } from "../../src/sign-up/email";
import {
  claimAddressCandidates,
  claimAddressOf,
  foldMailboxAlias,
  hasMixedScriptLocalPart,
} from "../../src/sign-up/mailbox";

const fold = (raw: string) => foldMailboxAlias(canonicalizeEmail(raw).canonical);

describe("provider aliases fold to one claim address", () => {
  it.each([
    // Gmail: dots and +tags, googlemail is gmail (Google Help, "Dots don't matter in Gmail
    // addresses"; "Create task-specific email addresses").
    ["jo.hn+promo@googlemail.com", "john@gmail.com"],
    ["john@gmail.com", "john@gmail.com"],
    ["J.O.H.N@GMAIL.COM", "john@gmail.com"],
    ["john+a+b@gmail.com", "john@gmail.com"],
    ["john+@gmail.com", "john@gmail.com"],
    ["j.ohn@googlemail.com", "john@gmail.com"],
    // Outlook.com: +tags only; dots are part of the mailbox.
    ["first.last+news@outlook.com", "first.last@outlook.com"],
    ["a+b@hotmail.com", "a@hotmail.com"],
    ["a+b@live.com", "a@live.com"],
    ["a+b@msn.com", "a@msn.com"],
    // iCloud: one namespace across icloud.com, me.com, mac.com (Apple Support 118230).
    ["name@me.com", "name@icloud.com"],
    ["name@mac.com", "name@icloud.com"],
    ["name@icloud.com", "name@icloud.com"],
    // iCloud delivers +tags to the mailbox, and an iCloud address cannot contain "+".
    ["name+tag@icloud.com", "name@icloud.com"],
    ["name+tag@me.com", "name@icloud.com"],
    // Fastmail: +tags and subdomain addressing.
    ["name+shop@fastmail.com", "name@fastmail.com"],
    ["shop@name.fastmail.com", "name@fastmail.com"],
    ["name+x@fastmail.fm", "name@fastmail.fm"],
    ["shop@name.fastmail.fm", "name@fastmail.fm"],
    // Proton: +aliases, and the free personal domains of one username.
    ["alice+x@proton.me", "alice@proton.me"],
    ["alice@protonmail.com", "alice@proton.me"],
    ["alice+x@protonmail.ch", "alice@proton.me"],
    ["alice@pm.me", "alice@proton.me"],
  ])("%s → %s", (raw, folded) => {
    expect(fold(raw)).toBe(folded);
  });
});

describe("addresses that must stay distinct", () => {
  it.each([
    // Other domains' dots and tags are theirs to interpret: never folded.
    ["jo.hn@example.com", "jo.hn@example.com"],
    ["john+promo@example.com", "john+promo@example.com"],
    // Google Workspace on a custom domain cannot be told apart from the address.
    ["jo.hn+x@company.example", "jo.hn+x@company.example"],
    // Outlook.com dots are significant.
    ["jo.hn@outlook.com", "jo.hn@outlook.com"],
    // iCloud dots are part of the mailbox.
    ["na.me@icloud.com", "na.me@icloud.com"],
    // Look-alike provider domains are other domains.
    ["jo.hn@gmail.co", "jo.hn@gmail.co"],
    ["jo.hn@mail.gmail.com", "jo.hn@mail.gmail.com"],
    ["jo.hn@gmail.com.evil.example", "jo.hn@gmail.com.evil.example"],
    // Fastmail subdomain addressing is one label deep only.
    ["shop@a.b.fastmail.com", "shop@a.b.fastmail.com"],
    // Country domains of Outlook.com are not documented as such.
    ["a+b@hotmail.co.uk", "a+b@hotmail.co.uk"],
  ])("%s stays %s", (raw, kept) => {
    expect(fold(raw)).toBe(kept);
  });

  it("different Gmail mailboxes stay different", () => {
    expect(fold("john@gmail.com")).not.toBe(fold("johnny@gmail.com"));
    expect(fold("jo-hn@gmail.com")).not.toBe(fold("john@gmail.com"));
  });

  it("quoted local parts are refused by canonicalisation before any fold", () => {
    expect(() => canonicalizeEmail('"jo.hn"@gmail.com')).toThrow(InvalidEmailError);
  });

  it("an alias with no mailbox left is invalid, not the empty mailbox", () => {
    expect(() => fold("+tag@gmail.com")).toThrow(InvalidEmailError);
    expect(() => fold("+tag@outlook.com")).toThrow(InvalidEmailError);
  });

  it("the fold is idempotent and its result is canonical", () => {
    for (const raw of ["jo.hn+promo@googlemail.com", "shop@name.fastmail.com", "a@pm.me"]) {
      const once = fold(raw);
      expect(foldMailboxAlias(once)).toBe(once);
      expect(canonicalizeEmail(once).canonical).toBe(once);
    }
  });
});

describe("the stage's switch", () => {
  it("off: the claim address is the canonical address", () => {
    expect(claimAddressOf("jo.hn+x@gmail.com", { foldAliases: false })).toBe("jo.hn+x@gmail.com");
    expect(claimAddressOf("jo.hn+x@gmail.com", { foldAliases: true })).toBe("john@gmail.com");
  });

  it("candidates: both forms when they differ, one otherwise, never throwing", () => {
    expect(claimAddressCandidates("jo.hn+x@gmail.com")).toEqual([
      "jo.hn+x@gmail.com",
      "john@gmail.com",
    ]);
    expect(claimAddressCandidates("a@example.com")).toEqual(["a@example.com"]);
    expect(claimAddressCandidates("+x@gmail.com")).toEqual(["+x@gmail.com"]);
  });
});

describe("mixed-script local parts", () => {
  it.each([
    ["p\u0430ypal@example.com", "Latin with a Cyrillic а"],
    ["\u0440aypal@gmail.com", "Cyrillic р with Latin"],
    ["jo\u03bfhn@example.com", "Latin with a Greek ο"],
    ["admin\u0570@example.com", "Latin with an Armenian հ"],
  ])("%s is mixed (%s)", (raw) => {
    expect(hasMixedScriptLocalPart(canonicalizeEmail(raw).canonical)).toBe(true);
  });

  it.each([
    ["john.smith+1@example.com", "Latin with digits and punctuation"],
    ["иван.петров@example.com", "Cyrillic alone"],
    ["ιωάννης@example.com", "Greek alone (with a combining accent)"],
    ["josé@example.com", "Latin with a diacritic"],
    ["山田taro@example.jp", "Japanese: Han with Latin"],
    ["やまだ山田@example.jp", "Japanese: Hiragana with Han"],
    ["김철수kim@example.kr", "Korean: Hangul with Latin"],
    ["محمد@example.com", "Arabic alone"],
  ])("%s is not mixed (%s)", (raw) => {
    expect(hasMixedScriptLocalPart(canonicalizeEmail(raw).canonical)).toBe(false);
  });

  it("only the local part counts: a Unicode domain does not make an address mixed", () => {
    expect(hasMixedScriptLocalPart(canonicalizeEmail("anna@почта.рф").canonical)).toBe(false);
  });
});
