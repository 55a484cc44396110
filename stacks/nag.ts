import { Stack } from "aws-cdk-lib";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { NagSuppressions } from "cdk-nag";
import type { IConstruct } from "constructs";

/**
 * cdk-nag (AwsSolutions) findings that are accepted for every Lambda function of the app, each
 * with the reason it is accepted. Resource-specific suppressions live next to their resource.
 */
const LAMBDA_BASELINE = [
  {
    id: "AwsSolutions-L1",
    reason:
      "Functions run nodejs22.x on purpose: the bundles, the local cloud and the test toolchain " +
      "target Node 22; moving to a newer runtime is a deliberate upgrade, not a lint fix.",
  },
  {
    id: "AwsSolutions-IAM4",
    reason: "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch logs.",
    appliesTo: [
      "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ],
  },
  {
    id: "AwsSolutions-IAM5",
    reason:
      "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level scoping " +
      "(active tracing). Table grants name the table and its indexes (stacks/table-access.ts).",
    appliesTo: ["Resource::*"],
  },
];

/** Framework functions SST and CDK add to stacks (custom resources, log retention). */
const FRAMEWORK_FUNCTION = /\/(CustomResourceHandler|LogRetention[0-9a-f]+)(\/|$)/;
const FRAMEWORK_BASELINE = [
  {
    id: "AwsSolutions-L1",
    reason: "Runtime chosen by SST/CDK for their own deployment-time helper function.",
  },
  {
    id: "AwsSolutions-IAM4",
    reason: "SST/CDK deployment-time helper function: AWSLambdaBasicExecutionRole (logs only).",
  },
  {
    id: "AwsSolutions-IAM5",
    reason:
      "CDK's log-retention helper sets retention on log groups whose names are only known at " +
      "deploy time.",
  },
];

export function applyNagBaseline(root: IConstruct): void {
  for (const node of root.node.findAll()) {
    if (node instanceof Stack) continue;
    if (FRAMEWORK_FUNCTION.test(`/${node.node.path}`) && isTopLevelFrameworkNode(node)) {
      NagSuppressions.addResourceSuppressions(node, FRAMEWORK_BASELINE, true);
    } else if (node instanceof LambdaFunction) {
      NagSuppressions.addResourceSuppressions(node, LAMBDA_BASELINE, true);
    }
  }
}

function isTopLevelFrameworkNode(node: IConstruct): boolean {
  const parent = node.node.scope;
  return parent instanceof Stack;
}
