/**
 * The local API Gateway HTTP API (v2): `startHttpApi` serves one API on its own loopback port;
 * `httpApisFromTemplate`/`httpRoutesFromTemplate` read its routes from a synthesized template.
 */
export { startHttpApi } from "./http-api";
export { RouteKeyError } from "./routes";
export { httpApisFromTemplate, httpRoutesFromTemplate, type TemplateHttpApi } from "./template";
export type { HttpApi, HttpRoute } from "./types";
