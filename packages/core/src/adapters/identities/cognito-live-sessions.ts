import {
  type CognitoIdentityProviderClient,
  GetUserCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { LiveSessions } from "../../identities/ports";

/**
 * Whether the user pool still accepts an access token: Cognito's `GetUser`, authorized by the
 * token itself (no IAM permission). Cognito answers `NotAuthorizedException` for a token that is
 * revoked ("Access Token has been revoked", after `GlobalSignOut`, `AdminUserGlobalSignOut` or
 * `RevokeToken` of its refresh token), expired, or of a disabled user, and
 * `UserNotFoundException` once the user is deleted ("GetUser", Amazon Cognito API Reference).
 */
export class CognitoLiveSessions implements LiveSessions {
  constructor(private readonly client: Pick<CognitoIdentityProviderClient, "send">) {}

  async userOf(accessToken: string): Promise<{ sub: string } | null> {
    try {
      const { UserAttributes } = await this.client.send(
        new GetUserCommand({ AccessToken: accessToken }),
      );
      const sub = UserAttributes?.find((attribute) => attribute.Name === "sub")?.Value;
      return sub === undefined ? null : { sub };
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === "NotAuthorizedException" || name === "UserNotFoundException") return null;
      throw error;
    }
  }
}
