import { CognitoIdentityClient, DescribeIdentityCommand } from "@aws-sdk/client-cognito-identity";
import type { IdentityPoolDirectory } from "../identity/ports";
import { type SdkClientOptions, sdkClientConfig } from "./sdk";

export function createCognitoIdentityClient(options: SdkClientOptions = {}): CognitoIdentityClient {
  return new CognitoIdentityClient(sdkClientConfig(options));
}

/**
 * The identity pool's own record of an identity: `DescribeIdentity` returns the provider names of
 * its logins ("DescribeIdentity", Amazon Cognito Federated Identities API Reference). IAM:
 * `cognito-identity:DescribeIdentity`, which has no resource type; it is scoped to our pool with
 * the `cognito-identity:IdentityPoolArn` condition key ("Actions, resources, and condition keys for
 * Amazon Cognito Identity", Service Authorization Reference).
 */
export class CognitoIdentityPoolDirectory implements IdentityPoolDirectory {
  constructor(private readonly client: Pick<CognitoIdentityClient, "send">) {}

  async loginsOf(identityId: string): Promise<string[] | null> {
    try {
      const { Logins } = await this.client.send(
        new DescribeIdentityCommand({ IdentityId: identityId }),
      );
      return [...(Logins ?? [])];
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === "ResourceNotFoundException") return null;
      throw error;
    }
  }
}
