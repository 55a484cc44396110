/**
 * Reads an HTTP API's routes from a synthesized CloudFormation template: each
 * `AWS::ApiGatewayV2::Route` with its `AWS_PROXY` `Integration` (the function) and, for `JWT`
 * routes, its `Authorizer`. Intrinsics are left to the caller's `resolve` (the composer knows the
 * local names, ARNs and imports); a route's `Target` (`integrations/<ref>`) is followed by logical
 * id, so `resolve` never needs to know integration ids.
 */
import type { HttpApiCors, HttpApiThrottling, HttpRoute, ThrottleLimits } from "./types";

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

type Resolve = (value: unknown) => string;

export interface TemplateHttpApi {
  /** Logical id of the `AWS::ApiGatewayV2::Api`. */
  logicalId: string;
  name: string | undefined;
  cors: HttpApiCors | undefined;
  /** `$default` unless the template declares another stage. */
  stageName: string;
  /** The stage's throttling (`DefaultRouteSettings`, `RouteSettings`), when it sets any. */
  throttling: HttpApiThrottling | undefined;
  routes: HttpRoute[];
}

/** Every HTTP API in the template with its routes (usually one). */
export function httpApisFromTemplate(
  resources: Record<string, TemplateResource>,
  resolve: Resolve,
): TemplateHttpApi[] {
  const apis: TemplateHttpApi[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== "AWS::ApiGatewayV2::Api") continue;
    const props = resource.Properties ?? {};
    if (props.ProtocolType !== undefined && props.ProtocolType !== "HTTP") continue;
    const stage = Object.values(resources).find(
      (r) => r.Type === "AWS::ApiGatewayV2::Stage" && refersTo(r.Properties?.ApiId, logicalId),
    );
    apis.push({
      logicalId,
      name: props.Name === undefined ? undefined : resolve(props.Name),
      cors: corsFrom(props.CorsConfiguration as Record<string, unknown> | undefined, resolve),
      stageName:
        stage?.Properties?.StageName !== undefined
          ? resolve(stage.Properties.StageName)
          : "$default",
      throttling: throttlingFrom(stage?.Properties, resolve),
      routes: httpRoutesFromTemplate(resources, resolve, logicalId),
    });
  }
  return apis;
}

/** The routes of the template's HTTP API (of `apiLogicalId` when there are several). */
export function httpRoutesFromTemplate(
  resources: Record<string, TemplateResource>,
  resolve: Resolve,
  apiLogicalId?: string,
): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== "AWS::ApiGatewayV2::Route") continue;
    const props = resource.Properties ?? {};
    if (apiLogicalId && !refersTo(props.ApiId, apiLogicalId)) continue;
    const routeKey = resolve(props.RouteKey);
    const integrationId = findRef(props.Target, resources, "AWS::ApiGatewayV2::Integration");
    const integration = integrationId ? resources[integrationId]?.Properties : undefined;
    if (!integration)
      throw new Error(`Route ${logicalId} (${routeKey}) has no integration in the template`);
    if (integration.IntegrationType !== "AWS_PROXY") {
      throw new Error(
        `Route ${routeKey}: integration type ${String(integration.IntegrationType)} is not emulated`,
      );
    }
    const authorizationType = (props.AuthorizationType ?? "NONE") as HttpRoute["authorizationType"];
    const route: HttpRoute = {
      routeKey,
      functionArn: resolve(integration.IntegrationUri),
      payloadFormatVersion: integration.PayloadFormatVersion === "1.0" ? "1.0" : "2.0",
      authorizationType,
    };
    if (authorizationType === "JWT") {
      const authorizerId = findRef(props.AuthorizerId, resources, "AWS::ApiGatewayV2::Authorizer");
      const authorizer = authorizerId ? resources[authorizerId]?.Properties : undefined;
      const jwt = authorizer?.JwtConfiguration as
        | { Issuer?: unknown; Audience?: unknown[] }
        | undefined;
      if (!jwt) throw new Error(`Route ${routeKey}: JWT authorizer not found in the template`);
      const sources = authorizer?.IdentitySource as unknown[] | undefined;
      route.jwt = {
        issuer: resolve(jwt.Issuer),
        audience: (jwt.Audience ?? []).map(resolve),
      };
      if (sources?.[0] !== undefined) route.jwt.identitySource = resolve(sources[0]);
    }
    if (Array.isArray(props.AuthorizationScopes) && props.AuthorizationScopes.length > 0) {
      route.authorizationScopes = props.AuthorizationScopes.map(resolve);
    }
    routes.push(route);
  }
  return routes;
}

function throttlingFrom(
  stage: Record<string, unknown> | undefined,
  resolve: Resolve,
): HttpApiThrottling | undefined {
  const limits = (settings: unknown): ThrottleLimits | undefined => {
    if (settings === null || typeof settings !== "object") return undefined;
    const { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } = settings as Record<
      string,
      unknown
    >;
    if (rate === undefined && burst === undefined) return undefined;
    // An unset half is unthrottled on that axis, as in API Gateway.
    return {
      rateLimit: rate === undefined ? Number.POSITIVE_INFINITY : Number(resolve(rate)),
      burstLimit: burst === undefined ? Number.POSITIVE_INFINITY : Number(resolve(burst)),
    };
  };
  const throttling: HttpApiThrottling = {};
  const fallback = limits(stage?.DefaultRouteSettings);
  if (fallback) throttling.default = fallback;
  const perRoute = stage?.RouteSettings;
  if (perRoute !== null && typeof perRoute === "object") {
    for (const [routeKey, settings] of Object.entries(perRoute)) {
      const route = limits(settings);
      if (route) {
        throttling.routes ??= {};
        throttling.routes[routeKey] = route;
      }
    }
  }
  return throttling.default || throttling.routes ? throttling : undefined;
}

function corsFrom(
  config: Record<string, unknown> | undefined,
  resolve: Resolve,
): HttpApiCors | undefined {
  if (!config) return undefined;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(resolve) : undefined);
  const cors: HttpApiCors = {};
  const origins = list(config.AllowOrigins);
  const methods = list(config.AllowMethods);
  const headers = list(config.AllowHeaders);
  const expose = list(config.ExposeHeaders);
  if (origins) cors.allowOrigins = origins;
  if (methods) cors.allowMethods = methods;
  if (headers) cors.allowHeaders = headers;
  if (expose) cors.exposeHeaders = expose;
  if (typeof config.AllowCredentials === "boolean") cors.allowCredentials = config.AllowCredentials;
  if (config.MaxAge !== undefined) cors.maxAge = Number(resolve(config.MaxAge));
  return cors;
}

function refersTo(value: unknown, logicalId: string): boolean {
  return (
    typeof value === "object" && value !== null && (value as { Ref?: unknown }).Ref === logicalId
  );
}

/** The first `{Ref}` inside `value` that names a resource of `type` (walks Fn::Join and friends). */
function findRef(
  value: unknown,
  resources: Record<string, TemplateResource>,
  type: string,
  depth = 0,
): string | undefined {
  if (depth > 8 || value === null || typeof value !== "object") return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === "string" && resources[ref]?.Type === type) return ref;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    const found = findRef(child, resources, type, depth + 1);
    if (found) return found;
  }
  return undefined;
}
