/**
 * The local API Gateway HTTP API (v2): `startHttpApi` serves one API on its own loopback port;
 * `httpApisFromTemplate`/`httpRoutesFromTemplate` read its routes from a synthesized template.
 */
export { INTEGRATION_TIMEOUT_MS, MAX_BODY_BYTES, startHttpApi } from "./http-api";
export { fetchJwksOverHttp, flattenClaims } from "./jwt-authorizer";
export { RouteKeyError } from "./routes";
export {
  httpApisFromTemplate,
  httpRoutesFromTemplate,
  type Resolve,
  type TemplateHttpApi,
  type TemplateResource,
} from "./template";
export type {
  AuthorizationType,
  AuthorizerContext,
  HttpApi,
  HttpApiCors,
  HttpApiOptions,
  HttpApiThrottling,
  HttpRoute,
  IamAuthorizerContext,
  Jwks,
  JwtAuthorizerConfig,
  ThrottleLimits,
} from "./types";
