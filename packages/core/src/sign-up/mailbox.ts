import { InvalidEmailError } from "../errors";
import { canonicalizeEmail } from "./email";

/**
 * Mailbox aliases: addresses that a provider documents as delivering to one and the same mailbox,
 * folded to one claim address so that `jo.hn+promo@googlemail.com` cannot sign up beside
 * `john@gmail.com`. Input and output are canonical addresses (`canonicalizeEmail`); only the claim
 * key changes, never the address Cognito stores or mails.
 *
 * Only what the provider itself documents is folded; everything else stays distinct, because a
 * wrong fold blocks a different person's real mailbox:
 *
 * - Gmail (`gmail.com`, `googlemail.com`): dots in the local part are ignored and `+tag` is a
 *   sub-address. Google Help, "Dots don't matter in Gmail addresses"
 *   (https://support.google.com/mail/answer/7436150) and "Create task-specific email addresses"
 *   (https://support.google.com/a/users/answer/9308648). `googlemail.com` is the same mailbox
 *   as `gmail.com`: Gmail Help documents that accounts once issued as `googlemail.com` (Germany,
 *   the UK) receive mail sent to either domain.
 *   Google Workspace hosts mail on the customer's own domain: nothing in the address says so
 *   (only its MX records would), so Workspace domains are not folded.
 * - Outlook.com (`outlook.com`, `hotmail.com`, `live.com`, `msn.com`): `+tag` only; dots are
 *   significant. Microsoft Learn, "Plus addressing in Exchange Online"
 *   (https://learn.microsoft.com/exchange/recipients-in-exchange-online/plus-addressing-in-exchange-online),
 *   the service behind Outlook.com. Country domains (`hotmail.co.uk`, ...) are not folded: no
 *   page we found names them.
 * - iCloud (`icloud.com`, `me.com`, `mac.com`): one namespace, so `name@me.com` and
 *   `name@mac.com` are the account of `name@icloud.com`. Apple Support, "About your @icloud.com,
 *   @me.com, and @mac.com email addresses" (https://support.apple.com/en-us/118230). `+tag` is
 *   folded too, as the issue asks, although Apple's help pages do not describe sub-addressing:
 *   iCloud Mail delivers `name+tag@icloud.com` to `name` (observed behaviour, widely reported),
 *   and an iCloud address cannot itself contain `+` (Apple Support, "Create a primary iCloud Mail
 *   email address": letters, numbers, periods and underscores), so the fold can only ever join a
 *   sub-address to its own mailbox, never block another person's.
 * - Fastmail (`fastmail.com`, `fastmail.fm`): `+tag`, and subdomain addressing
 *   (`tag@name.fastmail.com` is `name@fastmail.com`). Fastmail Help, "Plus addressing and
 *   subdomain addressing" (https://www.fastmail.help/hc/en-us/articles/360060591053).
 * - Proton (`proton.me`, `protonmail.com`, `protonmail.ch`, `pm.me`): `+tag` ("+aliases"), and
 *   the four domains are one account's free personal addresses under one username. Proton
 *   Support, "How to create and use an additional address (alias)"
 *   (https://proton.me/support/creating-aliases) and "Types of email addresses and aliases"
 *   (https://proton.me/support/addresses-and-aliases).
 *
 * The claim key is a storage format (see email.ts): a claim written before folding existed keeps
 * its key. docs/sign-up-policy.md says what an existing deployment does about that.
 */

interface ProviderRule {
  /** The domain every alias domain of the provider folds to. */
  domain: string;
  ignoreDots: boolean;
  plusTags: boolean;
}

const GMAIL: ProviderRule = { domain: "gmail.com", ignoreDots: true, plusTags: true };
const OUTLOOK = (domain: string): ProviderRule => ({ domain, ignoreDots: false, plusTags: true });
const ICLOUD: ProviderRule = { domain: "icloud.com", ignoreDots: false, plusTags: true };
const FASTMAIL = (domain: string): ProviderRule => ({ domain, ignoreDots: false, plusTags: true });
const PROTON: ProviderRule = { domain: "proton.me", ignoreDots: false, plusTags: true };

const PROVIDERS: ReadonlyMap<string, ProviderRule> = new Map([
  ["gmail.com", GMAIL],
  ["googlemail.com", GMAIL],
  ["outlook.com", OUTLOOK("outlook.com")],
  ["hotmail.com", OUTLOOK("hotmail.com")],
  ["live.com", OUTLOOK("live.com")],
  ["msn.com", OUTLOOK("msn.com")],
  ["icloud.com", ICLOUD],
  ["me.com", ICLOUD],
  ["mac.com", ICLOUD],
  ["fastmail.com", FASTMAIL("fastmail.com")],
  ["fastmail.fm", FASTMAIL("fastmail.fm")],
  ["proton.me", PROTON],
  ["protonmail.com", PROTON],
  ["protonmail.ch", PROTON],
  ["pm.me", PROTON],
]);

/** Fastmail's subdomain addressing: `tag@name.fastmail.com` → `name@fastmail.com`. */
const FASTMAIL_SUBDOMAIN_ROOTS = ["fastmail.com", "fastmail.fm"] as const;

function fastmailSubdomain(domain: string): { name: string; root: string } | undefined {
  for (const root of FASTMAIL_SUBDOMAIN_ROOTS) {
    if (!domain.endsWith(`.${root}`)) continue;
    const name = domain.slice(0, -(root.length + 1));
    // Exactly one label: `a.b.fastmail.com` is not documented as an address of `b`.
    if (name !== "" && !name.includes(".")) return { name, root };
  }
  return undefined;
}

/**
 * The address whose claim stands for `canonical`: provider aliases folded, anything else
 * unchanged. Throws `InvalidEmailError("empty-local-part")` for an alias with no mailbox left
 * (`+tag@gmail.com`, `...@gmail.com`), which the provider never hands out.
 */
export function foldMailboxAlias(canonical: string): string {
  const { localPart, domain } = canonicalizeEmail(canonical);
  const subdomain = fastmailSubdomain(domain);
  if (subdomain !== undefined) {
    // The subdomain is the mailbox; the local part is only the tag.
    return canonicalizeEmail(`${subdomain.name}@${subdomain.root}`).canonical;
  }
  const rule = PROVIDERS.get(domain);
  if (rule === undefined) return canonical;
  let mailbox = localPart;
  if (rule.plusTags) {
    const plus = mailbox.indexOf("+");
    if (plus !== -1) mailbox = mailbox.slice(0, plus);
  }
  if (rule.ignoreDots) mailbox = mailbox.replaceAll(".", "");
  if (mailbox === "") throw new InvalidEmailError("empty-local-part");
  return canonicalizeEmail(`${mailbox}@${rule.domain}`).canonical;
}

/** The claim address under the stage's policy (`signUpPolicy.foldMailboxAliases`). */
export function claimAddressOf(canonical: string, options: { foldAliases: boolean }): string {
  return options.foldAliases ? foldMailboxAlias(canonical) : canonical;
}

/**
 * Every claim address `canonical` may have been claimed under, folded and not: for the writes
 * that act on an existing claim of a known owner (confirm, release), which are conditional on the
 * owner and so harmless on the form that does not apply. This keeps them independent of the
 * stage's switch and of when it was turned on.
 */
export function claimAddressCandidates(canonical: string): string[] {
  let folded: string;
  try {
    folded = foldMailboxAlias(canonical);
  } catch {
    return [canonical];
  }
  return folded === canonical ? [canonical] : [canonical, folded];
}

// Scripts whose letters look like Latin ones, and the scripts one writing system mixes by design
// (UTS #39 "Highly Restrictive": Latin with Han and Japanese kana, with Han and Bopomofo, with Han
// and Hangul). Letters of any other script count as their own script.
const SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
  ["Han", /\p{Script=Han}/u],
  ["Hiragana", /\p{Script=Hiragana}/u],
  ["Katakana", /\p{Script=Katakana}/u],
  ["Bopomofo", /\p{Script=Bopomofo}/u],
  ["Hangul", /\p{Script=Hangul}/u],
];
const LETTER = /\p{L}/u;
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

function scriptOf(letter: string): string {
  for (const [name, pattern] of SCRIPTS) if (pattern.test(letter)) return name;
  // Scripts with no Latin look-alikes (Arabic, Devanagari, Thai, ...) share one name: a local part
  // is mixed when one of them meets Latin or another script above, not when it is used alone.
  return "Other";
}

/**
 * Whether a local part mixes letters of scripts that one writing system does not mix (Latin with
 * Cyrillic or Greek: `pаypal` with a Cyrillic `а`), the confusables a person cannot tell apart.
 * Digits, punctuation and combining marks belong to no script here (Unicode's Common and
 * Inherited). Such an address is refused, not folded: which letter was meant cannot be known.
 */
export function hasMixedScriptLocalPart(canonical: string): boolean {
  const localPart = canonical.slice(0, canonical.lastIndexOf("@"));
  const scripts = new Set<string>();
  for (const codePoint of localPart) {
    if (LETTER.test(codePoint)) scripts.add(scriptOf(codePoint));
  }
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((script) => allowed.has(script)));
}
