/**
 * The scope-down session policy Cognito adds to guest credentials issued by the enhanced flow
 * (GetCredentialsForIdentity). AWS attaches its managed policy
 * `arn:aws:iam::aws:policy/AmazonCognitoUnAuthedIdentitiesSessionPolicy`: the guest's effective
 * permissions are the intersection of the unauthenticated role and that list of services, so an
 * over-broad guest role cannot leak `iam:*`, `sts:*` or `iot:AttachPolicy`. The classic flow
 * (GetOpenIdToken + AssumeRoleWithWebIdentity) applies no such cap ("Identity pools (federated identities) authentication
 * flow", https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html).
 *
 * Locally the policy is recorded on the issued credentials (`sessionPolicy` in STS) and intersected
 * with the role's policies wherever the local cloud evaluates IAM: the HTTP API's IAM authorizer
 * and the IoT data plane (docs/local-cognito-identity.md, "Guest scope-down"). This is an approximation of the managed policy, not a copy:
 * the services this project uses (IoT data plane, execute-api, DynamoDB, Kinesis, SNS publish)
 * plus the AI/ML and analytics services the published document opens with (checked 2026-11: only
 * its first entries were verified). No IAM, STS or IoT control-plane action is ever included.
 * STS caps session policies at 2,048 characters, so it stays compact.
 */
const GUEST_ACTIONS = [
  "cognito-identity:*",
  "cognito-sync:*",
  "mobileanalytics:PutEvents",
  "mobiletargeting:*",
  "rum:PutRumEvents",
  "firehose:*",
  "kinesis:*",
  "dynamodb:*",
  "s3:*",
  "sqs:*",
  "sns:CreatePlatformEndpoint",
  "sns:Publish",
  "lambda:InvokeFunction",
  "execute-api:Invoke",
  "iot:Connect",
  "iot:Publish",
  "iot:Subscribe",
  "iot:Receive",
  "iot:GetThingShadow",
  "iot:UpdateThingShadow",
  "iot:DeleteThingShadow",
  "polly:*",
  "comprehend:*",
  "translate:*",
  "transcribe:*",
  "rekognition:*",
  "personalize:*",
  "sagemaker:InvokeEndpoint",
  "lex:*",
  "geo:GetMap*",
  "geo:SearchPlaceIndex*",
  "geo:GetPlace",
  "geo:CalculateRoute*",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:GenerateDataKey*",
];

export const GUEST_SESSION_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "CognitoUnAuthedIdentitiesSessionPolicy",
      Effect: "Allow",
      Action: GUEST_ACTIONS,
      Resource: "*",
    },
  ],
});
