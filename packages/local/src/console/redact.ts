/**
 * What the console must never show: passwords, tokens, secrets, session tokens, codes, signatures.
 * Values are redacted by their key (anywhere in a JSON document), credentials are cut down to their
 * access key id, and JWT-shaped or presigned-URL secrets are masked wherever they appear in text.
 */

const REDACTED = "[redacted]";

/** Keys whose values are secret whatever they hold. */
const SECRET_KEY =
  /password|passwd|secret|token|authorization|cookie|signature|private.?key|session|verifier|salt|srp_?[ab]$|^(code|confirmationcode|codeparameter|usercode|answer|challengeresponses|logins|x-amz-security-token|x-api-key)$/i;
/** Kept although they match the above: identifiers, not secrets. */
const PUBLIC_KEY =
  /^(accesskeyid|accesskey|tokenuse|token_use|tokentype|sessionname|(id|access)tokengeneration|\w*tokenvalidity(units)?)$/i;
const CREDENTIALS_KEY = /^credentials$/i;

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const QUERY_SECRET = /(X-Amz-(?:Security-Token|Signature|Credential)=)[^&\s"']+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !PUBLIC_KEY.test(key);
}

/** A copy of `value` with every secret replaced (depth-limited: deeper parts are dropped). */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 12) return "…";
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (CREDENTIALS_KEY.test(key) && item !== null && typeof item === "object") {
      out[key] = credentialsView(item as Record<string, unknown>);
    } else if (isSecretKey(key)) {
      out[key] = item === null || item === undefined || item === "" ? item : REDACTED;
    } else {
      out[key] = redactValue(item, depth + 1);
    }
  }
  return out;
}

/** Credentials shown as their access key id only. */
function credentialsView(credentials: Record<string, unknown>): Record<string, unknown> {
  const id = credentials.AccessKeyId ?? credentials.accessKeyId;
  return typeof id === "string" ? { AccessKeyId: id } : { AccessKeyId: REDACTED };
}

/** Masks JWTs, bearer values and presigned-URL secrets inside free text. */
export function redactString(text: string): string {
  return text
    .replace(JWT, "[redacted jwt]")
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`);
}

/**
 * Text that may be JSON (an event summary, a record's payload, a log line): parsed and redacted
 * by key when it is JSON, else masked by pattern, `"secretKey": "..."` pairs included (a clipped
 * summary no longer parses).
 */
export function redactText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.stringify(redactValue(JSON.parse(trimmed)));
    } catch {
      // clipped or not JSON: fall through to patterns
    }
  }
  return redactString(text)
    .replace(
      /"([^"\\]{1,80})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|\{[^{}]*\}?)/g,
      (whole, key: string, colon: string, value: string) => {
        if (CREDENTIALS_KEY.test(key)) {
          const id = /"AccessKeyId"\s*:\s*"([^"]*)"/i.exec(value);
          return `"${key}"${colon}{"AccessKeyId":"${id?.[1] ?? REDACTED}"}`;
        }
        return isSecretKey(key) ? `"${key}"${colon}"${REDACTED}"` : whole;
      },
    )
    .replace(/\b(password|secret\w*|token\w*)(\s*[=:]\s*)([^\s,;&"']+)/gi, `$1$2${REDACTED}`);
}

/** Clips text for display. */
export function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…(+${text.length - limit} chars)`;
}
