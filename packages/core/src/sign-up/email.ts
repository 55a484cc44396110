import { domainToASCII } from "node:url";
import { InvalidEmailError } from "../errors";

/**
 * Email canonicalisation: the one place that decides when two typed addresses are the same mailbox.
 * The canonical form is the uniqueness key, so the rules below are a storage format: changing them
 * needs a migration of every `EMAIL#` item. Provider aliases (Gmail dots, `+tags`) are folded on
 * top of this form into the claim address (mailbox.ts), behind the stage's
 * `signUpPolicy.foldMailboxAliases`; docs/sign-up-policy.md says what a deployment does about
 * claims written under another form.
 *
 * Rules, in order:
 * 1. Trim, then Unicode NFKC: fullwidth letters, ligatures, the long s `ſ` and the Kelvin sign all
 *    collapse to their plain forms, and the fullwidth `＠` becomes `@`.
 * 2. Split at the LAST `@`; the local part may not contain another one (quoted local parts such as
 *    `"a@b"@example.com` are refused: no mainstream provider hands them out and they complicate
 *    every downstream parser).
 * 3. Domain: lowercased and converted to punycode with WHATWG/UTS #46 processing (`domainToASCII`),
 *    one trailing root dot removed, then checked as letters-digits-hyphen labels. `ß` in a domain is
 *    kept (nontransitional processing): `straße.de` and `strasse.de` are different registrations.
 * 4. Local part: dots and `+tags` are kept, because providers differ (Gmail ignores dots, most do
 *    not); removing them would merge different people's mailboxes. Case is folded with Unicode full
 *    case folding so that case variants of one mailbox collide: `ß`/`ẞ` → `ss`, final `ς` → `σ`,
 *    `ᾳ` → `αι`, Kelvin sign → `k`.
 *    - Dotless `ı` (U+0131) is NOT folded to `i`: Unicode's default folding keeps it, and in Turkish
 *      `ı` and `i` are different letters, so folding would block a legitimate, different address.
 *    - Dotted capital `İ` (U+0130) folds to `i` + U+0307 COMBINING DOT ABOVE (the default, non-Turkic
 *      folding), which collides with a typed `i̇` but not with plain `i` or with `ı`.
 *    Look-alikes across scripts (Cyrillic `а` vs Latin `a`) are not case variants and stay distinct;
 *    a local part mixing such scripts is refused at sign-up (`hasMixedScriptLocalPart`, mailbox.ts).
 * 5. Limits: local part ≤ 64 UTF-8 octets, whole address ≤ 254 octets (RFC 5321 with the path's
 *    angle brackets removed), no control or invisible format characters, no whitespace inside,
 *    dot-atom syntax (no leading, trailing or doubled dots) and none of RFC 5322's specials.
 */

interface CanonicalEmail {
  /** `local@domain`, the form stored and compared. */
  canonical: string;
  localPart: string;
  /** ASCII (punycode) domain, lowercase, no trailing dot. */
  domain: string;
}

const MAX_LOCAL_PART_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;
const MAX_DOMAIN_OCTETS = 253;

// Cc: C0/C1 controls; Cf: invisible format characters (zero-width joiners, bidi overrides) that let
// two addresses look identical while differing; Cs: lone surrogates that cannot be UTF-8 encoded.
const CONTROL_OR_INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;
const WHITESPACE = /[\s\p{Z}]/u;
// RFC 5322 specials that are only legal inside a quoted local part, which we do not accept.
const LOCAL_PART_SPECIALS = /["(),:;<>[\\\]]/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const ALL_DIGITS = /^[0-9]+$/;

const utf8Length = (value: string): number => Buffer.byteLength(value, "utf8");

/**
 * Full case folding of one code point, via lower → upper → lower. The round trip reaches the folded
 * form where `toLowerCase` alone stops short (`ß` → `SS` → `ss`, `ς` → `Σ` → `σ`, `ᾳ` → `ΑΙ` → `αι`),
 * and working code point by code point sidesteps the context-sensitive final-sigma rule of
 * `String.prototype.toLowerCase`. Dotless `ı` is the one exception (see the module comment): its
 * round trip would yield `i`.
 */
function foldCodePoint(codePoint: string): string {
  if (codePoint === "\u0131") return codePoint;
  return codePoint.toLowerCase().toUpperCase().toLowerCase();
}

function foldLocalPart(localPart: string): string {
  let folded = "";
  for (const codePoint of localPart) folded += foldCodePoint(codePoint);
  // Folding can leave sequences (i + U+0307) that normalisation would otherwise rewrite on a second
  // pass; normalising again keeps canonicalizeEmail idempotent.
  return folded.normalize("NFKC");
}

/**
 * Canonical ASCII form of a mail domain, shared with the sign-up policy so that patterns and
 * addresses are compared in the same form. Throws `InvalidEmailError("invalid-domain")`.
 */
export function canonicalizeDomain(raw: string): string {
  let ascii: string;
  try {
    ascii = domainToASCII(raw.normalize("NFKC").toLowerCase());
  } catch (cause) {
    throw new InvalidEmailError("invalid-domain", { cause });
  }
  if (ascii.endsWith(".")) ascii = ascii.slice(0, -1);
  if (ascii === "" || utf8Length(ascii) > MAX_DOMAIN_OCTETS) {
    throw new InvalidEmailError("invalid-domain");
  }
  const labels = ascii.split(".");
  // A deliverable internet domain has at least two labels, and no top-level domain is numeric (this
  // also refuses IPv4 literals, which domainToASCII accepts as hosts).
  const topLevel = labels[labels.length - 1] ?? "";
  if (labels.length < 2 || ALL_DIGITS.test(topLevel)) {
    throw new InvalidEmailError("invalid-domain");
  }
  if (!labels.every((label) => DOMAIN_LABEL.test(label))) {
    throw new InvalidEmailError("invalid-domain");
  }
  return ascii;
}

/** Canonicalises an email address or throws `InvalidEmailError` naming the rule that failed. */
export function canonicalizeEmail(raw: string): CanonicalEmail {
  if (typeof raw !== "string") throw new InvalidEmailError("not-a-string");
  // Trim before and after NFKC: NFKC turns some exotic spaces into U+0020.
  const normalized = raw.trim().normalize("NFKC").trim();
  if (normalized === "") throw new InvalidEmailError("empty");
  if (CONTROL_OR_INVISIBLE.test(normalized)) throw new InvalidEmailError("control-character");
  if (WHITESPACE.test(normalized)) throw new InvalidEmailError("whitespace");

  const at = normalized.lastIndexOf("@");
  if (at === -1) throw new InvalidEmailError("missing-at");
  const rawLocal = normalized.slice(0, at);
  const rawDomain = normalized.slice(at + 1);
  if (rawLocal.includes("@")) throw new InvalidEmailError("too-many-at");
  if (rawLocal === "") throw new InvalidEmailError("empty-local-part");

  const localPart = foldLocalPart(rawLocal);
  if (
    LOCAL_PART_SPECIALS.test(localPart) ||
    localPart.startsWith(".") ||
    localPart.endsWith(".") ||
    localPart.includes("..")
  ) {
    throw new InvalidEmailError("local-part-syntax");
  }
  if (utf8Length(localPart) > MAX_LOCAL_PART_OCTETS) {
    throw new InvalidEmailError("local-part-too-long");
  }

  const domain = canonicalizeDomain(rawDomain);
  const canonical = `${localPart}@${domain}`;
  if (utf8Length(canonical) > MAX_ADDRESS_OCTETS) throw new InvalidEmailError("too-long");
  return { canonical, localPart, domain };
}

/** The domain of an address already in canonical form. */
export function domainOfCanonicalEmail(canonical: string): string {
  return canonical.slice(canonical.lastIndexOf("@") + 1);
}
