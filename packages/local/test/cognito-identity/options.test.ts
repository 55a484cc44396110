/**
 * Service options: `trustPolicies: "skip"` (credentials without a trust check) and `issuerBase`
 * (the OpenID token issuer), plus the JWKS control route.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
} from "@aws-sdk/client-cognito-identity";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
  GUEST_SESSION_POLICY,
} from "../../src/services/cognito-identity/index";
import { createStsService, type StsService } from "../../src/services/sts/index";
import type { ServiceRequest } from "../../src/types";
import { clientConfig, type Served, serve } from "../services/serve";
import { roleArn } from "./fixtures";

const ISSUER = "https://identity.local.test";

let sts: StsService;
let service: CognitoIdentityService;
let served: Served;
let client: CognitoIdentityClient;

beforeAll(async () => {
  sts = createStsService({ region: "eu-west-1" });
  service = createCognitoIdentityService({
    region: "eu-west-1",
    sts,
    userPoolKeys: async () => undefined,
    trustPolicies: "skip",
    issuerBase: `${ISSUER}/`,
  });
  served = await serve(service, "eu-west-1");
  client = new CognitoIdentityClient({ ...clientConfig(served.endpoint), region: "eu-west-1" });
});
afterAll(async () => {
  client?.destroy();
  await served?.close();
  await service?.close();
});

it("issues recorded credentials without a trust check when told to skip it", async () => {
  const guestRole = roleArn("unknown-to-sts");
  const { IdentityPoolId } = service.createIdentityPool({
    IdentityPoolName: "skip",
    AllowUnauthenticatedIdentities: true,
    AllowClassicFlow: true,
  });
  expect(IdentityPoolId).toMatch(/^eu-west-1:/);
  service.setIdentityPoolRoles(IdentityPoolId, { Roles: { unauthenticated: guestRole } });
  const { IdentityId } = await client.send(new GetIdCommand({ IdentityPoolId }));
  expect(IdentityId).toMatch(/^eu-west-1:/);

  const out = await client.send(new GetCredentialsForIdentityCommand({ IdentityId }));
  expect(sts.lookupCredentials(out.Credentials!.AccessKeyId!)).toMatchObject({
    identityId: IdentityId,
    roleArn: guestRole,
    sessionPolicy: GUEST_SESSION_POLICY,
  });

  const { Token } = await client.send(new GetOpenIdTokenCommand({ IdentityId }));
  const [header, payload] = Token!
    .split(".")
    .slice(0, 2)
    .map(
      (part) => JSON.parse(Buffer.from(part, "base64url").toString()) as Record<string, unknown>,
    );
  expect(header).toMatchObject({ alg: "RS512", kid: service.jwks().keys[0]!.kid });
  expect(payload).toMatchObject({ iss: ISSUER, aud: IdentityPoolId, sub: IdentityId });
  expect(service.issuer).toBe(ISSUER);
});

it("serves its JWKS on the control route and nothing else", async () => {
  const request = { method: "GET" } as ServiceRequest;
  const jwks = await service.control!("jwks.json", new URLSearchParams(), request);
  expect(jwks.status).toBe(200);
  expect(JSON.parse(String(jwks.body))).toEqual(service.jwks());
  expect(service.jwks().keys[0]).toMatchObject({ kty: "RSA", alg: "RS512", use: "sig" });
  expect(service.jwks().keys[0]).not.toHaveProperty("d");
  const missing = await service.control!("identities", new URLSearchParams(), request);
  expect(missing.status).toBe(404);
});
