import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminLinkProviderForUserCommand,
  CognitoIdentityProviderClient,
  GetUserCommand,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { LiveSessions, UserAccounts } from "../identity/ports";
import type { DirectoryUser, UserDirectory } from "../sign-up/ports";
import { type SdkClientOptions, sdkClientConfig } from "./sdk";

export function createCognitoClient(options: SdkClientOptions = {}): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient(sdkClientConfig(options));
}

/**
 * ListUsers filter values are double-quoted; escape what would end the quote (a `sub` is a UUID,
 * checked by the routes, and is escaped anyway).
 */
const filterValue = (value: string): string => value.replace(/["\\]/g, (c) => `\\${c}`);

/**
 * The user pool's admin API as the triggers use it. Constructed per invocation around the
 * module-scope client, because the pool id arrives with each event.
 */
export class CognitoAdmin implements UserDirectory {
  constructor(
    private readonly client: Pick<CognitoIdentityProviderClient, "send">,
    private readonly userPoolId: string,
  ) {}

  findUsersByEmail(
    email: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<DirectoryUser[]> {
    return this.listUsers(`email = "${filterValue(email)}"`, options.signal);
  }

  async findUserByUsername(
    username: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<DirectoryUser | null> {
    const users = await this.listUsers(`username = "${filterValue(username)}"`, options.signal);
    return users.find((user) => user.username === username) ?? users[0] ?? null;
  }

  private async listUsers(
    filter: string,
    signal: AbortSignal | undefined,
  ): Promise<DirectoryUser[]> {
    const { Users } = await this.client.send(
      new ListUsersCommand({ UserPoolId: this.userPoolId, Filter: filter, Limit: 10 }),
      { abortSignal: signal },
    );
    return (Users ?? []).map((user) => {
      const attribute = (name: string) =>
        user.Attributes?.find((candidate) => candidate.Name === name)?.Value;
      const found: DirectoryUser = { username: user.Username ?? "" };
      const sub = attribute("sub");
      const mail = attribute("email");
      const verified = attribute("email_verified");
      if (sub !== undefined) found.sub = sub;
      if (mail !== undefined) found.email = mail;
      if (verified !== undefined) found.emailVerified = verified;
      if (user.UserStatus !== undefined) found.status = user.UserStatus;
      return found;
    });
  }

  /** AdminGetUser's `UserStatus`; null for `UserNotFoundException`. */
  async userStatus(
    username: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<string | null> {
    try {
      const { UserStatus } = await this.client.send(
        new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: username }),
        { abortSignal: options.signal },
      );
      return UserStatus ?? null;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === "UserNotFoundException") return null;
      throw error;
    }
  }

  async linkProviderToUser(
    input: { nativeUsername: string; providerName: string; providerUserId: string },
    options: { signal?: AbortSignal } = {},
  ): Promise<"linked" | "already-linked"> {
    try {
      await this.sendLink(input, options);
      return "linked";
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === "AliasExistsException") {
        return "already-linked";
      }
      throw error;
    }
  }

  private async sendLink(
    input: { nativeUsername: string; providerName: string; providerUserId: string },
    options: { signal?: AbortSignal },
  ): Promise<void> {
    await this.client.send(
      new AdminLinkProviderForUserCommand({
        UserPoolId: this.userPoolId,
        DestinationUser: { ProviderName: "Cognito", ProviderAttributeValue: input.nativeUsername },
        SourceUser: {
          ProviderName: input.providerName,
          ProviderAttributeName: "Cognito_Subject",
          ProviderAttributeValue: input.providerUserId,
        },
      }),
      { abortSignal: options.signal },
    );
  }

  /** Idempotent on AWS: adding a member again succeeds. */
  async addUserToGroup(
    username: string,
    groupName: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.client.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: this.userPoolId,
        Username: username,
        GroupName: groupName,
      }),
      { abortSignal: options.signal },
    );
  }
}

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
