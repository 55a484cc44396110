import { CfnPolicy } from "aws-cdk-lib/aws-iot";
import type { StackContext } from "sst/constructs";
import { IDENTITY_ID_VARIABLE, IOT_TOPIC_ROOT } from "./config";

/**
 * The IoT half of device authorization: one policy, attached server-side to each signed-in
 * identity id. Policy variables confine a connection to its own client id and topics; IoT
 * allows only what both this policy and the role's IAM policy allow.
 */
export function Iot({ stack, app }: StackContext) {
  const iotArn = (resource: string) =>
    `arn:${stack.partition}:iot:${stack.region}:${stack.account}:${resource}`;
  const ownTopics = `${IOT_TOPIC_ROOT}/${IDENTITY_ID_VARIABLE}/*`;

  const policyName = `${app.stage}-boarding-pass-identity`;
  const policy = new CfnPolicy(stack, "IdentityPolicy", {
    policyName,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "iot:Connect",
          Resource: iotArn(`client/${IDENTITY_ID_VARIABLE}`),
        },
        {
          Effect: "Allow",
          Action: ["iot:Publish", "iot:Receive"],
          Resource: iotArn(`topic/${ownTopics}`),
        },
        {
          Effect: "Allow",
          Action: "iot:Subscribe",
          Resource: iotArn(`topicfilter/${ownTopics}`),
        },
      ],
    },
  });

  stack.addOutputs({ IotPolicyName: policyName, IotTopicRoot: IOT_TOPIC_ROOT });
  return {
    iotPolicy: policy,
    iotPolicyName: policyName,
    iotPolicyArn: iotArn(`policy/${policyName}`),
  };
}
