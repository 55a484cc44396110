/** Reading a Kinesis request's JSON members with the API reference's constraints. */
import { LOCAL_ACCOUNT_ID } from "../../../types";
import { invalidArgument, validation } from "../model";

export type Body = Record<string, unknown>;

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

/** The stream a request names by `StreamName` or `StreamARN` (both allowed if they agree). */
export function streamNameOf(body: Body, region: string): string {
  const name = body.StreamName;
  const arn = body.StreamARN;
  if (name !== undefined && (typeof name !== "string" || !STREAM_NAME.test(name))) {
    throw validation(
      "streamName",
      name,
      "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 128",
    );
  }
  if (arn === undefined) {
    if (name === undefined) {
      throw invalidArgument("Either StreamName or StreamARN should be provided.");
    }
    return name as string;
  }
  const match = typeof arn === "string" ? STREAM_ARN.exec(arn) : null;
  if (!match) {
    throw validation(
      "streamARN",
      arn,
      "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
    );
  }
  if (match[1] !== region || match[2] !== LOCAL_ACCOUNT_ID) {
    throw invalidArgument(`StreamARN ${arn} is not in account ${LOCAL_ACCOUNT_ID}, ${region}.`);
  }
  if (name !== undefined && name !== match[3]) {
    throw invalidArgument("StreamName and StreamARN name different streams.");
  }
  return match[3]!;
}

export function requiredString(
  body: Body,
  member: string,
  limits: { min?: number; max: number; pattern?: RegExp },
): string {
  const value = body[member];
  const field = member[0]!.toLowerCase() + member.slice(1);
  if (typeof value !== "string") {
    throw validation(field, value, "Member must not be null");
  }
  const length = [...value].length;
  if (length < (limits.min ?? 1) || length > limits.max) {
    throw validation(
      field,
      value,
      `Member must have length between ${limits.min ?? 1} and ${limits.max}`,
    );
  }
  if (limits.pattern && !limits.pattern.test(value)) {
    throw validation(
      field,
      value,
      `Member must satisfy regular expression pattern: ${limits.pattern.source}`,
    );
  }
  return value;
}

export function optionalInteger(
  body: Body,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  const field = member[0]!.toLowerCase() + member.slice(1);
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw validation(field, value, "Member must be an integer");
  }
  if (value < min)
    throw validation(field, value, `Member must have value greater than or equal to ${min}`);
  if (value > max)
    throw validation(field, value, `Member must have value less than or equal to ${max}`);
  return value;
}

export const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;
export const HASH_KEY = /^(0|[1-9]\d{0,38})$/;
