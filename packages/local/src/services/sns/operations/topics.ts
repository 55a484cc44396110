/**
 * Topics: CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes.
 * Standard topics only: FIFO topics are refused with an error that says so.
 */
import { AwsServiceError } from "../../../protocol/errors";
import { queryResponse, readEntryMap, requireParam, xmlEntryMap } from "../../../protocol/query";
import {
  paginate,
  parseJsonAttribute,
  SETTABLE_TOPIC_ATTRIBUTES,
  type SnsContext,
  type SnsOperation,
  type Topic,
  validateArn,
  XMLNS,
} from "../model";

const DEFAULT_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: "linear",
    },
    disableSubscriptionOverrides: false,
  },
});

export const createTopic: SnsOperation = ({ state, accountId, options }, params, request) => {
  const name = requireParam(params, "Name");
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
    if (name.endsWith(".fifo")) {
      throw new AwsServiceError(
        "InvalidParameter",
        "Invalid parameter: FIFO topics are not supported by the local SNS",
      );
    }
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: Topic Name");
  }
  const attributes = readEntryMap(params, "Attributes");
  if (attributes.FifoTopic === "true") {
    throw new AwsServiceError(
      "InvalidParameter",
      "Invalid parameter: FIFO topics are not supported by the local SNS",
    );
  }
  delete attributes.FifoTopic;
  for (const key of Object.keys(attributes)) {
    if (!SETTABLE_TOPIC_ATTRIBUTES.has(key)) {
      throw new AwsServiceError("InvalidParameter", "Invalid parameter: AttributeName");
    }
  }
  const arn = `arn:aws:sns:${options.region}:${accountId}:${name}`;
  const existing = state.topics.get(arn);
  if (existing) {
    // CreateTopic is idempotent by name, unless the caller asks for different attributes.
    for (const [key, value] of Object.entries(attributes)) {
      if ((existing.attributes[key] ?? "") !== value) {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        );
      }
    }
  } else {
    state.commit({ op: "createTopic", arn, name, attributes });
  }
  return queryResponse("CreateTopic", XMLNS, request.requestId, { TopicArn: arn });
};

export const deleteTopic: SnsOperation = ({ state }, params, request) => {
  const arn = requireParam(params, "TopicArn");
  validateArn(arn, "TopicArn");
  // Deleting a topic that does not exist is not an error in SNS.
  if (state.topics.has(arn)) state.commit({ op: "deleteTopic", arn });
  return queryResponse("DeleteTopic", XMLNS, request.requestId);
};

export const listTopics: SnsOperation = ({ state }, params, request) => {
  const { page, next } = paginate([...state.topics.keys()].sort(), params.get("NextToken"));
  return queryResponse("ListTopics", XMLNS, request.requestId, {
    Topics: page.map((arn) => ({ TopicArn: arn })),
    NextToken: next,
  });
};

export const getTopicAttributes: SnsOperation = (ctx, params, request) => {
  const topic = ctx.state.requireTopic(requireParam(params, "TopicArn"));
  return queryResponse("GetTopicAttributes", XMLNS, request.requestId, {
    Attributes: xmlEntryMap(topicAttributes(ctx, topic)),
  });
};

export const setTopicAttributes: SnsOperation = ({ state }, params, request) => {
  const topic = state.requireTopic(requireParam(params, "TopicArn"));
  const name = requireParam(params, "AttributeName");
  if (!SETTABLE_TOPIC_ATTRIBUTES.has(name)) {
    throw new AwsServiceError("InvalidParameter", "Invalid parameter: AttributeName");
  }
  const value = params.get("AttributeValue") ?? "";
  if ((name === "Policy" || name === "DeliveryPolicy") && value !== "")
    parseJsonAttribute(name, value);
  state.commit({ op: "setTopicAttribute", arn: topic.arn, name, value });
  return queryResponse("SetTopicAttributes", XMLNS, request.requestId);
};

function topicAttributes({ state, accountId }: SnsContext, topic: Topic): Record<string, string> {
  const subs = [...state.subscriptions.values()].filter((s) => s.topicArn === topic.arn);
  return {
    TopicArn: topic.arn,
    Owner: accountId,
    Policy: defaultTopicPolicy(topic.arn, accountId),
    DisplayName: "",
    SubscriptionsConfirmed: String(subs.filter((s) => !s.pendingToken).length),
    SubscriptionsPending: String(subs.filter((s) => s.pendingToken).length),
    SubscriptionsDeleted: "0",
    EffectiveDeliveryPolicy: DEFAULT_DELIVERY_POLICY,
    ...topic.attributes,
  };
}

function defaultTopicPolicy(arn: string, accountId: string): string {
  return JSON.stringify({
    Version: "2008-10-17",
    Id: "__default_policy_ID",
    Statement: [
      {
        Sid: "__default_statement_ID",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          "SNS:GetTopicAttributes",
          "SNS:SetTopicAttributes",
          "SNS:AddPermission",
          "SNS:RemovePermission",
          "SNS:DeleteTopic",
          "SNS:Subscribe",
          "SNS:ListSubscriptionsByTopic",
          "SNS:Publish",
        ],
        Resource: arn,
        Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
      },
    ],
  });
}
