/**
 * Test harness: the local AWS edge with the user-pool service registered, and an unmodified SDK
 * client pointed at it. Refuses any non-loopback endpoint.
 */

import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { startEmbeddedAws } from "@boarding-pass/testing/embedded";
import type { LocalAws } from "../../src/index";
import {
  type CognitoIdpService,
  type CognitoIdpServiceOptions,
  createCognitoIdpService,
  type OutboxMessage,
} from "../../src/services/cognito-idp/index";

export interface CognitoHarness {
  aws: LocalAws;
  endpoint: string;
  cognito: CognitoIdpService;
  client: CognitoIdentityProviderClient;
  /** Latest code delivered to this address, read through the control API as a developer would. */
  latestCode(email: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startCognito(
  options: Partial<Omit<CognitoIdpServiceOptions, "endpoint">> = {},
): Promise<CognitoHarness> {
  const { aws, endpoint } = await startEmbeddedAws();
  const cognito = createCognitoIdpService({
    region: "us-east-1",
    endpoint: () => endpoint,
    log: () => {},
    ...options,
  });
  aws.register(cognito);
  const client = new CognitoIdentityProviderClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return {
    aws,
    endpoint,
    cognito,
    client,
    async latestCode(email) {
      const response = await fetch(
        `${endpoint}/_local/cognito-idp/codes?email=${encodeURIComponent(email)}`,
      );
      const { codes } = (await response.json()) as { codes: OutboxMessage[] };
      const latest = codes.at(-1);
      if (!latest) throw new Error(`no code was delivered to ${email}`);
      return latest.code;
    },
    async stop() {
      client.destroy();
      await aws.stop();
    },
  };
}

/** A fresh address per test: tests scope their data and never share users. */
export function freshEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

export const PASSWORD = "Corr3ct-Horse!";

/** A pool like the Boarding Pass one: email as username, auto-verified, default policy. */
export function emailPool(cognito: CognitoIdpService, extra: Record<string, unknown> = {}) {
  const pool = cognito.createUserPool({
    UserPoolName: "boarding-pass",
    UsernameAttributes: ["email"],
    AutoVerifiedAttributes: ["email"],
    UsernameConfiguration: { CaseSensitive: false },
    Schema: [{ Name: "tier", AttributeDataType: "String", Mutable: true }],
    ...extra,
  });
  const { ClientId } = cognito.createUserPoolClient(pool.Id, {
    ClientName: "web",
    ExplicitAuthFlows: [
      "ALLOW_USER_SRP_AUTH",
      "ALLOW_USER_PASSWORD_AUTH",
      "ALLOW_REFRESH_TOKEN_AUTH",
    ],
    ReadAttributes: ["email", "email_verified", "name", "custom:tier"],
    WriteAttributes: ["email", "name"],
  });
  return { poolId: pool.Id, clientId: ClientId };
}
