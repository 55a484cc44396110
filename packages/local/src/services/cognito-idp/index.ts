/**
 * Emulated Amazon Cognito user pools (`cognito-idp`, JSON 1.1), served behind the edge.
 *
 * Fidelity first: AWS-shaped pool ids, a per-pool RS256 key and JWKS at
 * `/<poolId>/.well-known/jwks.json`, tokens with Cognito's claims, real SRP-6a, Cognito's error
 * classes and messages, and Lambda triggers with Cognito's events, budget and retries.
 *
 * This file creates the service and dispatches by operation name; the operations are in
 * operations/ by AWS name, the state and journal in state.ts, the trigger semantics in triggers/.
 */
import {
  AwsServiceError,
  answerServiceErrors,
  type ServiceErrorRendering,
} from "../../protocol/errors";
import { jsonErrorResponse } from "../../protocol/json";
import type { LocalService, ServiceRequest, ServiceResponse } from "../../types";
import { outbox } from "./codes";
import { createGroup, createUserPool, createUserPoolClient, putUserPool } from "./definitions";
import { handleDiscoveryPath } from "./discovery";
import { COGNITO_IDP_ERRORS } from "./errors";
import { signInWithExternalProvider } from "./federation";
import type {
  AuthenticationResult,
  ExternalSignInInput,
  GroupDefinition,
  GroupRecord,
  OutboxMessage,
  UserPoolClientDefinition,
  UserPoolDefinition,
} from "./model";
import { adminUserOperations } from "./operations/admin-users";
import { groupOperations } from "./operations/groups";
import { mfaOperations } from "./operations/mfa";
import { passwordOperations } from "./operations/passwords";
import { signInOperations } from "./operations/sign-in";
import { signOutOperations } from "./operations/sign-out";
import { signUpOperations } from "./operations/sign-up";
import { userAttributeOperations } from "./operations/user-attributes";
import { userPoolOperations } from "./operations/user-pools";
import {
  openUserPoolContext,
  requirePool,
  resetUserPoolContext,
  type UserPoolContext,
} from "./state";
import { issuer, isTokenActive } from "./token-issuer";
import { DEFAULT_TRIGGER_TIMEOUT_MS, type InvokeTrigger } from "./triggers";
import { type Input, jsonResponse, type Operation } from "./wire";

export type { OutboxMessage, UserPoolDefinition } from "./model";

export interface CognitoIdpServiceOptions {
  region: string;
  dataDir?: string;
  /** Base of the issuer, e.g. `http://127.0.0.1:4566`: tokens carry `<endpoint>/<poolId>`. */
  endpoint: () => string;
  /** Runs a trigger (later: the bundled handler); without it configured triggers are skipped. */
  invokeTrigger?: InvokeTrigger;
  /** Cognito's 5 s by default; tests lower it. */
  triggerTimeoutMs?: number;
  /** Where code deliveries are logged; console by default. */
  log?: (line: string) => void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

export interface CognitoIdpService extends LocalService {
  readonly name: "cognito-idp";
  /** Creates a pool from CloudFormation `AWS::Cognito::UserPool` properties. */
  createUserPool(definition: UserPoolDefinition): { Id: string; Arn: string; Name: string };
  createUserPoolClient(
    poolId: string,
    definition: UserPoolClientDefinition,
  ): { ClientId: string; ClientName: string };
  createGroup(poolId: string, definition: GroupDefinition): GroupRecord;
  /**
   * Create-or-update a pool, client or group under a caller-chosen id (the template provisioner
   * derives ids from the stack and logical id): a restart keeps users, keys and tokens valid.
   */
  putUserPool(
    id: string,
    definition: UserPoolDefinition,
  ): { Id: string; Arn: string; Name: string };
  putUserPoolClient(
    poolId: string,
    clientId: string,
    definition: UserPoolClientDefinition,
  ): { ClientId: string; ClientName: string };
  putGroup(poolId: string, definition: GroupDefinition): GroupRecord;
  /** `<endpoint>/<poolId>`: the `iss` of this pool's tokens. */
  issuer(poolId: string): string;
  jwks(poolId: string): { keys: object[] };
  /** Codes delivered so far, oldest first. */
  outbox(filter?: { email?: string; username?: string; poolId?: string }): OutboxMessage[];
  /**
   * A federated user's sign-in through the hosted UI, which the emulator has no pages for: runs
   * PreSignUp_ExternalProvider and PostConfirmation on first sign-in (unless linked to a native
   * user with AdminLinkProviderForUser), then TokenGeneration_HostedAuth.
   */
  signInWithExternalProvider(
    poolId: string,
    clientId: string,
    input: ExternalSignInInput,
  ): Promise<AuthenticationResult>;
  /**
   * Whether the session behind a token this pool issued is still good: the user exists and is
   * enabled, and neither RevokeToken nor a global sign-out ended it. It does not check the
   * signature or expiry (the caller verifies those); it answers what only the pool knows, as an
   * identity pool's `ServerSideTokenCheck` asks.
   */
  isTokenActive(input: { issuer: string; claims: Record<string, unknown> }): Promise<boolean>;
}

/** Every operation by its AWS name, each module's operations bound to the one context. */
function operationsOf(
  ctx: UserPoolContext,
): Record<string, (input: Input) => object | Promise<object>> {
  const modules: Record<string, Operation<UserPoolContext>>[] = [
    signUpOperations,
    signInOperations,
    userAttributeOperations,
    mfaOperations,
    passwordOperations,
    signOutOperations,
    adminUserOperations,
    groupOperations,
    userPoolOperations,
  ];
  const bound: Record<string, (input: Input) => object | Promise<object>> = {};
  for (const operations of modules) {
    for (const [name, operation] of Object.entries(operations)) {
      bound[name] = (input) => operation(ctx, input);
    }
  }
  return bound;
}

export function createCognitoIdpService(options: CognitoIdpServiceOptions): CognitoIdpService {
  const ctx = openUserPoolContext({
    region: options.region,
    endpoint: options.endpoint,
    now: options.now ?? Date.now,
    log: options.log ?? ((line: string) => console.info(line)),
    triggerTimeoutMs: options.triggerTimeoutMs ?? DEFAULT_TRIGGER_TIMEOUT_MS,
    ...(options.invokeTrigger ? { invokeTrigger: options.invokeTrigger } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  });
  const operations = operationsOf(ctx);

  return {
    name: "cognito-idp",

    async handle(request: ServiceRequest): Promise<ServiceResponse> {
      if (request.method === "GET") return handleDiscoveryPath(ctx, request);
      const target = request.headers["x-amz-target"] ?? "";
      const operationName = target.split(".")[1] ?? "";
      const operation = operations[operationName];
      return answerServiceErrors(ERRORS, async () => {
        if (!operation) {
          throw new AwsServiceError(
            "UnknownOperationException",
            `The local user pool does not implement ${operationName || "this operation"}.`,
          );
        }
        let input: Input;
        try {
          const parsed: unknown = JSON.parse(request.body.toString("utf8") || "{}");
          input = parsed && typeof parsed === "object" ? (parsed as Input) : {};
        } catch (cause) {
          throw new AwsServiceError("SerializationException", "Request body is not valid JSON.", {
            cause,
          });
        }
        return jsonResponse(await operation(input));
      });
    },

    async control(path: string, query: URLSearchParams): Promise<ServiceResponse> {
      if (path === "codes") {
        const codes = outbox(ctx, {
          email: query.get("email") ?? undefined,
          username: query.get("username") ?? undefined,
          poolId: query.get("poolId") ?? undefined,
        });
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ codes }),
        };
      }
      return {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: `No cognito-idp control endpoint ${path}` }),
      };
    },

    async reset() {
      resetUserPoolContext(ctx);
    },

    async close() {
      ctx.journal.close();
    },

    createUserPool: (definition) => createUserPool(ctx, definition),
    createUserPoolClient: (poolId, definition) => createUserPoolClient(ctx, poolId, definition),
    createGroup: (poolId, definition) => createGroup(ctx, poolId, definition),
    putUserPool: (id, definition) => putUserPool(ctx, id, definition),
    putUserPoolClient: (poolId, clientId, definition) =>
      createUserPoolClient(ctx, poolId, definition, clientId),
    putGroup: (poolId, definition) => createGroup(ctx, poolId, definition, true),
    issuer: (poolId) => issuer(ctx, poolId),
    jwks(poolId: string) {
      return { keys: [requirePool(ctx, poolId).keys.publicJwk] };
    },
    outbox: (filter) => outbox(ctx, filter),
    signInWithExternalProvider: (poolId, clientId, input) =>
      signInWithExternalProvider(ctx, poolId, clientId, input),
    isTokenActive: (input) => isTokenActive(ctx, input),
  };
}

// Only Cognito's own errors are answered here; a bug goes on to the edge's logged 500.
const ERRORS: ServiceErrorRendering = {
  render: (error) => jsonErrorResponse(error, COGNITO_IDP_ERRORS),
};
