/**
 * People for the attack tests, driven with unmodified clients against a booted local cloud: users
 * who sign up (SignUp, then AdminConfirmSignUp, whose post confirmation trigger writes the profile)
 * and sign in with SRP (amazon-cognito-identity-js, the app client's only flow), identity-pool
 * identities with their credentials (GetId, GetCredentialsForIdentity), and SigV4-signed calls to
 * the HTTP API (packages/client `signedFetch`). Reads of the table are for assertions only.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type AwsCredentials, signedFetch } from "@boarding-pass/client";
import type { LocalCloud } from "@boarding-pass/local/cloud";
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";

const PASSWORD = "Corr3ct-Horse-Battery!";
const ANY_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface SignedInUser {
  email: string;
  sub: string;
  idToken: string;
  accessToken: string;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export class Actors {
  private readonly config: {
    endpoint: string;
    region: string;
    credentials: typeof ANY_CREDENTIALS;
  };
  readonly identity: CognitoIdentityClient;
  readonly idp: CognitoIdentityProviderClient;
  readonly dynamo: DynamoDBDocumentClient;
  private readonly runId = crypto.randomUUID().slice(0, 8);
  private users = 0;

  constructor(readonly cloud: LocalCloud) {
    this.config = { endpoint: cloud.endpoint, region: cloud.region, credentials: ANY_CREDENTIALS };
    this.identity = new CognitoIdentityClient(this.config);
    this.idp = new CognitoIdentityProviderClient(this.config);
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(this.config));
  }

  private get userPoolId() {
    return this.cloud.output("UserPoolId");
  }
  private get identityPoolId() {
    return this.cloud.output("IdentityPoolId");
  }
  get tableName() {
    return this.cloud.output("TableName");
  }

  /** A confirmed user (profile written by post confirmation), signed in with SRP. */
  async user(label: string): Promise<SignedInUser> {
    const email = `${label}-${this.runId}-${++this.users}@example.com`;
    const { UserSub } = await this.idp.send(
      new SignUpCommand({
        ClientId: this.cloud.output("UserPoolClientId"),
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
    // Cognito answers only after post confirmation succeeded: the profile exists from here on.
    await this.idp.send(
      new AdminConfirmSignUpCommand({ UserPoolId: this.userPoolId, Username: email }),
    );
    return { email, sub: UserSub!, ...(await this.signIn(email)) };
  }

  /** SRP sign-in through amazon-cognito-identity-js. */
  async signIn(email: string): Promise<{ idToken: string; accessToken: string }> {
    const pool = new CognitoUserPool({
      UserPoolId: this.userPoolId,
      ClientId: this.cloud.output("UserPoolClientId"),
      endpoint: this.cloud.endpoint,
    });
    const user = new CognitoUser({ Username: email, Pool: pool });
    const session = await new Promise<import("amazon-cognito-identity-js").CognitoUserSession>(
      (resolve, reject) =>
        user.authenticateUser(new AuthenticationDetails({ Username: email, Password: PASSWORD }), {
          onSuccess: resolve,
          onFailure: reject,
        }),
    );
    return {
      idToken: session.getIdToken().getJwtToken(),
      accessToken: session.getAccessToken().getJwtToken(),
    };
  }

  private logins(idToken: string) {
    return { [`cognito-idp.${this.cloud.region}.amazonaws.com/${this.userPoolId}`]: idToken };
  }

  /** A new guest identity and its guest credentials (what an app gets on first launch). */
  async guest(): Promise<{ identityId: string; credentials: AwsCredentials }> {
    const { IdentityId } = await this.identity.send(
      new GetIdCommand({ IdentityPoolId: this.identityPoolId }),
    );
    return this.credentialsFor(IdentityId!);
  }

  /** The user's own identity (GetId with their login) and its credentials. */
  async identityOf(
    user: SignedInUser,
  ): Promise<{ identityId: string; credentials: AwsCredentials }> {
    const { IdentityId } = await this.identity.send(
      new GetIdCommand({ IdentityPoolId: this.identityPoolId, Logins: this.logins(user.idToken) }),
    );
    return this.credentialsFor(IdentityId!, user.idToken);
  }

  /**
   * GetCredentialsForIdentity, with the user's login when given: on a guest's id with a login new
   * to the pool, Cognito links the login to that identity in place (same id, now authenticated).
   */
  async credentialsFor(
    identityId: string,
    idToken?: string,
  ): Promise<{ identityId: string; credentials: AwsCredentials }> {
    const response = await this.identity.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: identityId,
        ...(idToken !== undefined ? { Logins: this.logins(idToken) } : {}),
      }),
    );
    const c = response.Credentials!;
    return {
      identityId: response.IdentityId!,
      credentials: {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretKey!,
        sessionToken: c.SessionToken!,
      },
    };
  }

  /** A SigV4-signed call to the HTTP API. */
  async api(
    method: string,
    path: string,
    credentials: AwsCredentials,
    body?: unknown,
  ): Promise<ApiAnswer> {
    const base = this.cloud.output("ApiUrl");
    const response = await signedFetch({
      url: new URL(path, base.endsWith("/") ? base : `${base}/`).toString(),
      method,
      region: this.cloud.region,
      credentials,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  /** `DELETE /identity/me` with the user's access token (the user-pool JWT authorizer). */
  async deleteAccount(user: SignedInUser): Promise<ApiAnswer> {
    const base = this.cloud.output("ApiUrl");
    const response = await fetch(new URL("identity/me", base.endsWith("/") ? base : `${base}/`), {
      method: "DELETE",
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  async item(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    return Item;
  }

  async sortKeysUnder(pk: string): Promise<string[]> {
    const { Items } = await this.dynamo.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map((item) => String(item.sk)).sort();
  }

  close(): void {
    this.identity.destroy();
    this.idp.destroy();
    this.dynamo.destroy();
  }
}
