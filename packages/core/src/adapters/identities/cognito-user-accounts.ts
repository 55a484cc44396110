import {
  AdminDeleteUserCommand,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { UserAccounts } from "../../identities/ports";

/** `sub` is a UUID (checked by the routes); quotes are escaped anyway, as in ListUsers filters. */
const filterValue = (value: string): string => value.replace(/["\\]/g, (c) => `\\${c}`);

/**
 * The user pool's accounts for the deletion: `ListUsers` by `sub` (the only lookup by sub Cognito
 * offers; it also returns the email, whose claim the deletion releases) and `AdminDeleteUser`.
 * IAM: `cognito-idp:ListUsers` and `cognito-idp:AdminDeleteUser` on the pool's ARN.
 */
export class CognitoUserAccounts implements UserAccounts {
  constructor(
    private readonly client: Pick<CognitoIdentityProviderClient, "send">,
    private readonly userPoolId: string,
  ) {}

  async findBySub(sub: string): Promise<{ username: string; email?: string } | null> {
    const { Users } = await this.client.send(
      new ListUsersCommand({
        UserPoolId: this.userPoolId,
        Filter: `sub = "${filterValue(sub)}"`,
        Limit: 2,
      }),
    );
    const user = (Users ?? []).find(
      (candidate) => candidate.Attributes?.find((a) => a.Name === "sub")?.Value === sub,
    );
    if (user?.Username === undefined) return null;
    const email = user.Attributes?.find((a) => a.Name === "email")?.Value;
    return { username: user.Username, ...(email !== undefined ? { email } : {}) };
  }

  async delete(username: string): Promise<void> {
    try {
      await this.client.send(
        new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username }),
      );
    } catch (error) {
      // Deleted by an earlier attempt: the desired state holds.
      if ((error as { name?: unknown } | null)?.name === "UserNotFoundException") return;
      throw error;
    }
  }
}
