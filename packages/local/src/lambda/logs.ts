/**
 * Log lines as CloudWatch Logs shows a Node function's: console calls as
 * `<time>\t<requestId>\t<LEVEL>\t<message>`, raw stream writes as written, and the platform's
 * START / END / REPORT lines around each invocation.
 */
import type { RawLog } from "./execution-environment";
import type { LambdaLogRecord } from "./types";

export function logRecord(functionName: string, entry: RawLog): LambdaLogRecord {
  const time = new Date(entry.time).toISOString();
  const line =
    entry.stream === "console"
      ? `${time}\t${entry.requestId ?? "undefined"}\t${entry.level ?? "INFO"}\t${entry.text}`
      : entry.text;
  const record: LambdaLogRecord = {
    time,
    functionName,
    requestId: entry.requestId,
    stream: entry.stream,
    message: entry.text,
    line,
  };
  if (entry.level) record.level = entry.level;
  return record;
}

export function startLine(requestId: string): string {
  return `START RequestId: ${requestId} Version: $LATEST`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(
  requestId: string,
  report: {
    durationMs: number;
    memoryMb: number;
    heapUsedMb?: number;
    initDurationMs?: number;
    status?: string;
    errorType?: string;
  },
): string {
  const parts = [
    `REPORT RequestId: ${requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(report.durationMs))} ms`,
    `Memory Size: ${report.memoryMb} MB`,
  ];
  if (report.heapUsedMb !== undefined) parts.push(`Max Memory Used: ${report.heapUsedMb} MB`);
  if (report.initDurationMs !== undefined) {
    parts.push(`Init Duration: ${report.initDurationMs.toFixed(2)} ms`);
  }
  if (report.status) parts.push(`Status: ${report.status}`);
  if (report.errorType) parts.push(`Error Type: ${report.errorType}`);
  return parts.join("\t");
}
