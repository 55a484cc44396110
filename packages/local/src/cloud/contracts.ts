/**
 * The seams between the parts of the local cloud (`npm start`): the provisioner reads the
 * synthesized CloudFormation and builds these; the Lambda runtime, the HTTP API, the MQTT broker
 * and the event-source pollers consume them. Keeping them here lets each part be built and tested
 * on its own against the real others.
 */

/** An IAM policy document as CloudFormation and IAM carry it. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
  Principal?: unknown;
}

/** An IAM role as the template declares it, intrinsics resolved to local names and ARNs. */
export interface LocalRole {
  name: string;
  arn: string;
  trustPolicy: PolicyDocument;
  /** Inline policies and `AWS::IAM::Policy` resources attached to the role (identity policies). */
  policies: PolicyDocument[];
  /** Managed policy ARNs (AWS-managed ones are not evaluated locally; see docs/local-cloud.md). */
  managedPolicyArns: string[];
}

/** Looks up roles by ARN (and by the assumed-role session ARN STS issued). */
export interface IamDirectory {
  role(roleArn: string): LocalRole | undefined;
  roles(): LocalRole[];
}

type InvocationType = "RequestResponse" | "Event";

export interface InvokeOptions {
  invocationType?: InvocationType;
  /** Caps the function's configured timeout for this one call. */
  timeoutMs?: number;
  /** Shown in logs and the console: `cognito-idp`, `sns`, `kinesis`, `sqs`, `apigateway`, ... */
  source?: string;
}

export type InvokeResult =
  | { ok: true; payload: unknown; requestId: string; durationMs: number }
  | {
      ok: false;
      /** `Runtime.TimeoutError`, `Runtime.ExitError`, or the handler's error name. */
      errorType: string;
      errorMessage: string;
      requestId: string;
      durationMs: number;
      timedOut: boolean;
    };

/** Runs a function by name or ARN; never throws for a handler failure (see `ok`). */
export interface LambdaInvoker {
  invoke(functionNameOrArn: string, event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
}
