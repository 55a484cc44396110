/**
 * Emulated AWS STS (query protocol, API version 2011-06-15).
 *
 * - AssumeRoleWithWebIdentity (unsigned): verifies the RS256 token against a JWKS registered for
 *   its issuer, checks expiry, evaluates the role's trust policy, and issues session credentials.
 * - GetCallerIdentity (signed): answers for the request's access key: an issued session, or the
 *   account root for dummy keys such as `test`.
 * - `issueCredentials` lets the local identity pool mint credentials directly (enhanced flow).
 *
 * Every issued credential is recorded (and journaled with `dataDir`) so the edge and other
 * services can map an access key back to its role, subject and identity (`lookupCredentials`).
 *
 * This file creates the service and dispatches by action; the actions are in operations/ by AWS
 * name (sessions.ts mints the credentials both flows hand out), the journaled state in state.ts,
 * token verification in jwt.ts and trust-policy evaluation in trust.ts.
 */

import { AwsServiceError } from "../../protocol/errors";
import { readQueryParams, runQueryAction } from "../../protocol/query";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import { type Jwks, providerName } from "./jwt";
import {
  type AssumeRoleWithWebIdentityInput,
  type AssumeRoleWithWebIdentityOutput,
  DEFAULT_MAX_SESSION,
  type IssueCredentialsInput,
  type IssuedCredentials,
  type RoleDefinition,
  XMLNS,
} from "./model";
import {
  assumeRoleWithWebIdentity,
  assumeRoleWithWebIdentityAction,
} from "./operations/assume-role-with-web-identity";
import { getCallerIdentity } from "./operations/get-caller-identity";
import { issueCredentials } from "./operations/sessions";
import { StsState } from "./state";
import { parseTrustPolicy, TrustPolicyError } from "./trust";

export type { Jwks } from "./jwt";
export type { IssuedCredentials } from "./model";

interface StsServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /** Clock, injectable for tests (ms since epoch). */
  now?: () => number;
}

export interface StsService extends LocalService {
  readonly name: "sts";
  /** Registers (or replaces) the signing keys of an issuer, e.g. `https://cognito-identity.amazonaws.com`. */
  registerJwks(issuer: string, jwks: Jwks): void;
  /** Registers (or replaces) a role; throws on a trust policy the local STS cannot evaluate. */
  putRole(role: RoleDefinition): void;
  /** Mints credentials without a token (the identity pool's enhanced flow does its own checks). */
  issueCredentials(input: IssueCredentialsInput): IssuedCredentials;
  /** AssumeRoleWithWebIdentity as a function; throws an AwsServiceError with the STS error code. */
  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityInput): AssumeRoleWithWebIdentityOutput;
  lookupCredentials(accessKeyId: string): IssuedCredentials | undefined;
}

export function createStsService(options: StsServiceOptions): StsService {
  const state = new StsState({
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    dataDir: options.dataDir,
    compactAfter: options.compactAfter,
    now: options.now ?? Date.now,
  });

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return runQueryAction(XMLNS, request.requestId, () => {
      const params = readQueryParams(request);
      const action = params.get("Action") ?? "";
      switch (action) {
        case "AssumeRoleWithWebIdentity":
          return assumeRoleWithWebIdentityAction(state, params, request);
        case "GetCallerIdentity":
          return getCallerIdentity(state, request);
        default:
          throw new AwsServiceError(
            "InvalidAction",
            `Could not find operation ${action} for version 2011-06-15`,
          );
      }
    });
  }

  return {
    name: "sts",
    handle,
    registerJwks(issuer, jwks) {
      if (!Array.isArray(jwks?.keys)) throw new Error("registerJwks: jwks.keys must be an array");
      state.commit({ op: "registerJwks", provider: providerName(issuer), jwks });
    },
    putRole(role) {
      const trustPolicy =
        typeof role.trustPolicy === "string" ? role.trustPolicy : JSON.stringify(role.trustPolicy);
      try {
        parseTrustPolicy(trustPolicy);
      } catch (err) {
        if (err instanceof TrustPolicyError) throw new Error(`putRole ${role.arn}: ${err.message}`);
        throw err;
      }
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(role.arn)) {
        throw new Error(`putRole: not an IAM role ARN: ${role.arn}`);
      }
      const maxSessionDuration = role.maxSessionDuration ?? DEFAULT_MAX_SESSION;
      if (maxSessionDuration < 3600 || maxSessionDuration > 43_200) {
        throw new Error("putRole: maxSessionDuration must be between 3600 and 43200 seconds");
      }
      state.commit({ op: "putRole", role: { arn: role.arn, trustPolicy, maxSessionDuration } });
    },
    issueCredentials: (input) => issueCredentials(state, input),
    assumeRoleWithWebIdentity: (input) => assumeRoleWithWebIdentity(state, input),
    lookupCredentials(accessKeyId) {
      const found = state.credentials.get(accessKeyId);
      return found ? { ...found } : undefined;
    },
    async reset() {
      state.reset();
    },
    async close() {
      state.close();
    },
  };
}
