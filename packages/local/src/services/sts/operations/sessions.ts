/**
 * Minting a session: the credentials AssumeRoleWithWebIdentity answers with, and that the local
 * identity pool mints directly when it skips trust checks. Every session is journaled, so the edge
 * can map an access key back to its role, subject and identity.
 */

import { createHash, randomBytes } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import {
  type IssueCredentialsInput,
  type IssuedCredentials,
  MAX_SESSION_POLICY_CHARS,
  MIN_DURATION,
  roleName,
} from "../model";
import type { StsState } from "../state";

export function issueCredentials(state: StsState, input: IssueCredentialsInput): IssuedCredentials {
  if (!/^[\w+=,.@-]{2,64}$/.test(input.sessionName)) {
    throw new AwsServiceError(
      "ValidationError",
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  if (
    !Number.isInteger(input.durationSeconds) ||
    input.durationSeconds < MIN_DURATION ||
    input.durationSeconds > 43_200
  ) {
    throw new AwsServiceError(
      "ValidationError",
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    );
  }
  if (input.sessionPolicy !== undefined) validateSessionPolicy(input.sessionPolicy);
  const name = roleName(input.roleArn);
  const issued: IssuedCredentials = {
    accessKeyId: `ASIA${randomId(16)}`,
    secretAccessKey: randomBytes(30).toString("base64").replace(/[+/]/g, "A").slice(0, 40),
    sessionToken: randomBytes(96).toString("base64"),
    roleArn: input.roleArn,
    assumedRoleArn: `arn:aws:sts::${state.accountId}:assumed-role/${name}/${input.sessionName}`,
    assumedRoleId: `${roleId(input.roleArn)}:${input.sessionName}`,
    subject: input.subject,
    // STS returns whole seconds.
    expiration: new Date(Math.floor(state.now() / 1000) * 1000 + input.durationSeconds * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z"),
  };
  if (input.identityId !== undefined) issued.identityId = input.identityId;
  if (input.sessionPolicy !== undefined) issued.sessionPolicy = input.sessionPolicy;
  if (input.cognitoIdentity !== undefined) {
    issued.cognitoIdentity = {
      identityPoolId: input.cognitoIdentity.identityPoolId,
      amr: [...input.cognitoIdentity.amr],
    };
  }
  state.commit({ op: "issue", credentials: issued });
  return issued;
}

function validateSessionPolicy(policy: string): void {
  try {
    JSON.parse(policy);
  } catch {
    throw new AwsServiceError(
      "MalformedPolicyDocument",
      "The policy is not in the valid JSON format.",
    );
  }
  if (policy.length > MAX_SESSION_POLICY_CHARS) {
    throw new AwsServiceError(
      "PackedPolicyTooLarge",
      "Packed size of the session policy exceeds the limit.",
    );
  }
}

/** Rough percentage of the packed-policy budget, as STS reports it. */
export function packedPolicySize(policy: string): number {
  return Math.min(
    100,
    Math.ceil((policy.replace(/\s+/g, "").length / MAX_SESSION_POLICY_CHARS) * 100),
  );
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

/** Stable per role (IAM role ids never change): `AROA` + 17 characters derived from the ARN. */
function roleId(arn: string): string {
  const digest = createHash("sha256").update(arn).digest();
  let out = "AROA";
  for (let i = 0; i < 17; i++) out += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return out;
}
