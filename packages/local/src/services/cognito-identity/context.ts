/**
 * What every identity-pool operation shares: the journaled store, the linker over it, the pool's
 * OpenID signer and its registration with STS, and the lookups that fail as Cognito does.
 */
import { AwsServiceError } from "../../protocol/errors";
import type { StsService } from "../sts/index";
import { Messages } from "./errors";
import { type IdentityState, type IdentityStore, openIdentityStore } from "./identity-store";
import { createLinker } from "./linking";
import type { ServerSideTokenCheck, UserPoolKeySource } from "./login-tokens";
import { createOpenIdSigner, DEFAULT_OPENID_ISSUER, type OpenIdSigner } from "./openid-tokens";
import type { IdentityPoolState } from "./pools";
import { withoutScheme } from "./provider-names";

export interface IdentityPoolContext {
  readonly region: string;
  readonly sts: StsService;
  readonly now: () => number;
  /** The OpenID token issuer, without a trailing slash. */
  readonly issuer: string;
  /** The issuer as a Logins key names it (no scheme). */
  readonly issuerProvider: string;
  readonly trustPolicies: "enforce" | "skip";
  readonly userPoolKeys: UserPoolKeySource;
  readonly serverSideTokenCheck: ServerSideTokenCheck | undefined;
  readonly store: IdentityStore;
  readonly linker: ReturnType<typeof createLinker>;
  /** Replaced when the store is reset (a new signing key). */
  signer: OpenIdSigner;
  /** Whether STS has been given the signer's keys since the signer or STS last changed. */
  jwksRegistered: boolean;
}

interface IdentityPoolContextOptions {
  region: string;
  dataDir?: string;
  sts: StsService;
  userPoolKeys: UserPoolKeySource;
  serverSideTokenCheck?: ServerSideTokenCheck;
  issuerBase?: string;
  trustPolicies?: "enforce" | "skip";
  now?: () => number;
}

export function openIdentityPoolContext(options: IdentityPoolContextOptions): IdentityPoolContext {
  const now = options.now ?? Date.now;
  const issuer = (options.issuerBase ?? DEFAULT_OPENID_ISSUER).replace(/\/+$/, "");
  const store = openIdentityStore({ region: options.region, dataDir: options.dataDir, now });
  const ctx: IdentityPoolContext = {
    region: options.region,
    sts: options.sts,
    now,
    issuer,
    issuerProvider: withoutScheme(issuer),
    trustPolicies: options.trustPolicies ?? "enforce",
    userPoolKeys: options.userPoolKeys,
    serverSideTokenCheck: options.serverSideTokenCheck,
    store,
    linker: createLinker(store),
    signer: createOpenIdSigner(issuer, store.signingKey()),
    jwksRegistered: false,
  };
  registerJwks(ctx);
  return ctx;
}

/** A new signer over the store's (possibly new) signing key; STS must be told again. */
export function renewSigner(ctx: IdentityPoolContext): void {
  ctx.signer = createOpenIdSigner(ctx.issuer, ctx.store.signingKey());
  ctx.jwksRegistered = false;
}

/** STS must know the key before it sees a token; re-done lazily after a reset of either side. */
export function registerJwks(ctx: IdentityPoolContext): void {
  if (ctx.jwksRegistered) return;
  ctx.sts.registerJwks(ctx.issuer, ctx.signer.jwks());
  ctx.jwksRegistered = true;
}

export function requirePool(ctx: IdentityPoolContext, id: unknown): IdentityPoolState {
  const pool = typeof id === "string" ? ctx.store.pools.get(id) : undefined;
  if (!pool) {
    throw new AwsServiceError("ResourceNotFoundException", Messages.poolNotFound(String(id)));
  }
  return pool;
}

export function requireIdentity(ctx: IdentityPoolContext, id: unknown): IdentityState {
  const identity = typeof id === "string" ? ctx.store.identities.get(id) : undefined;
  if (!identity) {
    throw new AwsServiceError("ResourceNotFoundException", Messages.identityNotFound(String(id)));
  }
  return identity;
}

/** An identity a public API may act on: exists and is not disabled. */
export function usableIdentity(ctx: IdentityPoolContext, id: unknown): IdentityState {
  const identity = requireIdentity(ctx, id);
  if (identity.disabled) {
    throw new AwsServiceError("NotAuthorizedException", Messages.forbidden(identity.id));
  }
  return identity;
}

/** A request's JSON body. */
export type Input = Record<string, unknown>;

/** An operation by its AWS name. */
export type Operation = (ctx: IdentityPoolContext, input: Input) => Promise<unknown> | unknown;
