/**
 * Publishing: Publish and PublishBatch, with SNS's checks of the message, the subject, the JSON
 * message structure and the message attributes. An accepted message is journaled with the
 * subscriptions it matched before the answer (see `SnsPublisher.fanOut`).
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  listItems,
  nested,
  type ParamTree,
  queryResponse,
  requireParam,
  type XmlValue,
} from "../../../protocol/query";
import {
  MAX_BATCH_ENTRIES,
  MAX_MESSAGE_ATTRIBUTES,
  MAX_MESSAGE_BYTES,
  type MessageAttribute,
  type PublishInput,
  type SnsOperation,
  XMLNS,
} from "../model";

export const publish: SnsOperation = ({ state, publisher }, params, request) => {
  const arn = params.get("TopicArn") || params.get("TargetArn");
  if (!arn) {
    if (params.get("PhoneNumber")) {
      throw new AwsServiceError(
        "InvalidParameter",
        "Invalid parameter: SMS is not supported by the local SNS",
      );
    }
    throw new AwsServiceError(
      "InvalidParameter",
      "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
    );
  }
  const topic = state.requireTopic(arn);
  const input = readPublishInput(params, "");
  const messageId = randomUUID();
  publisher.fanOut(topic, messageId, input);
  return queryResponse("Publish", XMLNS, request.requestId, { MessageId: messageId });
};

export const publishBatch: SnsOperation = ({ state, publisher }, params, request) => {
  const topic = state.requireTopic(requireParam(params, "TopicArn"));
  const entries = listItems(nested(params, "PublishBatchRequestEntries"), "member");
  if (entries.length === 0) {
    throw new AwsServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries");
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new AwsServiceError(
      "TooManyEntriesInBatchRequest",
      `The batch request contains more entries than permissible (${MAX_BATCH_ENTRIES})`,
    );
  }
  const ids = entries.map((e) => (typeof e.Id === "string" ? e.Id : ""));
  for (const id of ids) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new AwsServiceError(
        "InvalidBatchEntryId",
        `The Id of a batch entry in a batch request doesn't abide by the specification: ${id}`,
      );
    }
  }
  if (new Set(ids).size !== ids.length) {
    throw new AwsServiceError(
      "BatchEntryIdsNotDistinct",
      "Two or more batch entries in the request have the same Id.",
    );
  }
  const inputs = entries.map((entry) => {
    try {
      return readPublishInput(entryParams(entry), "");
    } catch (err) {
      return err instanceof AwsServiceError
        ? err
        : new AwsServiceError("InternalError", String(err), { status: 500 });
    }
  });
  const total = inputs.reduce(
    (sum, i) => sum + (i instanceof AwsServiceError ? 0 : publishSize(i)),
    0,
  );
  if (total > MAX_MESSAGE_BYTES) {
    throw new AwsServiceError(
      "BatchRequestTooLong",
      `The length of all the messages put together is more than the limit (${MAX_MESSAGE_BYTES} bytes).`,
    );
  }
  const successful: XmlValue[] = [];
  const failed: XmlValue[] = [];
  inputs.forEach((input, index) => {
    const id = ids[index]!;
    if (input instanceof AwsServiceError) {
      failed.push({
        Id: id,
        Code: input.code,
        Message: input.message,
        SenderFault: input.fault === "client",
      });
      return;
    }
    const messageId = randomUUID();
    publisher.fanOut(topic, messageId, input);
    successful.push({ Id: id, MessageId: messageId });
  });
  return queryResponse("PublishBatch", XMLNS, request.requestId, {
    Successful: successful,
    Failed: failed,
  });
};

/** Reads Publish's (or a batch entry's) message fields, validated as SNS does. */
function readPublishInput(params: URLSearchParams, prefix: string): PublishInput {
  const message = params.get(`${prefix}Message`);
  if (message === null || message === "") {
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: Empty message");
  }
  const subject = params.get(`${prefix}Subject`) ?? undefined;
  if (
    subject !== undefined &&
    (subject.length === 0 || subject.length > 100 || /[\r\n]/.test(subject))
  ) {
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: Subject");
  }
  const messageStructure = params.get(`${prefix}MessageStructure`) ?? undefined;
  if (messageStructure !== undefined) {
    if (messageStructure !== "json") {
      throw new AwsServiceError("InvalidParameter", "Invalid parameter: MessageStructure");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw new AwsServiceError(
        "InvalidParameter",
        "Invalid parameter: Message Structure - JSON message body failed to parse",
      );
    }
    const record = parsed as Record<string, unknown> | null;
    if (!record || typeof record !== "object" || typeof record.default !== "string") {
      throw new AwsServiceError(
        "InvalidParameter",
        "Invalid parameter: Message Structure - No default entry in JSON message body",
      );
    }
  }
  const attributes = readMessageAttributes(params, `${prefix}MessageAttributes`);
  const input: PublishInput = { message, attributes };
  if (subject !== undefined) input.subject = subject;
  if (messageStructure !== undefined) input.messageStructure = messageStructure;
  if (publishSize(input) > MAX_MESSAGE_BYTES) {
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: Message too long");
  }
  return input;
}

function readMessageAttributes(
  params: URLSearchParams,
  prefix: string,
): Record<string, MessageAttribute> {
  const out: Record<string, MessageAttribute> = {};
  const entries = listItems(nested(params, prefix), "entry");
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new AwsServiceError(
      "InvalidParameter",
      `Invalid parameter: Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  for (const entry of entries) {
    const name = entry.Name;
    const value = entry.Value;
    if (
      typeof name !== "string" ||
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      typeof value !== "object"
    ) {
      throw new AwsServiceError("InvalidParameter", "Invalid parameter: MessageAttributes");
    }
    out[name] = validateAttribute(name, value);
  }
  return out;
}

function validateAttribute(name: string, value: ParamTree): MessageAttribute {
  const dataType = typeof value.DataType === "string" ? value.DataType : "";
  const base = dataType.split(".")[0];
  const stringValue = typeof value.StringValue === "string" ? value.StringValue : undefined;
  const binaryValue = typeof value.BinaryValue === "string" ? value.BinaryValue : undefined;
  const bad = (why: string) =>
    new AwsServiceError("ParameterValueInvalid", `The message attribute '${name}' ${why}`);
  if (dataType.startsWith("String.Array")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stringValue ?? "");
    } catch {
      throw bad("with type 'String.Array' must be a JSON array.");
    }
    if (!Array.isArray(parsed)) throw bad("with type 'String.Array' must be a JSON array.");
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "String") {
    if (stringValue === undefined || stringValue === "")
      throw bad(
        "must contain non-empty message attribute value for message attribute type 'String'.",
      );
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "Number") {
    if (
      stringValue === undefined ||
      !Number.isFinite(Number(stringValue)) ||
      stringValue.trim() === ""
    ) {
      throw bad("with type 'Number' must be a valid numeric value.");
    }
    return { DataType: dataType, StringValue: stringValue };
  }
  if (base === "Binary") {
    if (binaryValue === undefined || binaryValue === "")
      throw bad(
        "must contain non-empty message attribute value for message attribute type 'Binary'.",
      );
    return { DataType: dataType, BinaryValue: binaryValue };
  }
  throw bad(
    `has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
  );
}

/** SNS counts the message, the attribute names, types and values against the 256 KiB limit. */
function publishSize(input: PublishInput): number {
  let size = Buffer.byteLength(input.message, "utf8");
  for (const [name, attr] of Object.entries(input.attributes)) {
    size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(attr.DataType, "utf8");
    size += attr.StringValue !== undefined ? Buffer.byteLength(attr.StringValue, "utf8") : 0;
    size += attr.BinaryValue !== undefined ? Buffer.from(attr.BinaryValue, "base64").length : 0;
  }
  return size;
}

/** `PublishBatchRequestEntries.member.N.*` as flat params, so the Publish reader can be reused. */
function entryParams(entry: ParamTree): URLSearchParams {
  const out = new URLSearchParams();
  const walk = (node: ParamTree, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === "string") out.set(path, value);
      else walk(value, path);
    }
  };
  walk(entry, "");
  return out;
}
