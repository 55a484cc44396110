/**
 * AssumeRoleWithWebIdentity (unsigned): the token verified against the JWKS registered for its
 * issuer, its expiry checked, the role's trust policy evaluated on `aud`, `sub` and `amr`, then a
 * session minted. Offered both in process (the identity pool's enhanced flow) and on the wire.
 */

import { AwsServiceError } from "../../../protocol/errors";
import { queryResponse, requireParam } from "../../../protocol/query";
import type { ServiceRequest, ServiceResponse } from "../../../types";
import { JwtError, verifyWebIdentityToken } from "../jwt";
import {
  type AssumeRoleWithWebIdentityInput,
  type AssumeRoleWithWebIdentityOutput,
  DEFAULT_DURATION,
  type IssueCredentialsInput,
  XMLNS,
} from "../model";
import type { StsState } from "../state";
import { trustAllows } from "../trust";
import { issueCredentials, packedPolicySize } from "./sessions";

export function assumeRoleWithWebIdentity(
  state: StsState,
  input: AssumeRoleWithWebIdentityInput,
): AssumeRoleWithWebIdentityOutput {
  let verified: ReturnType<typeof verifyWebIdentityToken>;
  try {
    verified = verifyWebIdentityToken(
      input.webIdentityToken,
      (p) => state.jwksByProvider.get(p),
      state.now(),
    );
  } catch (err) {
    if (err instanceof JwtError) {
      if (err.failure.kind === "expired")
        throw new AwsServiceError("ExpiredTokenException", err.message);
      throw new AwsServiceError("InvalidIdentityToken", err.message);
    }
    throw err;
  }
  const { claims, provider } = verified;
  const subject = typeof claims.sub === "string" ? claims.sub : "";
  const audience = Array.isArray(claims.aud)
    ? claims.aud.map(String)
    : typeof claims.aud === "string"
      ? [claims.aud]
      : [];
  if (!subject) throw new AwsServiceError("InvalidIdentityToken", "Missing a required claim: sub");
  if (audience.length === 0)
    throw new AwsServiceError("InvalidIdentityToken", "Missing a required claim: aud");
  const role = state.roles.get(input.roleArn);
  const denied = new AwsServiceError(
    "AccessDenied",
    "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    { status: 403 },
  );
  // An unknown role is indistinguishable from a distrusting one, as in AWS.
  if (!role) throw denied;
  const amr = Array.isArray(claims.amr)
    ? claims.amr.map(String)
    : typeof claims.amr === "string"
      ? [claims.amr]
      : undefined;
  const keys: Record<string, string[]> = {
    [`${provider}:aud`]: audience,
    [`${provider}:sub`]: [subject],
  };
  if (amr) keys[`${provider}:amr`] = amr;
  if (!trustAllows(role.statements, { provider, keys })) throw denied;
  const durationSeconds = input.durationSeconds ?? DEFAULT_DURATION;
  if (durationSeconds > role.maxSessionDuration) {
    throw new AwsServiceError(
      "ValidationError",
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
    );
  }
  const issueInput: IssueCredentialsInput = {
    roleArn: role.arn,
    sessionName: input.roleSessionName,
    subject,
    durationSeconds,
  };
  // For Cognito identity tokens the subject *is* the identity id ("Role trust and permissions",
  // https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html).
  if (provider === "cognito-identity.amazonaws.com") {
    issueInput.identityId = subject;
    issueInput.cognitoIdentity = { identityPoolId: audience[0]!, amr: amr ?? [] };
  }
  if (input.policy !== undefined) issueInput.sessionPolicy = input.policy;
  const issued = issueCredentials(state, issueInput);
  return { credentials: issued, provider, audience: audience[0]!, subject };
}

/** The query-protocol action: form parameters in, `AssumeRoleWithWebIdentityResult` out. */
export function assumeRoleWithWebIdentityAction(
  state: StsState,
  params: URLSearchParams,
  request: ServiceRequest,
): ServiceResponse {
  const input: AssumeRoleWithWebIdentityInput = {
    roleArn: requireValidation(params, "RoleArn"),
    roleSessionName: requireValidation(params, "RoleSessionName"),
    webIdentityToken: requireValidation(params, "WebIdentityToken"),
  };
  const duration = params.get("DurationSeconds");
  if (duration !== null) input.durationSeconds = Number(duration);
  const policy = params.get("Policy");
  if (policy !== null) input.policy = policy;
  const out = assumeRoleWithWebIdentity(state, input);
  const c = out.credentials;
  return queryResponse("AssumeRoleWithWebIdentity", XMLNS, request.requestId, {
    Credentials: {
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      SessionToken: c.sessionToken,
      Expiration: c.expiration,
    },
    SubjectFromWebIdentityToken: out.subject,
    AssumedRoleUser: { Arn: c.assumedRoleArn, AssumedRoleId: c.assumedRoleId },
    Provider: out.provider,
    Audience: out.audience,
    PackedPolicySize: c.sessionPolicy !== undefined ? packedPolicySize(c.sessionPolicy) : undefined,
  });
}

function requireValidation(params: URLSearchParams, name: string): string {
  try {
    return requireParam(params, name);
  } catch {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw new AwsServiceError(
      "ValidationError",
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
}
