/**
 * Queues: CreateQueue, GetQueueUrl, ListQueues, GetQueueAttributes, SetQueueAttributes,
 * PurgeQueue, DeleteQueue. Standard queues only: FIFO queues are refused with an error that says so.
 */
import { counts, type QueueState, queueAttribute, type SqsOperation, sweepExpired } from "../model";
import {
  invalidParameter,
  optionalInt,
  optionalString,
  queueDoesNotExist,
  requireString,
  sqsError,
  stringList,
  stringMap,
} from "../protocol";
import { validateQueueAttributes } from "../validate";

const PAGE_SIZE = 1000;

export const createQueue: SqsOperation = (state, input, request) => {
  const name = requireString(input, "QueueName");
  if (name.endsWith(".fifo"))
    throw invalidParameter("FIFO queues are not supported by the local SQS.");
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw invalidParameter(
      "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    );
  }
  const attributes = validateQueueAttributes(
    stringMap(input, "Attributes"),
    (arn) => !!state.queueByArn(arn),
  );
  const existing = state.queues.get(name);
  if (existing) {
    // Idempotent by name unless an attribute given differs from the queue's effective value.
    for (const [key, value] of Object.entries(attributes)) {
      if ((queueAttribute(existing, key) ?? "") !== value) {
        throw sqsError(
          "QueueNameExists",
          `A queue already exists with the same name and a different value for attribute ${key}`,
        );
      }
    }
    return { QueueUrl: state.queueUrl(existing, request) };
  }
  const nonEmpty = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== ""));
  state.commit({ op: "createQueue", name, attributes: nonEmpty, at: Date.now() });
  const created = state.queues.get(name)!;
  state.queueCreated(created.arn);
  return { QueueUrl: state.queueUrl(created, request) };
};

export const getQueueUrl: SqsOperation = (state, input, request) => {
  const name = requireString(input, "QueueName");
  const owner = optionalString(input, "QueueOwnerAWSAccountId");
  const queue = !owner || owner === state.accountId ? state.queues.get(name) : undefined;
  if (!queue) throw queueDoesNotExist();
  return { QueueUrl: state.queueUrl(queue, request) };
};

export const listQueues: SqsOperation = (state, input, request) => {
  const prefix = optionalString(input, "QueueNamePrefix") ?? "";
  const max = optionalInt(input, "MaxResults", 1, PAGE_SIZE);
  const names = [...state.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
  const token = optionalString(input, "NextToken");
  const start = token ? Number.parseInt(Buffer.from(token, "base64url").toString("utf8"), 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid NextToken value.");
  // Without MaxResults SQS returns up to 1,000 queues and no token.
  const page = names.slice(start, start + (max ?? PAGE_SIZE));
  const out: { QueueUrls?: string[]; NextToken?: string } = {};
  if (page.length > 0)
    out.QueueUrls = page.map((name) => state.queueUrl(state.queues.get(name)!, request));
  if (max !== undefined && start + page.length < names.length) {
    out.NextToken = Buffer.from(String(start + page.length)).toString("base64url");
  }
  return out;
};

export const getQueueAttributes: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  sweepExpired(queue, Date.now());
  const names = stringList(input, "AttributeNames");
  const all = effectiveAttributes(queue);
  if (names.includes("All")) return { Attributes: all };
  const known = new Set([
    ...Object.keys(all),
    "RedrivePolicy",
    "Policy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
  ]);
  const out: Record<string, string> = {};
  for (const name of names) {
    if (!known.has(name)) throw sqsError("InvalidAttributeName", `Unknown Attribute ${name}.`);
    if (all[name] !== undefined) out[name] = all[name];
  }
  return Object.keys(out).length > 0 ? { Attributes: out } : {};
};

export const setQueueAttributes: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  const attributes = validateQueueAttributes(
    stringMap(input, "Attributes"),
    (arn) => !!state.queueByArn(arn),
  );
  state.commit({ op: "setAttributes", name: queue.name, attributes, at: Date.now() });
  // A shorter delay or a new policy may make messages receivable: let long polls look again.
  state.wake(queue.name);
  return {};
};

export const purgeQueue: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  state.commit({ op: "purge", name: queue.name });
  return {};
};

export const deleteQueue: SqsOperation = (state, input) => {
  const queue = state.queueFor(input);
  state.commit({ op: "deleteQueue", name: queue.name });
  // Long polls on it return empty, as they would once SQS notices the deletion.
  state.wake(queue.name);
  return {};
};

/** Every attribute of a queue, defaults and counts included (also the `queues()` view). */
export function effectiveAttributes(queue: QueueState, now = Date.now()): Record<string, string> {
  const { visible, inFlight, delayed } = counts(queue, now);
  return {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
    CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
    VisibilityTimeout: queueAttribute(queue, "VisibilityTimeout")!,
    MaximumMessageSize: queueAttribute(queue, "MaximumMessageSize")!,
    MessageRetentionPeriod: queueAttribute(queue, "MessageRetentionPeriod")!,
    DelaySeconds: queueAttribute(queue, "DelaySeconds")!,
    ReceiveMessageWaitTimeSeconds: queueAttribute(queue, "ReceiveMessageWaitTimeSeconds")!,
    SqsManagedSseEnabled: "false",
    ...queue.attributes,
  };
}
