/**
 * What the local STS records (roles, issuers' keys, issued credentials) and the shapes of its
 * in-process API, with the limits IAM and STS document.
 */
import type { Jwks } from "./jwt";
import type { parseTrustPolicy } from "./trust";

export const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
export const MIN_DURATION = 900;
export const DEFAULT_DURATION = 3600;
export const DEFAULT_MAX_SESSION = 3600;
export const MAX_SESSION_POLICY_CHARS = 2048;
/** Issued credentials are kept this long past expiry (lookups still explain "expired"). */
export const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export interface RoleDefinition {
  arn: string;
  /** IAM trust policy document (JSON string or object). */
  trustPolicy: string | object;
  /** Seconds, 3600 to 43200; default 3600 as in IAM. */
  maxSessionDuration?: number;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  assumedRoleArn: string;
  assumedRoleId: string;
  subject: string;
  identityId?: string;
  sessionPolicy?: string;
  /**
   * A Cognito identity session's `aud` (the identity pool) and `amr`, as its OpenID token carried
   * them: AWS fixes both in the session when it is issued, and IAM reads them from there.
   */
  cognitoIdentity?: { identityPoolId: string; amr: string[] };
  /** ISO-8601. */
  expiration: string;
}

export interface IssueCredentialsInput {
  roleArn: string;
  sessionName: string;
  subject: string;
  identityId?: string;
  sessionPolicy?: string;
  cognitoIdentity?: { identityPoolId: string; amr: string[] };
  durationSeconds: number;
}

export interface AssumeRoleWithWebIdentityInput {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds?: number;
  policy?: string;
}

export interface AssumeRoleWithWebIdentityOutput {
  credentials: IssuedCredentials;
  provider: string;
  audience: string;
  subject: string;
}

export type StsJournalRecord =
  | { op: "putRole"; role: { arn: string; trustPolicy: string; maxSessionDuration: number } }
  | { op: "registerJwks"; provider: string; jwks: Jwks }
  | { op: "issue"; credentials: IssuedCredentials };

export interface Role {
  arn: string;
  name: string;
  trustPolicy: string;
  statements: ReturnType<typeof parseTrustPolicy>;
  maxSessionDuration: number;
}

/** `role/path/Name` → `Name` */
export function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
