/**
 * The user-pool model: definitions as callers give them (CloudFormation property names) and the
 * records the service keeps and journals.
 */
import type { PasswordPolicy } from "./passwords";

export type PreTokenGenerationVersion = "V1_0" | "V2_0" | "V3_0";

/** CloudFormation `AWS::Cognito::UserPool` properties the emulator honours. */
export interface UserPoolDefinition {
  UserPoolName?: string;
  UsernameAttributes?: Array<"email" | "phone_number">;
  AliasAttributes?: Array<"email" | "phone_number" | "preferred_username">;
  UsernameConfiguration?: { CaseSensitive?: boolean };
  AutoVerifiedAttributes?: Array<"email" | "phone_number">;
  Policies?: { PasswordPolicy?: PasswordPolicy };
  Schema?: SchemaAttribute[];
  LambdaConfig?: LambdaConfig;
  UserPoolTier?: "LITE" | "ESSENTIALS" | "PLUS";
  AdminCreateUserConfig?: { AllowAdminCreateUserOnly?: boolean };
  /** OFF (the default), OPTIONAL or ON. Only software token (TOTP) MFA is emulated. */
  MfaConfiguration?: "OFF" | "OPTIONAL" | "ON";
  /** CloudFormation's `EnabledMfas`; SMS_MFA and EMAIL_OTP are accepted but never challenged. */
  EnabledMfas?: Array<"SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP">;
}

interface SchemaAttribute {
  Name: string;
  AttributeDataType?: "String" | "Number" | "DateTime" | "Boolean";
  Mutable?: boolean;
  Required?: boolean;
}

interface LambdaConfig {
  PreSignUp?: string;
  PostConfirmation?: string;
  PreTokenGeneration?: string;
  PreTokenGenerationConfig?: { LambdaArn: string; LambdaVersion: PreTokenGenerationVersion };
}

export type ExplicitAuthFlow =
  | "ALLOW_USER_PASSWORD_AUTH"
  | "ALLOW_USER_SRP_AUTH"
  | "ALLOW_REFRESH_TOKEN_AUTH"
  | "ALLOW_ADMIN_USER_PASSWORD_AUTH"
  | "ALLOW_CUSTOM_AUTH"
  | "ALLOW_USER_AUTH";

export type TokenUnit = "seconds" | "minutes" | "hours" | "days";

/** CloudFormation `AWS::Cognito::UserPoolClient` properties the emulator honours. */
export interface UserPoolClientDefinition {
  ClientName?: string;
  ExplicitAuthFlows?: ExplicitAuthFlow[];
  ReadAttributes?: string[];
  WriteAttributes?: string[];
  AccessTokenValidity?: number;
  IdTokenValidity?: number;
  RefreshTokenValidity?: number;
  TokenValidityUnits?: { AccessToken?: TokenUnit; IdToken?: TokenUnit; RefreshToken?: TokenUnit };
  GenerateSecret?: boolean;
  PreventUserExistenceErrors?: "ENABLED" | "LEGACY";
  EnableTokenRevocation?: boolean;
}

export interface GroupDefinition {
  GroupName: string;
  RoleArn?: string;
  Precedence?: number;
  Description?: string;
}

export interface PoolRecord {
  id: string;
  name: string;
  created: number;
  definition: UserPoolDefinition;
  /** RS256 signing key: made once per pool, journaled, so tokens verify across restarts. */
  kid: string;
  privateKeyPem: string;
  /** Seals SRP and challenge sessions and refresh tokens (AES-256-GCM), base64. */
  sealKey: string;
}

export interface ClientRecord {
  clientId: string;
  poolId: string;
  created: number;
  definition: UserPoolClientDefinition;
}

export interface GroupRecord extends GroupDefinition {
  poolId: string;
  created: number;
  modified: number;
}

type UserStatus =
  | "UNCONFIRMED"
  | "CONFIRMED"
  | "FORCE_CHANGE_PASSWORD"
  | "RESET_REQUIRED"
  | "EXTERNAL_PROVIDER";

export interface PendingCode {
  code: string;
  kind: "signup" | "reset" | "verify-email";
  expires: number;
}

export interface UserRecord {
  /** The internal username (`cognito:username`, USER_ID_FOR_SRP): a UUID in email-as-username pools. */
  username: string;
  attributes: Record<string, string>;
  status: UserStatus;
  enabled: boolean;
  created: number;
  modified: number;
  /** scrypt hash; absent for federated users. */
  passwordHash?: string;
  srp?: { salt: string; verifier: string };
  /** When the temporary password of FORCE_CHANGE_PASSWORD stops working (ms). */
  temporaryPasswordExpires?: number;
  groups: string[];
  codes: PendingCode[];
  /** GlobalSignOut / AdminUserGlobalSignOut: tokens issued at or before this (s) are revoked. */
  signedOutAt?: number;
  /** Linked federated identities (AdminLinkProviderForUser), as Cognito's `identities` attribute. */
  identities: LinkedIdentity[];
  /** Software token (TOTP) MFA; absent until AssociateSoftwareToken. */
  totp?: TotpState;
}

interface TotpState {
  /** Base32 secret from AssociateSoftwareToken, awaiting VerifySoftwareToken. */
  pendingSecret?: string;
  /** Base32 secret a VerifySoftwareToken proved; what sign-in checks codes against. */
  secret?: string;
  /** VerifySoftwareToken's FriendlyDeviceName. */
  deviceName?: string;
  /** SetUserMFAPreference: TOTP MFA on for this user, and preferred. */
  enabled?: boolean;
  preferred?: boolean;
}

export interface LinkedIdentity {
  providerName: string;
  providerType: string;
  userId: string;
  dateCreated: number;
  /** True for the identity a federated user was created from; false for linked ones. */
  primary?: boolean;
}

export type JournalRecord =
  | { op: "putPool"; pool: PoolRecord }
  | { op: "putClient"; client: ClientRecord }
  | { op: "putGroup"; group: GroupRecord }
  | { op: "putUser"; poolId: string; user: UserRecord }
  | { op: "deleteUser"; poolId: string; username: string }
  | { op: "revoke"; poolId: string; originJti: string; expires: number };

/** Standard OIDC attributes every pool has (besides `custom:` ones from the schema). */
export const STANDARD_ATTRIBUTES = new Set([
  "sub",
  "name",
  "given_name",
  "family_name",
  "middle_name",
  "nickname",
  "preferred_username",
  "profile",
  "picture",
  "website",
  "email",
  "email_verified",
  "gender",
  "birthdate",
  "zoneinfo",
  "locale",
  "phone_number",
  "phone_number_verified",
  "address",
  "updated_at",
]);

/** A code Cognito would have emailed: kept for tests and shown in the log. */
export interface OutboxMessage {
  poolId: string;
  username: string;
  kind: "signup" | "reset" | "verify-email" | "invitation";
  attribute: "email" | "phone_number";
  destination: string;
  code: string;
  sentAt: string;
}

export interface ExternalSignInInput {
  /** e.g. `Google`, `SignInWithApple`, or an OIDC provider name. */
  providerName: string;
  /** The IdP's subject. */
  providerUserId: string;
  attributes?: Record<string, string>;
}

export interface AuthenticationResult {
  AccessToken: string;
  IdToken: string;
  RefreshToken?: string;
  ExpiresIn: number;
  TokenType: "Bearer";
}

/** Challenge sessions are good for three minutes, as Cognito's. */
export const SESSION_SECONDS = 180;
export const SESSION_INVALID = "Invalid session for the user.";
export const SESSION_EXPIRED = "Invalid session for the user, session is expired.";
export const SESSION_SPENT = "Invalid session for the user, session can only be used once.";

/** The NEW_PASSWORD_REQUIRED challenge's session, sealed. */
export interface NewPasswordSession {
  t: "new-password";
  p: string;
  c: string;
  u: string;
  exp: number;
}

/** A refresh token's contents, sealed: the session (`o`, origin_jti) it refreshes. */
export interface RefreshPayload {
  t: "refresh";
  p: string;
  c: string;
  u: string;
  o: string;
  a: number;
  iat: number;
  exp: number;
}
