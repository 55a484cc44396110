/** Bounded JSON for the console: enough to recognise an event, never a megabyte of it. */
const SUMMARY_LIMIT = 4096;

export function summarize(value: unknown, limit = SUMMARY_LIMIT): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return `<not JSON: ${error instanceof Error ? error.message : String(error)}>`;
  }
  if (json === undefined) return "null";
  if (json.length <= limit) return json;
  return `${json.slice(0, limit)}…(+${json.length - limit} chars)`;
}

/** A log line kept in an invocation record; the `log` callback still gets it whole. */
export function clip(line: string, limit = SUMMARY_LIMIT): string {
  return line.length <= limit ? line : `${line.slice(0, limit)}…(+${line.length - limit} chars)`;
}
