/**
 * `@boarding-pass/core/token-claims`: the claims pre token generation adds (tenant, plan, app
 * roles) and the IAM role choice, from the profile and the role catalog.
 */
export {
  ALLOWED_CLAIMS,
  buildClaimsResponse,
  type ClaimsResponseV1,
  type ClaimsResponseV2,
  type PreTokenGenerationRequest,
  parseRoleCatalog,
  RoleCatalog,
  responseShapeOf,
} from "./claims";
