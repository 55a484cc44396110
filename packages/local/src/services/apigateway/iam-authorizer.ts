/**
 * `AWS_IAM` routes: who signed (SigV4 against the credentials the local STS issued), then whether
 * that session may `execute-api:Invoke` the route, evaluated by @cloud-copilot/iam-simulate over
 * the role's identity policies and, when the session carries one, its session policy (Cognito's
 * guest scope-down). The effective permission is their intersection, and an explicit deny in
 * either wins, as IAM documents for session policies.
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { IamDirectory, PolicyDocument } from "../../cloud/contracts";
import type { CognitoIdentityService } from "../cognito-identity/index";
import type { IssuedCredentials } from "../sts/index";
import { Messages, type SignedRequest, verifySigV4 } from "./sigv4";
import type { IamAuthorizerContext, Rejection } from "./types";

const COGNITO_IDENTITY = "cognito-identity.amazonaws.com";
const MAX_VALIDATED = 1000;

interface IamAuthorizerOptions {
  region: string;
  accountId: string;
  apiId: string;
  stageName: string;
  lookupCredentials: (accessKeyId: string) => IssuedCredentials | undefined;
  iam: IamDirectory;
  /** The identity pool, for the pool id and `amr` of Cognito sessions (STS records neither). */
  identities?: Pick<CognitoIdentityService, "identity">;
}

interface IamRequest extends SignedRequest {
  /** The raw (still percent-encoded) path below the stage: the `execute-api` ARN's path. */
  stagePath: string;
  sourceIp: string;
  nowMs: number;
}

export function createIamAuthorizer(options: IamAuthorizerOptions) {
  /** Policy sets already validated (iam-simulate's checked run is slow; its verdict is stable). */
  const validated = new Map<string, string | undefined>();
  /** A role's policies as a cache key, serialized once per role (roles are fixed once provisioned). */
  const policyKeys = new WeakMap<PolicyDocument[], string>();
  /** Session policies by their text, parsed once; `undefined` when the text is not JSON. */
  const sessionPolicies = new Map<string, unknown>();

  function parseSessionPolicy(text: string): unknown {
    if (sessionPolicies.has(text)) return sessionPolicies.get(text);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      document = undefined;
    }
    if (sessionPolicies.size >= MAX_VALIDATED) sessionPolicies.clear();
    sessionPolicies.set(text, document);
    return document;
  }

  async function validationError(
    policies: PolicyDocument[],
    sessionPolicyText: string | undefined,
    sessionPolicy: unknown,
  ): Promise<string | undefined> {
    let policiesKey = policyKeys.get(policies);
    if (policiesKey === undefined) {
      policiesKey = JSON.stringify(policies);
      policyKeys.set(policies, policiesKey);
    }
    const key = JSON.stringify([policiesKey, sessionPolicyText ?? null]);
    if (validated.has(key)) return validated.get(key);
    // Validation only: an assumed-role principal (session policies need one) on this API.
    const result = await runSimulation(
      simulation(
        policies,
        sessionPolicy,
        `arn:aws:sts::${options.accountId}:assumed-role/validation/validation`,
        `arn:aws:execute-api:${options.region}:${options.accountId}:${options.apiId}/${options.stageName}/GET/validation`,
        {},
      ),
      {},
    );
    const error = result.resultType === "error" ? result.errors.message : undefined;
    // Roles and session policies are few; a flood of distinct ones only costs re-validation.
    if (validated.size >= MAX_VALIDATED) validated.clear();
    validated.set(key, error);
    return error;
  }

  function simulation(
    policies: PolicyDocument[],
    sessionPolicy: unknown,
    principal: string,
    resource: string,
    context: Record<string, string | string[]>,
  ): Simulation {
    return {
      request: {
        principal,
        action: "execute-api:Invoke",
        resource: { resource, accountId: options.accountId },
        contextVariables: context,
      },
      identityPolicies: policies.map((policy, i) => ({ name: `policy-${i}`, policy })),
      sessionPolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    };
  }

  return async function authorize(
    request: IamRequest,
  ): Promise<{ context: IamAuthorizerContext } | Rejection> {
    const verified = verifySigV4(request, {
      region: options.region,
      nowMs: request.nowMs,
      lookupCredentials: options.lookupCredentials,
    });
    if ("status" in verified) return verified;
    const { credentials } = verified;
    const role = options.iam.role(credentials.roleArn);
    const denied = (reason: string): Rejection => ({
      status: 403,
      message: Messages.forbidden,
      reason,
    });
    if (!role) return denied(`role ${credentials.roleArn} not in the IAM directory`);

    let sessionPolicy: unknown;
    if (credentials.sessionPolicy !== undefined) {
      sessionPolicy = parseSessionPolicy(credentials.sessionPolicy);
      if (sessionPolicy === undefined) return denied("session policy is not JSON");
    }
    const invalid = await validationError(role.policies, credentials.sessionPolicy, sessionPolicy);
    if (invalid) return denied(`policies of ${role.arn} are invalid: ${invalid}`);

    const resource = `arn:aws:execute-api:${options.region}:${options.accountId}:${options.apiId}/${options.stageName}/${request.method}/${executeApiPath(request.stagePath)}`;
    const context = requestContextKeys(credentials, request, options);
    // The checked run drops condition keys its catalogue does not list for execute-api (the
    // `cognito-identity.amazonaws.com:*` keys IAM does set for web-identity sessions), so the
    // decision runs unchecked, on policies already validated above.
    const evaluate = (policies: PolicyDocument[]) =>
      runUnsafeSimulation(
        simulation(policies, undefined, credentials.assumedRoleArn, resource, context),
        {},
      );
    let identity: string;
    let session: string;
    try {
      identity = evaluate(role.policies);
      session =
        sessionPolicy === undefined ? "Allowed" : evaluate([sessionPolicy as PolicyDocument]);
    } catch (error) {
      return denied(`policy evaluation failed: ${(error as Error).message}`);
    }
    if (identity !== "Allowed" || session !== "Allowed") {
      return denied(
        `${credentials.assumedRoleArn} may not execute-api:Invoke ${resource} (identity policies: ${identity}, session policy: ${sessionPolicy === undefined ? "none" : session})`,
      );
    }
    return { context: iamContext(credentials, options.accountId, context) };
  };
}

/**
 * The path part of the `execute-api` resource ARN (`api-id/stage/METHOD/<path>`, "Control access
 * to an API with IAM permissions", https://docs.aws.amazon.com/apigateway/latest/developerguide/
 * api-gateway-control-access-using-iam-policies-to-invoke-api.html), from the raw request path:
 * only the request's own `/` separate segments. Each segment is percent-decoded (so
 * `pr%65ferences` is the resource `preferences`, for Allow and Deny alike), and a `/` that decoding
 * produces stays `%2F`: decoding the whole path would turn `/admin/users/x%2FGET%2Fidentity%2F
 * preferences` into a resource ending `/GET/identity/preferences`, which the guest's grant of
 * `<api>/` + `*` + `/GET/identity/preferences` matches (IAM's `*` spans slashes). AWS does not
 * document how it writes encoded characters here; this is the stricter reading. A segment that is not valid
 * percent-encoding is kept as sent.
 */
export function executeApiPath(stagePath: string): string {
  return stagePath
    .replace(/^\//, "")
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment).replaceAll("/", "%2F");
      } catch {
        return segment;
      }
    })
    .join("/");
}

/** The keys IAM puts in the request context for an assumed-role (web identity) session. */
function requestContextKeys(
  credentials: IssuedCredentials,
  request: IamRequest,
  options: IamAuthorizerOptions,
): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {
    "aws:PrincipalArn": credentials.roleArn,
    "aws:PrincipalAccount": options.accountId,
    "aws:PrincipalType": "AssumedRole",
    "aws:userid": credentials.assumedRoleId,
    "aws:SourceIp": request.sourceIp,
    "aws:SecureTransport": "false",
    "aws:CurrentTime": new Date(request.nowMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    "aws:EpochTime": String(Math.floor(request.nowMs / 1000)),
    "aws:RequestedRegion": options.region,
    "aws:ViaAWSService": "false",
  };
  if (credentials.identityId !== undefined) {
    const cognito = cognitoIdentityOf(credentials, options.identities);
    context["aws:FederatedProvider"] = COGNITO_IDENTITY;
    context[`${COGNITO_IDENTITY}:sub`] = credentials.identityId;
    if (cognito.identityPoolId) context[`${COGNITO_IDENTITY}:aud`] = cognito.identityPoolId;
    context[`${COGNITO_IDENTITY}:amr`] = cognito.amr;
  }
  return context;
}

/**
 * The identity pool id and `amr` of a Cognito session, as fixed when the credentials were issued
 * (STS records them from the identity pool's token): credentials a guest got before signing in
 * stay unauthenticated, as in AWS. Credentials journaled before STS recorded them fall back to
 * the identity as the pool holds it now; without the pool either, guests are told apart by
 * Cognito's scope-down session policy.
 */
function cognitoIdentityOf(
  credentials: IssuedCredentials,
  identities: IamAuthorizerOptions["identities"],
): { identityPoolId: string; amr: string[] } {
  if (credentials.cognitoIdentity !== undefined) {
    return {
      identityPoolId: credentials.cognitoIdentity.identityPoolId,
      amr: [...credentials.cognitoIdentity.amr],
    };
  }
  const identity = credentials.identityId
    ? identities?.identity(credentials.identityId)
    : undefined;
  if (!identity) {
    return {
      identityPoolId: "",
      amr: [credentials.sessionPolicy !== undefined ? "unauthenticated" : "authenticated"],
    };
  }
  if (identity.logins.length === 0) {
    return { identityPoolId: identity.identityPoolId, amr: ["unauthenticated"] };
  }
  const providers = [...new Set(identity.logins.map((login) => login.provider))];
  return {
    identityPoolId: identity.identityPoolId,
    amr: [
      "authenticated",
      ...providers,
      ...identity.logins.map((login) => `${login.provider}:CognitoSignIn:${login.userId}`),
    ],
  };
}

function iamContext(
  credentials: IssuedCredentials,
  accountId: string,
  context: Record<string, string | string[]>,
): IamAuthorizerContext {
  const cognitoIdentity =
    credentials.identityId !== undefined
      ? {
          amr: [context[`${COGNITO_IDENTITY}:amr`]].flat() as string[],
          identityId: credentials.identityId,
          identityPoolId: (context[`${COGNITO_IDENTITY}:aud`] as string | undefined) ?? "",
        }
      : null;
  return {
    accessKey: credentials.accessKeyId,
    accountId,
    callerId: credentials.assumedRoleId,
    cognitoIdentity,
    principalOrgId: null,
    userArn: credentials.assumedRoleArn,
    userId: credentials.assumedRoleId,
  };
}
