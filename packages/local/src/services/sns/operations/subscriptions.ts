/**
 * Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions,
 * ListSubscriptionsByTopic, GetSubscriptionAttributes, SetSubscriptionAttributes.
 *
 * HTTP(S) subscriptions start pending and are confirmed through SNS's handshake (the endpoint is
 * POSTed a `SubscriptionConfirmation` whose `SubscribeURL` calls ConfirmSubscription), unless the
 * service runs with `httpConfirmation: "auto"`.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  queryResponse,
  readEntryMap,
  requireParam,
  type XmlValue,
  xmlEntryMap,
} from "../../../protocol/query";
import type { ServiceRequest, ServiceResponse } from "../../../types";
import { FilterPolicyError, type FilterPolicyScope, parseFilterPolicy } from "../filter";
import {
  PROTOCOLS,
  paginate,
  parseJsonAttribute,
  SETTABLE_SUBSCRIPTION_ATTRIBUTES,
  type SnsContext,
  type SnsJournalRecord,
  type SnsOperation,
  type SnsProtocol,
  type Subscription,
  scopeOf,
  validateEndpoint,
  XMLNS,
} from "../model";

export const subscribe: SnsOperation = ({ state, publisher, options }, params, request) => {
  const requestId = request.requestId;
  const topic = state.requireTopic(requireParam(params, "TopicArn"));
  const protocol = requireParam(params, "Protocol").toLowerCase() as SnsProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new AwsServiceError(
      "InvalidParameter",
      `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
    );
  }
  const endpoint = params.get("Endpoint") ?? "";
  validateEndpoint(protocol, endpoint);
  const attributes = readEntryMap(params, "Attributes");
  for (const [key, value] of Object.entries(attributes)) {
    validateSubscriptionAttribute(protocol, key, value, attributes);
  }
  const existing = [...state.subscriptions.values()].find(
    (s) => s.topicArn === topic.arn && s.protocol === protocol && s.endpoint === endpoint,
  );
  if (existing) {
    // Same endpoint again: SNS returns the existing subscription, unless attributes differ.
    for (const [key, value] of Object.entries(attributes)) {
      if ((existing.attributes[key] ?? "") !== value) {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
        );
      }
    }
    if (existing.pendingToken) {
      // Subscribing again while pending resends the confirmation, as SNS does.
      publisher.requestConfirmation(existing, baseUrl(options.publicEndpoint, request));
      return subscribeResponse(existing, params, requestId);
    }
    return queryResponse("Subscribe", XMLNS, requestId, { SubscriptionArn: existing.arn });
  }
  const arn = `${topic.arn}:${randomUUID()}`;
  const handshake =
    (protocol === "http" || protocol === "https") && options.httpConfirmation !== "auto";
  const record: SnsJournalRecord = {
    op: "subscribe",
    arn,
    topicArn: topic.arn,
    protocol,
    endpoint,
    attributes,
  };
  if (handshake) record.pendingToken = randomBytes(64).toString("hex");
  state.commit(record);
  const sub = state.subscriptions.get(arn)!;
  if (handshake) publisher.requestConfirmation(sub, baseUrl(options.publicEndpoint, request));
  return subscribeResponse(sub, params, requestId);
};

export const confirmSubscription: SnsOperation = ({ state }, params, request) => {
  const requestId = request.requestId;
  const topic = state.requireTopic(requireParam(params, "TopicArn"));
  const token = requireParam(params, "Token");
  const pending = [...state.subscriptions.values()].find(
    (s) => s.topicArn === topic.arn && s.pendingToken === token,
  );
  if (pending) {
    state.confirmedTokens.set(token, pending.arn);
    state.commit({ op: "confirmSubscription", arn: pending.arn });
    return queryResponse("ConfirmSubscription", XMLNS, requestId, {
      SubscriptionArn: pending.arn,
    });
  }
  // Visiting the SubscribeURL twice is harmless; any other token is invalid.
  const confirmedArn = state.confirmedTokens.get(token);
  if (confirmedArn && state.subscriptions.get(confirmedArn)?.topicArn === topic.arn) {
    return queryResponse("ConfirmSubscription", XMLNS, requestId, {
      SubscriptionArn: confirmedArn,
    });
  }
  throw new AwsServiceError("InvalidParameter", "Invalid token");
};

export const unsubscribe: SnsOperation = ({ state }, params, request) => {
  const sub = state.requireSubscription(requireParam(params, "SubscriptionArn"));
  state.commit({ op: "unsubscribe", arn: sub.arn });
  return queryResponse("Unsubscribe", XMLNS, request.requestId);
};

export const listSubscriptions: SnsOperation = (ctx, params, request) => {
  const all = [...ctx.state.subscriptions.values()].sort((a, b) => a.arn.localeCompare(b.arn));
  const { page, next } = paginate(all, params.get("NextToken"));
  return queryResponse("ListSubscriptions", XMLNS, request.requestId, {
    Subscriptions: page.map((sub) => subscriptionSummary(ctx, sub)),
    NextToken: next,
  });
};

export const listSubscriptionsByTopic: SnsOperation = (ctx, params, request) => {
  const topic = ctx.state.requireTopic(requireParam(params, "TopicArn"));
  const all = [...ctx.state.subscriptions.values()]
    .filter((s) => s.topicArn === topic.arn)
    .sort((a, b) => a.arn.localeCompare(b.arn));
  const { page, next } = paginate(all, params.get("NextToken"));
  return queryResponse("ListSubscriptionsByTopic", XMLNS, request.requestId, {
    Subscriptions: page.map((sub) => subscriptionSummary(ctx, sub)),
    NextToken: next,
  });
};

export const getSubscriptionAttributes: SnsOperation = (ctx, params, request) => {
  const sub = ctx.state.requireSubscription(requireParam(params, "SubscriptionArn"));
  return queryResponse("GetSubscriptionAttributes", XMLNS, request.requestId, {
    Attributes: xmlEntryMap(subscriptionAttributes(ctx, sub)),
  });
};

export const setSubscriptionAttributes: SnsOperation = ({ state }, params, request) => {
  const sub = state.requireSubscription(requireParam(params, "SubscriptionArn"));
  const name = requireParam(params, "AttributeName");
  const value = params.get("AttributeValue") ?? "";
  validateSubscriptionAttribute(sub.protocol, name, value, { ...sub.attributes, [name]: value });
  state.commit({ op: "setSubscriptionAttribute", arn: sub.arn, name, value });
  return queryResponse("SetSubscriptionAttributes", XMLNS, request.requestId);
};

/** Every attribute of a subscription, defaults included (also the control route's view). */
export function subscriptionAttributes(
  { accountId }: SnsContext,
  sub: Subscription,
): Record<string, string> {
  const out: Record<string, string> = {
    SubscriptionArn: sub.arn,
    TopicArn: sub.topicArn,
    Owner: accountId,
    Protocol: sub.protocol,
    Endpoint: sub.endpoint,
    ConfirmationWasAuthenticated: "true",
    PendingConfirmation: sub.pendingToken ? "true" : "false",
    RawMessageDelivery: "false",
    SubscriptionPrincipal: `arn:aws:iam::${accountId}:root`,
    ...sub.attributes,
  };
  if (out.FilterPolicy && !out.FilterPolicyScope) out.FilterPolicyScope = "MessageAttributes";
  return out;
}

function subscriptionSummary({ accountId }: SnsContext, s: Subscription): XmlValue {
  return {
    // Pending subscriptions are listed without their ARN, as in SNS.
    SubscriptionArn: s.pendingToken ? "PendingConfirmation" : s.arn,
    Owner: accountId,
    Protocol: s.protocol,
    Endpoint: s.endpoint,
    TopicArn: s.topicArn,
  };
}

/** Pending subscriptions answer "pending confirmation" unless ReturnSubscriptionArn=true. */
function subscribeResponse(
  sub: Subscription,
  params: URLSearchParams,
  requestId: string,
): ServiceResponse {
  const arn =
    sub.pendingToken && params.get("ReturnSubscriptionArn") !== "true"
      ? "pending confirmation"
      : sub.arn;
  return queryResponse("Subscribe", XMLNS, requestId, { SubscriptionArn: arn });
}

function baseUrl(publicEndpoint: string | undefined, request: ServiceRequest): string {
  if (publicEndpoint) return publicEndpoint.replace(/\/+$/, "");
  return `http://${request.headers.host ?? "127.0.0.1"}`;
}

function validateSubscriptionAttribute(
  protocol: SnsProtocol,
  name: string,
  value: string,
  all: Record<string, string>,
): void {
  if (!SETTABLE_SUBSCRIPTION_ATTRIBUTES.has(name)) {
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: AttributeName");
  }
  switch (name) {
    case "RawMessageDelivery":
      if (value !== "true" && value !== "false") {
        throw new AwsServiceError("InvalidParameter", "Invalid parameter: RawMessageDelivery");
      }
      if (value === "true" && protocol === "lambda") {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.",
        );
      }
      return;
    case "FilterPolicyScope":
      if (value !== "MessageAttributes" && value !== "MessageBody") {
        throw new AwsServiceError("InvalidParameter", "Invalid parameter: FilterPolicyScope");
      }
      if (all.FilterPolicy) checkFilterPolicy(all.FilterPolicy, value);
      return;
    case "FilterPolicy":
      if (value !== "") checkFilterPolicy(value, scopeOf(all));
      return;
    case "RedrivePolicy": {
      if (value === "") return;
      const policy = parseJsonAttribute(name, value) as { deadLetterTargetArn?: unknown };
      const target = policy?.deadLetterTargetArn;
      if (
        typeof target !== "string" ||
        !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(target)
      ) {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN",
        );
      }
      return;
    }
    case "DeliveryPolicy":
      if (value !== "") parseJsonAttribute(name, value);
      return;
  }
}

function checkFilterPolicy(policy: string, scope: FilterPolicyScope): void {
  try {
    parseFilterPolicy(policy, scope);
  } catch (err) {
    if (err instanceof FilterPolicyError) {
      throw new AwsServiceError(
        "InvalidParameter",
        `Invalid parameter: FilterPolicy: ${err.message}`,
      );
    }
    throw err;
  }
}
