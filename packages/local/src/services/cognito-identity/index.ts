/**
 * Emulated Amazon Cognito identity pools (federated identities), JSON 1.1 behind the edge's
 * `X-Amz-Target: AWSCognitoIdentityService.*` route.
 *
 * Semantics follow the Amazon Cognito Developer Guide ("Identity pools (federated identities)
 * authentication flow") and the Amazon Cognito Federated Identities API Reference; where AWS does not document a
 * behaviour, the choice is written next to the code and in docs/local-cognito-identity.md:
 *
 * - Enhanced flow (GetId, GetCredentialsForIdentity): Logins validated (login-tokens.ts), linked
 *   or merged, the role resolved by `resolveRole` (role-resolution.ts), credentials issued
 *   through the local STS. By default (`trustPolicies: "enforce"`) that is a real
 *   AssumeRoleWithWebIdentity with a token minted for the identity, so a role that does not trust
 *   the pool (`aud` and `amr`) fails with `InvalidIdentityPoolConfigurationException`, as in AWS.
 *   Guests get the scope-down session policy (guest-policy.ts).
 * - Basic flow: GetOpenIdToken refuses pools without AllowClassicFlow
 *   (`InvalidParameterException: Basic (classic) flow is not enabled, please use enhanced flow.`,
 *   which is where AWS refuses it: STS itself has no notion of the pool's setting).
 * - Merge: when a login already belongs to another identity, that identity (the login's owner)
 *   survives as the parent and receives every login; the identity passed in is disabled and the
 *   parent's id is returned. This mirrors MergeDeveloperIdentities ("Cognito associates the
 *   given source user with the IdentityId of the DestinationUserIdentifier") and the SDKs'
 *   `identityChanged(old, new)` callbacks; AWS does not spell it out for public providers.
 *
 * This file creates the service and dispatches by operation name. The operations are in
 * operations/ by concern: identity-pools.ts, roles.ts, identities.ts, credentials.ts (credentials
 * and the basic flow's token), developer-identities.ts. Shared by them: context.ts (the store,
 * signer and lookups), request-logins.ts (a request's Logins, validated), pools.ts (definitions,
 * role configuration), provider-names.ts (which Logins key names which provider), login-tokens.ts
 * (ID token validation), linking.ts (link and merge rules), identity-store.ts (journaled state),
 * openid-tokens.ts (the pool's own tokens), guest-policy.ts, validation.ts (id members, checked
 * before any operation), next-token.ts, errors.ts.
 */
import {
  AwsServiceError,
  answerServiceErrors,
  type ServiceErrorRendering,
} from "../../protocol/errors";
import { JSON_1_1, jsonErrorResponse } from "../../protocol/json";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import type { Jwks, StsService } from "../sts/index";
import { type Input, type Operation, openIdentityPoolContext, renewSigner } from "./context";
import { COGNITO_IDENTITY_ERRORS } from "./errors";
import type { LoginRef } from "./identity-store";
import type { ServerSideTokenCheck, UserPoolKeySource } from "./login-tokens";
import { credentialOperations } from "./operations/credentials";
import { developerIdentityOperations } from "./operations/developer-identities";
import { identityOperations } from "./operations/identities";
import { createPool, identityPoolOperations, putPool } from "./operations/identity-pools";
import { roleOperations, setRoles } from "./operations/roles";
import {
  describePool,
  type IdentityPoolDefinition,
  type IdentityPoolRolesDefinition,
} from "./pools";
import { type IdMember, validateIds } from "./validation";

export { GUEST_SESSION_POLICY } from "./guest-policy";
export { userPoolKeysFrom } from "./login-tokens";
export type { IdentityPoolDefinition, IdentityPoolRolesDefinition } from "./pools";

interface CognitoIdentityServiceOptions {
  region: string;
  /** Persist pools, identities, logins and the signing key under this directory. */
  dataDir?: string;
  sts: StsService;
  /**
   * The signing keys of a user pool, by its token issuer (`http://127.0.0.1:<port>/<poolId>`
   * locally, `https://cognito-idp.<region>.amazonaws.com/<poolId>` in AWS shape). Undefined for an
   * unknown issuer.
   */
  userPoolKeys: UserPoolKeySource;
  /**
   * Consulted for providers configured with `ServerSideTokenCheck: true` (the local user pool can
   * answer from its sessions: global sign-out, deleted users, revoked tokens). Without it the
   * check is skipped.
   */
  serverSideTokenCheck?: ServerSideTokenCheck;
  /** Issuer of the pool's OpenID tokens; `https://cognito-identity.amazonaws.com` by default. */
  issuerBase?: string;
  /**
   * `enforce` (default): enhanced-flow credentials go through STS AssumeRoleWithWebIdentity, so
   * the role must be registered in STS with a trust policy that trusts this pool, as in AWS.
   * `skip`: credentials are minted with `sts.issueCredentials` without a trust check.
   */
  trustPolicies?: "enforce" | "skip";
  /** Clock, injectable for tests (ms since epoch). */
  now?: () => number;
}

interface IdentityView {
  identityId: string;
  identityPoolId: string;
  /** Linked logins: provider name and the user within it (ID token `sub`, developer user id). */
  logins: LoginRef[];
  disabled: boolean;
  /** Set on an identity disabled by a merge: the parent that now owns its logins. */
  mergedInto?: string;
  creationDate: Date;
  lastModifiedDate: Date;
}

export interface CognitoIdentityService extends LocalService {
  readonly name: "cognito-identity";
  /** Creates a pool from `AWS::Cognito::IdentityPool` properties; returns its description. */
  createIdentityPool(definition: IdentityPoolDefinition): {
    IdentityPoolId: string;
  } & IdentityPoolDefinition;
  /**
   * Create-or-update under a caller-chosen id (`<region>:<uuid>`; the template provisioner derives
   * it from the stack and logical id), keeping the pool's identities and roles across restarts.
   */
  putIdentityPool(
    identityPoolId: string,
    definition: IdentityPoolDefinition,
  ): { IdentityPoolId: string } & IdentityPoolDefinition;
  /** Applies `AWS::Cognito::IdentityPoolRoleAttachment` properties (Roles, RoleMappings). */
  setIdentityPoolRoles(identityPoolId: string, definition: IdentityPoolRolesDefinition): void;
  /** The public keys of the pool's OpenID tokens. */
  jwks(): Jwks;
  /** The OpenID token issuer (what a verifier and an IAM trust policy see). */
  readonly issuer: string;
  identity(identityId: string): IdentityView | undefined;
}

/** Every operation by its AWS name. */
const OPERATIONS: Record<string, Operation> = {
  ...identityPoolOperations,
  ...roleOperations,
  ...identityOperations,
  ...credentialOperations,
  ...developerIdentityOperations,
};

/**
 * The `REGION:GUID` members each operation validates before it runs (API reference, Request
 * Parameters of each operation: "Required: Yes" or optional).
 */
const ID_MEMBERS: Record<string, { required: IdMember[]; optional?: IdMember[] }> = {
  GetId: { required: ["IdentityPoolId"] },
  GetCredentialsForIdentity: { required: ["IdentityId"] },
  GetOpenIdToken: { required: ["IdentityId"] },
  GetOpenIdTokenForDeveloperIdentity: { required: ["IdentityPoolId"], optional: ["IdentityId"] },
  MergeDeveloperIdentities: { required: ["IdentityPoolId"] },
  DescribeIdentity: { required: ["IdentityId"] },
  ListIdentities: { required: ["IdentityPoolId"] },
  UnlinkIdentity: { required: ["IdentityId"] },
  DescribeIdentityPool: { required: ["IdentityPoolId"] },
  SetIdentityPoolRoles: { required: ["IdentityPoolId"] },
  GetIdentityPoolRoles: { required: ["IdentityPoolId"] },
};

export function createCognitoIdentityService(
  options: CognitoIdentityServiceOptions,
): CognitoIdentityService {
  const ctx = openIdentityPoolContext(options);
  const { store } = ctx;

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return answerServiceErrors(ERRORS, async () => {
      const target = request.headers["x-amz-target"] ?? "";
      const operation = target.startsWith("AWSCognitoIdentityService.")
        ? target.slice("AWSCognitoIdentityService.".length)
        : "";
      const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
      const ids = Object.hasOwn(ID_MEMBERS, operation) ? ID_MEMBERS[operation] : undefined;
      if (!run) {
        throw new AwsServiceError(
          "UnknownOperationException",
          `Unknown operation ${operation || target}`,
        );
      }
      let input: Input;
      try {
        const text = request.body.toString("utf8");
        const parsed: unknown = text.trim() === "" ? {} : JSON.parse(text);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          throw new Error();
        input = parsed as Input;
      } catch {
        throw new AwsServiceError("InvalidParameterException", "Request body is not a JSON object");
      }
      if (ids) validateIds(input, ids.required, ids.optional);
      const output = await run(ctx, input);
      return {
        status: 200,
        headers: { "content-type": JSON_1_1 },
        body: JSON.stringify(output),
      };
    });
  }

  return {
    name: "cognito-identity",
    issuer: ctx.issuer,
    handle,
    createIdentityPool(definition) {
      return describePool(createPool(ctx, definition)) as unknown as ReturnType<
        CognitoIdentityService["createIdentityPool"]
      >;
    },
    putIdentityPool(identityPoolId, definition) {
      return describePool(putPool(ctx, identityPoolId, definition)) as unknown as ReturnType<
        CognitoIdentityService["putIdentityPool"]
      >;
    },
    setIdentityPoolRoles(identityPoolId, definition) {
      setRoles(ctx, identityPoolId, definition);
    },
    jwks: () => ctx.signer.jwks(),
    identity(identityId) {
      const identity = store.identities.get(identityId);
      if (!identity) return undefined;
      const view: IdentityView = {
        identityId: identity.id,
        identityPoolId: identity.poolId,
        logins: [...identity.logins.values()].map((login) => ({ ...login })),
        disabled: identity.disabled,
        creationDate: new Date(identity.created),
        lastModifiedDate: new Date(identity.lastModified),
      };
      if (identity.mergedInto !== undefined) view.mergedInto = identity.mergedInto;
      return view;
    },
    async control(path, _query, request) {
      if (path === "jwks.json" && request.method === "GET") {
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(ctx.signer.jwks()),
        };
      }
      return {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ __type: "NotFound", message: `No control route ${path}` }),
      };
    },
    async reset() {
      store.reset();
      renewSigner(ctx);
    },
    async close() {
      store.close();
    },
  };
}

const ERRORS: ServiceErrorRendering = {
  render: (error) => jsonErrorResponse(error, COGNITO_IDENTITY_ERRORS),
  // Cognito Identity's own 500, which names no detail of what failed.
  unexpected: (error) =>
    new AwsServiceError("InternalErrorException", "Internal error", { status: 500, cause: error }),
};
