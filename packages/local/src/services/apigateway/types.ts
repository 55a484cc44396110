/**
 * The shapes of the local API Gateway HTTP API (v2): what the composer hands `startHttpApi`
 * (routes translated from `AWS::ApiGatewayV2::Route`/`Integration`/`Authorizer`) and what the
 * authorizers hand the event builder.
 */
import type { IamDirectory, LambdaInvoker } from "../../cloud/contracts";
import type { OriginPolicy } from "../../edge/origin";
import type { Jwks } from "../../protocol/jwt";
import type { CognitoIdentityService } from "../cognito-identity/index";
import type { StsService } from "../sts/index";

export type { Jwks } from "../../protocol/jwt";

type AuthorizationType = "NONE" | "AWS_IAM" | "JWT";

export interface JwtAuthorizerConfig {
  /** Exactly the `iss` tokens carry; locally `<endpoint>/<userPoolId>` (no trailing slash). */
  issuer: string;
  /** Accepted `aud` (ID tokens) or `client_id` (access tokens), as `JwtConfiguration.Audience`. */
  audience: string[];
  /** `$request.header.Authorization` by default; `$request.querystring.<name>` also works. */
  identitySource?: string;
}

export interface HttpRoute {
  /** `GET /identity/{sub}`, `ANY /{proxy+}`, `$default`. */
  routeKey: string;
  /** The AWS_PROXY integration's function (name or ARN, as the invoker takes it). */
  functionArn: string;
  payloadFormatVersion: "2.0" | "1.0";
  authorizationType: AuthorizationType;
  jwt?: JwtAuthorizerConfig;
  /** JWT routes only: the token must carry at least one of these scopes. */
  authorizationScopes?: string[];
}

/** `AWS::ApiGatewayV2::Api` `CorsConfiguration`, same member names in camel case. */
export interface HttpApiCors {
  allowOrigins?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  allowCredentials?: boolean;
  maxAge?: number;
}

/** `ThrottlingRateLimit` (requests per second) and `ThrottlingBurstLimit` (bucket size). */
export interface ThrottleLimits {
  rateLimit: number;
  burstLimit: number;
}

/** The stage's `DefaultRouteSettings` and `RouteSettings` throttles (by route key). */
export interface HttpApiThrottling {
  default?: ThrottleLimits;
  routes?: Record<string, ThrottleLimits>;
}

export interface HttpApiOptions {
  /** Loopback only (127.0.0.1 by default). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  region: string;
  accountId: string;
  apiId: string;
  /** `$default` for SST's API. */
  stageName?: string;
  routes: HttpRoute[];
  cors?: HttpApiCors;
  /** Stage and route throttling; none when undefined (see throttle.ts). */
  throttling?: HttpApiThrottling;
  invoker: LambdaInvoker;
  sts: Pick<StsService, "lookupCredentials">;
  iam: IamDirectory;
  /**
   * The local identity pool, when Cognito identities call the API: gives
   * `cognitoIdentity.identityPoolId` and `amr` (STS records only the identity id).
   */
  identities?: Pick<CognitoIdentityService, "identity">;
  /** Fetches an issuer's JWKS; by default `GET <issuer>/.well-known/jwks.json`. */
  fetchJwks?: (issuer: string) => Promise<Jwks>;
  /** One line per request and per authorization failure (why it failed; never tokens). */
  log?: (line: string) => void;
  /** How long API Gateway waits for the integration: 30 s (the HTTP API maximum). */
  integrationTimeoutMs?: number;
  /** Clock (ms since epoch), injectable for tests. */
  now?: () => number;
  /**
   * Which hosts and browser origins are answered (loopback only by default); the local cloud
   * passes the edge's, so `--allow-origin` applies here too. Checked before the API's own CORS.
   */
  origins?: OriginPolicy;
}

export interface HttpApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The `requestContext.authorizer` API Gateway passes to the integration. */
export type AuthorizerContext =
  | { iam: IamAuthorizerContext }
  | { jwt: { claims: Record<string, string>; scopes: string[] | null } }
  | undefined;

export interface IamAuthorizerContext {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: { amr: string[]; identityId: string; identityPoolId: string } | null;
  principalOrgId: string | null;
  userArn: string;
  userId: string;
}

/** An authorizer's refusal: the status and `{"message": ...}` body API Gateway sends. */
export interface Rejection {
  status: number;
  message: string;
  /** Why, for the log only (the client sees `message`). */
  reason: string;
}
