/**
 * Emulated Amazon Cognito identity pools (federated identities), JSON 1.1 behind the edge's
 * `X-Amz-Target: AWSCognitoIdentityService.*` route.
 *
 * Semantics follow the field guide §2 and the API reference; where AWS does not document a
 * behaviour, the choice is written next to the code and in docs/local-cognito-identity.md:
 *
 * - Enhanced flow (GetId, GetCredentialsForIdentity): Logins validated (login-tokens.ts), linked
 *   or merged, the role resolved by core's `resolveRole`, credentials issued through the local
 *   STS. By default (`trustPolicies: "enforce"`) that is a real AssumeRoleWithWebIdentity with a
 *   token minted for the identity, so a role that does not trust the pool (`aud` and `amr`)
 *   fails with `InvalidIdentityPoolConfigurationException`, as in AWS. Guests get the
 *   scope-down session policy (guest-policy.ts).
 * - Basic flow: GetOpenIdToken refuses pools without AllowClassicFlow
 *   (`InvalidParameterException: Basic (classic) flow is not enabled, please use enhanced flow.`,
 *   which is where AWS refuses it: STS itself has no notion of the pool's setting).
 * - Merge: when a login already belongs to another identity, that identity (the login's owner)
 *   survives as the parent and receives every login; the identity passed in is disabled and the
 *   parent's id is returned. This mirrors MergeDeveloperIdentities ("Cognito associates the
 *   given source user with the IdentityId of the DestinationUserIdentifier") and the SDKs'
 *   `identityChanged(old, new)` callbacks; AWS does not spell it out for public providers.
 *
 * Modules: pools.ts (definitions, role configuration), provider-names.ts (which Logins key names
 * which provider), login-tokens.ts (ID token validation), linking.ts (link and merge rules),
 * identity-store.ts (journaled state), openid-tokens.ts (the pool's own tokens), guest-policy.ts,
 * validation.ts (id members, checked before any operation), errors.ts. This file wires them to the
 * wire protocol and STS.
 */
import { randomUUID } from "node:crypto";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import { QueryError } from "../query-protocol";
import type { IssuedCredentials, Jwks, StsService } from "../sts/index";
import { JwtError } from "../sts/jwt";
import { CognitoIdentityError, errorResponse, Messages } from "./errors";
import { GUEST_SESSION_POLICY } from "./guest-policy";
import {
  type IdentityState,
  type LoginRef,
  openIdentityStore,
  providersOf,
} from "./identity-store";
import { amrFor, createLinker, type RequestLogins } from "./linking";
import {
  type ServerSideTokenCheck,
  type UserPoolKeySource,
  validateUserPoolLogin,
} from "./login-tokens";
import {
  createOpenIdSigner,
  DEFAULT_OPENID_ISSUER,
  OPENID_TOKEN_SECONDS,
  type OpenIdSigner,
} from "./openid-tokens";
import {
  describePool,
  type IdentityPoolDefinition,
  type IdentityPoolRolesDefinition,
  type IdentityPoolState,
  poolFromDefinition,
  roleConfig,
  withRoles,
} from "./pools";
import { configuredProviderFor, withoutScheme } from "./provider-names";
import { resolveRole } from "./role-resolution";
import { type IdMember, validateIds } from "./validation";

export { CognitoIdentityError, Messages } from "./errors";
export { GUEST_SESSION_POLICY } from "./guest-policy";
export type { LoginRef } from "./identity-store";
export type { ServerSideTokenCheck, UserPoolKeySource } from "./login-tokens";
export { userPoolKeysFrom } from "./login-tokens";
export { DEFAULT_OPENID_ISSUER } from "./openid-tokens";
export type {
  IdentityPoolDefinition,
  IdentityPoolRolesDefinition,
  MappingRuleDefinition,
  RoleMappingDefinition,
} from "./pools";

/** Enhanced-flow credentials live one hour, as AWS documents. */
const CREDENTIALS_SECONDS = 3600;
/** The session name AWS uses for enhanced-flow sessions (`assumed-role/<Role>/CognitoIdentityCredentials`). */
const SESSION_NAME = "CognitoIdentityCredentials";
/** GetOpenIdTokenForDeveloperIdentity: default 15 minutes, at most 24 hours. */
const DEVELOPER_TOKEN_DEFAULT_SECONDS = 900;
const DEVELOPER_TOKEN_MAX_SECONDS = 86_400;

export interface CognitoIdentityServiceOptions {
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

export interface IdentityView {
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

export function createCognitoIdentityService(
  options: CognitoIdentityServiceOptions,
): CognitoIdentityService {
  const { region, sts } = options;
  const now = options.now ?? Date.now;
  const issuer = (options.issuerBase ?? DEFAULT_OPENID_ISSUER).replace(/\/+$/, "");
  const issuerProvider = withoutScheme(issuer);
  const trustPolicies = options.trustPolicies ?? "enforce";

  const store = openIdentityStore({ region, dataDir: options.dataDir, now });
  const { pools, identities } = store;
  const { attachLogins, assertMergeable, assertLoginsMatch, identityForLogins, refs } =
    createLinker(store);

  let signer: OpenIdSigner;
  let jwksRegistered = false;
  function ensureSigner(): void {
    signer = createOpenIdSigner(issuer, store.signingKey());
    jwksRegistered = false;
  }
  /** STS must know the key before it sees a token; re-done lazily after a reset of either side. */
  function registerJwks(): void {
    if (jwksRegistered) return;
    sts.registerJwks(issuer, signer.jwks());
    jwksRegistered = true;
  }
  ensureSigner();
  registerJwks();

  // -------------------------------------------------------------------------------------------
  // Lookups
  // -------------------------------------------------------------------------------------------

  function requirePool(id: unknown): IdentityPoolState {
    const pool = typeof id === "string" ? pools.get(id) : undefined;
    if (!pool) {
      throw new CognitoIdentityError(
        "ResourceNotFoundException",
        Messages.poolNotFound(String(id)),
      );
    }
    return pool;
  }

  function requireIdentity(id: unknown): IdentityState {
    const identity = typeof id === "string" ? identities.get(id) : undefined;
    if (!identity) {
      throw new CognitoIdentityError(
        "ResourceNotFoundException",
        Messages.identityNotFound(String(id)),
      );
    }
    return identity;
  }

  /** An identity a public API may act on: exists and is not disabled. */
  function usableIdentity(id: unknown): IdentityState {
    const identity = requireIdentity(id);
    if (identity.disabled) {
      throw new CognitoIdentityError("NotAuthorizedException", Messages.forbidden(identity.id));
    }
    return identity;
  }

  function newIdentity(poolId: string): IdentityState {
    return store.createIdentity(poolId);
  }

  // -------------------------------------------------------------------------------------------
  // Logins: validation (async, no state change), then link / merge (sync)
  // -------------------------------------------------------------------------------------------

  async function validateLogins(pool: IdentityPoolState, logins: unknown): Promise<RequestLogins> {
    const out: RequestLogins = { userPool: [] };
    if (logins === undefined || logins === null) return out;
    if (typeof logins !== "object" || Array.isArray(logins)) {
      throw new CognitoIdentityError("InvalidParameterException", "Logins must be a map");
    }
    for (const [key, token] of Object.entries(logins as Record<string, unknown>)) {
      if (typeof token !== "string" || token === "") {
        throw new CognitoIdentityError("NotAuthorizedException", Messages.NOT_A_JWT);
      }
      if (withoutScheme(key) === issuerProvider) {
        out.openId = verifyOwnToken(pool, token);
        continue;
      }
      const login = await validateUserPoolLogin({
        loginKey: key,
        token,
        providers: pool.CognitoIdentityProviders,
        keys: options.userPoolKeys,
        nowMs: now(),
        ...(options.serverSideTokenCheck
          ? { serverSideTokenCheck: options.serverSideTokenCheck }
          : {}),
      });
      if (out.userPool.some((other) => other.provider === login.provider)) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          `Only one login per provider is allowed: ${login.provider}`,
        );
      }
      out.userPool.push(login);
    }
    return out;
  }

  function verifyOwnToken(pool: IdentityPoolState, token: string): Record<string, unknown> {
    let claims: Record<string, unknown>;
    try {
      claims = signer.verify(token, now());
    } catch (error) {
      if (error instanceof JwtError && error.failure.kind === "expired") {
        const exp = Number(
          (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number })
            .exp,
        );
        throw new CognitoIdentityError(
          "NotAuthorizedException",
          Messages.expired(Math.floor(now() / 1000), exp),
          { cause: error },
        );
      }
      throw new CognitoIdentityError("NotAuthorizedException", Messages.BAD_SIGNATURE, {
        cause: error,
      });
    }
    if (claims.aud !== pool.IdentityPoolId) {
      throw new CognitoIdentityError("NotAuthorizedException", Messages.UNSUPPORTED_PROVIDER);
    }
    return claims;
  }

  function assertGuestsAllowed(pool: IdentityPoolState): void {
    if (!pool.AllowUnauthenticatedIdentities) {
      throw new CognitoIdentityError(
        "NotAuthorizedException",
        "Unauthenticated access is not supported for this identity pool.",
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Credentials
  // -------------------------------------------------------------------------------------------

  function issueCredentials(
    pool: IdentityPoolState,
    identity: IdentityState,
    roleArn: string,
  ): IssuedCredentials {
    const guest = identity.logins.size === 0;
    const sessionPolicy = guest ? GUEST_SESSION_POLICY : undefined;
    if (trustPolicies === "skip") {
      return sts.issueCredentials({
        roleArn,
        sessionName: SESSION_NAME,
        subject: identity.id,
        identityId: identity.id,
        cognitoIdentity: { identityPoolId: pool.IdentityPoolId, amr: amrFor(identity, pool) },
        durationSeconds: CREDENTIALS_SECONDS,
        ...(sessionPolicy !== undefined ? { sessionPolicy } : {}),
      });
    }
    const token = signer.mint({
      poolId: pool.IdentityPoolId,
      identityId: identity.id,
      amr: amrFor(identity, pool),
      lifetimeSeconds: OPENID_TOKEN_SECONDS,
      nowMs: now(),
    });
    const assume = () =>
      sts.assumeRoleWithWebIdentity({
        roleArn,
        roleSessionName: SESSION_NAME,
        webIdentityToken: token,
        durationSeconds: CREDENTIALS_SECONDS,
        ...(sessionPolicy !== undefined ? { policy: sessionPolicy } : {}),
      }).credentials;
    try {
      registerJwks();
      try {
        return assume();
      } catch (error) {
        // STS was reset on its own and forgot our key: register it again, once.
        if (!(error instanceof QueryError) || error.code !== "InvalidIdentityToken") throw error;
        jwksRegistered = false;
        registerJwks();
        return assume();
      }
    } catch (error) {
      if (error instanceof QueryError) {
        // What AWS reports when the role does not trust the pool (or cannot be assumed).
        throw new CognitoIdentityError(
          "InvalidIdentityPoolConfigurationException",
          "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
          { cause: error },
        );
      }
      throw error;
    }
  }

  function resolveRoleFor(
    pool: IdentityPoolState,
    identity: IdentityState,
    logins: RequestLogins,
    customRoleArn: string | undefined,
  ): string {
    const config = roleConfig(pool);
    const login = logins.userPool[0];
    const authenticated = identity.logins.size > 0 || login !== undefined;
    const resolution = resolveRole({
      config,
      providerKey: login?.roleMappingKey ?? pool.DeveloperProviderName ?? issuerProvider,
      // A developer-authenticated identity has no claims to map: it gets the default role.
      claims: login ? login.claims : authenticated ? {} : null,
      ...(customRoleArn !== undefined ? { customRoleArn } : {}),
    });
    if (resolution.decision === "deny") {
      throw new CognitoIdentityError(resolution.error, resolution.message);
    }
    return resolution.roleArn;
  }

  // -------------------------------------------------------------------------------------------
  // Operations
  // -------------------------------------------------------------------------------------------

  type Input = Record<string, unknown>;
  type Operation = (input: Input) => Promise<unknown> | unknown;

  function createPool(definition: unknown): IdentityPoolState {
    const pool = poolFromDefinition(`${region}:${randomUUID()}`, definition);
    store.putPool(pool);
    return pool;
  }

  function putPool(id: string, definition: unknown): IdentityPoolState {
    if (!id.startsWith(`${region}:`) || !/^[\w-]+:[0-9a-f-]{36}$/.test(id)) {
      throw new Error(`Invalid identity pool id ${id}`);
    }
    const existing = pools.get(id);
    const pool = poolFromDefinition(id, definition);
    // Roles and role mappings come from the separate role attachment: keep them until it is
    // applied again, as CloudFormation updates the two resources independently.
    const merged = existing
      ? { ...pool, Roles: existing.Roles, RoleMappings: existing.RoleMappings }
      : pool;
    store.putPool(merged);
    return merged;
  }

  function setRoles(poolId: unknown, definition: unknown): void {
    const pool = withRoles(requirePool(poolId), definition);
    store.putPool(pool);
  }

  function identityDescription(identity: IdentityState): Record<string, unknown> {
    return {
      IdentityId: identity.id,
      Logins: providersOf(identity),
      CreationDate: identity.created / 1000,
      LastModifiedDate: identity.lastModified / 1000,
    };
  }

  const operations: Record<string, Operation> = {
    CreateIdentityPool: (input) => describePool(createPool(input)),
    DescribeIdentityPool: (input) => describePool(requirePool(input.IdentityPoolId)),
    ListIdentityPools: (input) => {
      const max = Number(input.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 60) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          "MaxResults must be between 1 and 60",
        );
      }
      const all = [...pools.values()];
      const start = decodeToken(input.NextToken);
      const page = all.slice(start, start + max);
      return {
        IdentityPools: page.map((p) => ({
          IdentityPoolId: p.IdentityPoolId,
          IdentityPoolName: p.IdentityPoolName,
        })),
        ...(start + max < all.length ? { NextToken: encodeToken(start + max) } : {}),
      };
    },
    SetIdentityPoolRoles: (input) => {
      setRoles(input.IdentityPoolId, input);
      return {};
    },
    GetIdentityPoolRoles: (input) => {
      const pool = requirePool(input.IdentityPoolId);
      return {
        IdentityPoolId: pool.IdentityPoolId,
        Roles: pool.Roles,
        ...(Object.keys(pool.RoleMappings).length > 0 ? { RoleMappings: pool.RoleMappings } : {}),
      };
    },

    GetId: async (input) => {
      const pool = requirePool(input.IdentityPoolId);
      const logins = await validateLogins(pool, input.Logins);
      if (logins.openId !== undefined) {
        return { IdentityId: usableIdentity(logins.openId.sub).id };
      }
      if (logins.userPool.length === 0) {
        assertGuestsAllowed(pool);
        return { IdentityId: newIdentity(pool.IdentityPoolId).id };
      }
      const owner = logins.userPool
        .map((l) => store.ownerOf(pool.IdentityPoolId, { provider: l.provider, userId: l.userId }))
        .find((id) => id !== undefined);
      const identity = owner ? identities.get(owner)! : newIdentity(pool.IdentityPoolId);
      return { IdentityId: attachLogins(identity, refs(logins.userPool)).id };
    },

    GetCredentialsForIdentity: async (input) => {
      const pool = requirePool(requireIdentity(input.IdentityId).poolId);
      usableIdentity(input.IdentityId);
      const logins = await validateLogins(pool, input.Logins);
      // Re-read after the await: a concurrent merge may have disabled it meanwhile.
      const identity = usableIdentity(input.IdentityId);
      if (identity.logins.size === 0 && logins.userPool.length === 0 && !logins.openId) {
        assertGuestsAllowed(pool);
      }
      const customRoleArn =
        typeof input.CustomRoleArn === "string" ? input.CustomRoleArn : undefined;
      // Check and resolve before linking, so a refused request changes nothing.
      assertLoginsMatch(identity, logins);
      const roleArn = resolveRoleFor(pool, identity, logins, customRoleArn);
      const survivor = identityForLogins(identity, logins);
      const credentials = issueCredentials(pool, survivor, roleArn);
      return {
        IdentityId: survivor.id,
        Credentials: {
          AccessKeyId: credentials.accessKeyId,
          SecretKey: credentials.secretAccessKey,
          SessionToken: credentials.sessionToken,
          Expiration: Date.parse(credentials.expiration) / 1000,
        },
      };
    },

    GetOpenIdToken: async (input) => {
      const pool = requirePool(requireIdentity(input.IdentityId).poolId);
      usableIdentity(input.IdentityId);
      if (!pool.AllowClassicFlow) {
        throw new CognitoIdentityError("InvalidParameterException", Messages.CLASSIC_FLOW_DISABLED);
      }
      if (Object.keys(pool.RoleMappings).length > 0) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          Messages.CLASSIC_FLOW_WITH_ROLE_MAPPINGS,
        );
      }
      const logins = await validateLogins(pool, input.Logins);
      const identity = usableIdentity(input.IdentityId);
      if (identity.logins.size === 0 && logins.userPool.length === 0) assertGuestsAllowed(pool);
      const survivor = identityForLogins(identity, logins);
      registerJwks();
      return {
        IdentityId: survivor.id,
        Token: signer.mint({
          poolId: pool.IdentityPoolId,
          identityId: survivor.id,
          amr: amrFor(survivor, pool),
          lifetimeSeconds: OPENID_TOKEN_SECONDS,
          nowMs: now(),
        }),
      };
    },

    GetOpenIdTokenForDeveloperIdentity: async (input) => {
      const pool = requirePool(input.IdentityPoolId);
      const developer = pool.DeveloperProviderName;
      const all = (input.Logins ?? {}) as Record<string, unknown>;
      const userIdentifier = developer !== undefined ? all[developer] : undefined;
      if (developer === undefined || typeof userIdentifier !== "string" || userIdentifier === "") {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          "Logins must contain the identity pool's developer provider name.",
        );
      }
      const duration =
        input.TokenDuration === undefined
          ? DEVELOPER_TOKEN_DEFAULT_SECONDS
          : Number(input.TokenDuration);
      if (!Number.isInteger(duration) || duration < 1 || duration > DEVELOPER_TOKEN_MAX_SECONDS) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          `TokenDuration must be between 1 and ${DEVELOPER_TOKEN_MAX_SECONDS} seconds.`,
        );
      }
      const { [developer]: _developer, ...publicLogins } = all;
      const logins = await validateLogins(pool, publicLogins);
      const owner = store.ownerOf(pool.IdentityPoolId, {
        provider: developer,
        userId: userIdentifier,
      });
      let identity: IdentityState;
      if (typeof input.IdentityId === "string") {
        identity = usableIdentity(input.IdentityId);
        if (identity.poolId !== pool.IdentityPoolId) {
          throw new CognitoIdentityError(
            "ResourceNotFoundException",
            Messages.identityNotFound(identity.id),
          );
        }
        if (owner !== undefined && owner !== identity.id) {
          throw new CognitoIdentityError(
            "DeveloperUserAlreadyRegisteredException",
            Messages.DEVELOPER_USER_TAKEN,
          );
        }
      } else {
        identity = owner ? usableIdentity(owner) : newIdentity(pool.IdentityPoolId);
      }
      const survivor = attachLogins(identity, [
        { provider: developer, userId: userIdentifier },
        ...refs(logins.userPool),
      ]);
      const extra: Record<string, unknown> = {};
      if (input.PrincipalTags && typeof input.PrincipalTags === "object") {
        extra["https://aws.amazon.com/tags"] = {
          principal_tags: Object.fromEntries(
            Object.entries(input.PrincipalTags as Record<string, string>).map(([k, v]) => [k, [v]]),
          ),
        };
      }
      registerJwks();
      return {
        IdentityId: survivor.id,
        Token: signer.mint({
          poolId: pool.IdentityPoolId,
          identityId: survivor.id,
          amr: amrFor(survivor, pool),
          lifetimeSeconds: duration,
          nowMs: now(),
          extra,
        }),
      };
    },

    MergeDeveloperIdentities: (input) => {
      const pool = requirePool(input.IdentityPoolId);
      if (input.DeveloperProviderName !== pool.DeveloperProviderName) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          "DeveloperProviderName does not match the identity pool's developer provider.",
        );
      }
      const developer = pool.DeveloperProviderName!;
      const find = (userId: unknown) => {
        const id =
          typeof userId === "string"
            ? store.ownerOf(pool.IdentityPoolId, { provider: developer, userId: userId })
            : undefined;
        if (id === undefined) {
          throw new CognitoIdentityError(
            "ResourceNotFoundException",
            `Developer user '${String(userId)}' not found.`,
          );
        }
        return identities.get(id)!;
      };
      const source = find(input.SourceUserIdentifier);
      const destination = find(input.DestinationUserIdentifier);
      if (source.id !== destination.id) {
        assertMergeable(destination, source);
        store.merge(destination.id, source.id);
      }
      return { IdentityId: destination.id };
    },

    DescribeIdentity: (input) => identityDescription(requireIdentity(input.IdentityId)),

    ListIdentities: (input) => {
      const pool = requirePool(input.IdentityPoolId);
      const max = Number(input.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 60) {
        throw new CognitoIdentityError(
          "InvalidParameterException",
          "MaxResults must be between 1 and 60",
        );
      }
      const all = [...identities.values()].filter(
        (i) => i.poolId === pool.IdentityPoolId && !(input.HideDisabled === true && i.disabled),
      );
      const start = decodeToken(input.NextToken);
      const page = all.slice(start, start + max);
      return {
        IdentityPoolId: pool.IdentityPoolId,
        Identities: page.map(identityDescription),
        ...(start + max < all.length ? { NextToken: encodeToken(start + max) } : {}),
      };
    },

    UnlinkIdentity: async (input) => {
      const pool = requirePool(requireIdentity(input.IdentityId).poolId);
      usableIdentity(input.IdentityId);
      const logins = await validateLogins(pool, input.Logins);
      const identity = usableIdentity(input.IdentityId);
      const proven =
        logins.userPool.length > 0 &&
        logins.userPool.every(
          (l) =>
            store.ownerOf(pool.IdentityPoolId, { provider: l.provider, userId: l.userId }) ===
            identity.id,
        );
      if (!proven) {
        throw new CognitoIdentityError("NotAuthorizedException", Messages.LOGINS_DO_NOT_MATCH);
      }
      const names = Array.isArray(input.LoginsToRemove) ? input.LoginsToRemove : [];
      const known = [
        ...pool.CognitoIdentityProviders.map((p) => p.ProviderName),
        ...(pool.DeveloperProviderName ? [pool.DeveloperProviderName] : []),
      ];
      for (const name of names) {
        const provider =
          typeof name === "string" ? (configuredProviderFor(name, known) ?? name) : undefined;
        if (provider !== undefined && providersOf(identity).includes(provider)) {
          store.unlinkProvider(identity.id, provider);
        }
      }
      // "Removing the last linked login will make this identity inaccessible."
      if (identity.logins.size === 0) {
        store.disable(identity.id);
      }
      return {};
    },
  };

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    try {
      const target = request.headers["x-amz-target"] ?? "";
      const operation = target.startsWith("AWSCognitoIdentityService.")
        ? target.slice("AWSCognitoIdentityService.".length)
        : "";
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      const ids = Object.hasOwn(ID_MEMBERS, operation) ? ID_MEMBERS[operation] : undefined;
      if (!run) {
        throw new CognitoIdentityError(
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
        throw new CognitoIdentityError(
          "InvalidParameterException",
          "Request body is not a JSON object",
        );
      }
      if (ids) validateIds(input, ids.required, ids.optional);
      const output = await run(input);
      return {
        status: 200,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: JSON.stringify(output),
      };
    } catch (error) {
      if (error instanceof CognitoIdentityError) return errorResponse(error);
      return errorResponse(
        new CognitoIdentityError("InternalErrorException", "Internal error", { cause: error }),
      );
    }
  }

  return {
    name: "cognito-identity",
    issuer,
    handle,
    createIdentityPool(definition) {
      return describePool(createPool(definition)) as unknown as ReturnType<
        CognitoIdentityService["createIdentityPool"]
      >;
    },
    putIdentityPool(identityPoolId, definition) {
      return describePool(putPool(identityPoolId, definition)) as unknown as ReturnType<
        CognitoIdentityService["putIdentityPool"]
      >;
    },
    setIdentityPoolRoles(identityPoolId, definition) {
      setRoles(identityPoolId, definition);
    },
    jwks: () => signer.jwks(),
    identity(identityId) {
      const identity = identities.get(identityId);
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
          body: JSON.stringify(signer.jwks()),
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
      ensureSigner();
    },
    async close() {
      store.close();
    },
  };
}

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

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64url");
}

function decodeToken(token: unknown): number {
  if (typeof token !== "string" || token === "") return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      offset: unknown;
    };
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    /* fall through */
  }
  throw new CognitoIdentityError("InvalidParameterException", "Invalid NextToken");
}
