/**
 * Validation of what callers send to SQS: queue attributes, message bodies and message
 * attributes, with the limits and error codes SQS applies.
 */

import type { SqsAttributeValue } from "./md5";
import { invalidParameter, sqsError } from "./protocol";

const MAX_MESSAGE_ATTRIBUTES = 10;

const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  VisibilityTimeout: [0, 43_200],
  MaximumMessageSize: [1_024, 262_144],
  MessageRetentionPeriod: [60, 1_209_600],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

/** Stored as given, not interpreted locally (no KMS encryption, no access policy evaluation). */
const STORED_ONLY = new Set([
  "Policy",
  "KmsMasterKeyId",
  "SqsManagedSseEnabled",
  "RedriveAllowPolicy",
]);

/**
 * Checks CreateQueue/SetQueueAttributes attributes. `queueExists` resolves a dead-letter target
 * ARN to whether that queue exists, as SQS requires of a RedrivePolicy.
 */
export function validateQueueAttributes(
  attributes: Record<string, string>,
  queueExists: (arn: string) => boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (
      name === "FifoQueue" ||
      name === "ContentBasedDeduplication" ||
      name === "DeduplicationScope" ||
      name === "FifoThroughputLimit"
    ) {
      if (name === "FifoQueue" && value === "false") continue;
      throw invalidParameter("FIFO queues are not supported by the local SQS.");
    }
    const range = RANGES[name];
    if (range) {
      const number = Number(value);
      if (
        value.trim() === "" ||
        !Number.isInteger(number) ||
        number < range[0] ||
        number > range[1]
      ) {
        throw sqsError("InvalidAttributeValue", `Invalid value for the parameter ${name}.`);
      }
      out[name] = String(number);
      continue;
    }
    if (name === "RedrivePolicy") {
      out[name] = value === "" ? "" : normalizeRedrivePolicy(value, queueExists);
      continue;
    }
    if (STORED_ONLY.has(name)) {
      out[name] = value;
      continue;
    }
    throw sqsError("InvalidAttributeName", `Unknown Attribute ${name}.`);
  }
  return out;
}

function normalizeRedrivePolicy(value: string, queueExists: (arn: string) => boolean): string {
  const invalid = (reason: string) =>
    sqsError(
      "InvalidAttributeValue",
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: ${reason}`,
    );
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid("Invalid JSON.");
  }
  const target = parsed?.deadLetterTargetArn;
  const max = Number(parsed?.maxReceiveCount);
  if (
    typeof target !== "string" ||
    !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(target)
  ) {
    throw invalid("Invalid value for deadLetterTargetArn.");
  }
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw invalid("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.");
  }
  if (!queueExists(target)) throw invalid("Dead letter target does not exist.");
  // SQS echoes maxReceiveCount back as a number whatever the caller sent.
  return JSON.stringify({ deadLetterTargetArn: target, maxReceiveCount: max });
}

/** SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const INVALID_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function validateBody(body: unknown): string {
  if (typeof body !== "string" || body.length === 0) {
    throw sqsError("MissingParameter", "The request must contain the parameter MessageBody.");
  }
  if (INVALID_CHARACTERS.test(body)) {
    throw sqsError(
      "InvalidMessageContents",
      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    );
  }
  return body;
}

/** MessageAttributes as SQS's JSON wire carries them (BinaryValue base64). */
export function readMessageAttributes(
  value: unknown,
  label = "MessageAttributes",
): Record<string, SqsAttributeValue> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw invalidParameter(`Value for parameter ${label} is invalid.`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) {
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  const out: Record<string, SqsAttributeValue> = {};
  for (const [name, raw] of entries) {
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith(".") ||
      name.endsWith(".") ||
      name.includes("..") ||
      /^(aws|amazon)\./i.test(name)
    ) {
      throw invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    const attribute = (raw ?? {}) as Record<string, unknown>;
    const dataType = typeof attribute.DataType === "string" ? attribute.DataType : "";
    const base = dataType.split(".")[0];
    const bad = (why: string) => invalidParameter(`The message attribute '${name}' ${why}`);
    if (base === "String" || base === "Number") {
      const text = attribute.StringValue;
      if (typeof text !== "string" || text === "") {
        throw bad(
          `must contain non-empty message attribute value for message attribute type '${base}'.`,
        );
      }
      if (base === "Number" && (text.trim() === "" || !Number.isFinite(Number(text)))) {
        throw bad("with type 'Number' must be a valid numeric value.");
      }
      out[name] = { DataType: dataType, StringValue: text };
    } else if (base === "Binary") {
      const binary = attribute.BinaryValue;
      if (typeof binary !== "string" || binary === "") {
        throw bad(
          "must contain non-empty message attribute value for message attribute type 'Binary'.",
        );
      }
      // Normalise the base64 so digests and echoes are canonical.
      out[name] = {
        DataType: dataType,
        BinaryValue: Buffer.from(binary, "base64").toString("base64"),
      };
    } else {
      throw bad(
        "has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
      );
    }
  }
  return out;
}

/** What SQS counts against MaximumMessageSize: body plus attribute names, types and values. */
export function messageSize(body: string, attributes: Record<string, SqsAttributeValue>): number {
  let size = Buffer.byteLength(body, "utf8");
  for (const [name, attribute] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(attribute.DataType, "utf8");
    if (attribute.StringValue !== undefined)
      size += Buffer.byteLength(attribute.StringValue, "utf8");
    if (attribute.BinaryValue !== undefined)
      size += Buffer.from(attribute.BinaryValue, "base64").length;
  }
  return size;
}
