/**
 * The events Cognito sends each user-pool trigger source (Customizing user pool workflows with
 * Lambda triggers: pre sign-up, post confirmation, pre token generation).
 */
import type { PreTokenGenerationVersion } from "../model";

export interface TriggerContext {
  region: string;
  userPoolId: string;
  userName: string;
  clientId: string;
}

function baseEvent(version: string, triggerSource: string, context: TriggerContext) {
  return {
    version,
    triggerSource,
    region: context.region,
    userPoolId: context.userPoolId,
    userName: context.userName,
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: context.clientId },
  };
}

export type PreSignUpSource =
  | "PreSignUp_SignUp"
  | "PreSignUp_AdminCreateUser"
  | "PreSignUp_ExternalProvider";

export function preSignUpEvent(
  source: PreSignUpSource,
  context: TriggerContext,
  request: {
    userAttributes: Record<string, string>;
    validationData?: Record<string, string>;
    clientMetadata?: Record<string, string>;
  },
) {
  return {
    ...baseEvent("1", source, context),
    request: {
      userAttributes: request.userAttributes,
      validationData: request.validationData ?? null,
      ...(request.clientMetadata ? { clientMetadata: request.clientMetadata } : {}),
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

export type PostConfirmationSource =
  | "PostConfirmation_ConfirmSignUp"
  | "PostConfirmation_ConfirmForgotPassword";

export function postConfirmationEvent(
  source: PostConfirmationSource,
  context: TriggerContext,
  request: { userAttributes: Record<string, string>; clientMetadata?: Record<string, string> },
) {
  return {
    ...baseEvent("1", source, context),
    request: {
      userAttributes: request.userAttributes,
      ...(request.clientMetadata ? { clientMetadata: request.clientMetadata } : {}),
    },
    response: {},
  };
}

export type TokenGenerationSource =
  | "TokenGeneration_HostedAuth"
  | "TokenGeneration_Authentication"
  | "TokenGeneration_NewPasswordChallenge"
  | "TokenGeneration_AuthenticateDevice"
  | "TokenGeneration_RefreshTokens";

export interface GroupConfiguration {
  groupsToOverride: string[];
  iamRolesToOverride: string[];
  preferredRole: string | null;
}

/** Pre token generation event; V1 and V2 differ in `version`, `scopes` and the response key. */
export function preTokenGenerationEvent(
  version: PreTokenGenerationVersion,
  source: TokenGenerationSource,
  context: TriggerContext,
  request: {
    userAttributes: Record<string, string>;
    groupConfiguration: GroupConfiguration;
    scopes: string[];
    /**
     * From (Admin)RespondToAuthChallenge's ClientMetadata: "You can pass this data to your Lambda
     * function by using the ClientMetadata parameter in the AdminRespondToAuthChallenge and
     * RespondToAuthChallenge API actions" (Pre token generation Lambda trigger, request
     * parameters). Present only when the request carried it.
     */
    clientMetadata?: Record<string, string>;
  },
) {
  const metadata = request.clientMetadata ? { clientMetadata: request.clientMetadata } : {};
  if (version === "V1_0") {
    return {
      ...baseEvent("1", source, context),
      request: {
        userAttributes: request.userAttributes,
        groupConfiguration: request.groupConfiguration,
        ...metadata,
      },
      response: { claimsOverrideDetails: null },
    };
  }
  return {
    ...baseEvent(version === "V2_0" ? "2" : "3", source, context),
    request: {
      userAttributes: request.userAttributes,
      groupConfiguration: request.groupConfiguration,
      scopes: request.scopes,
      ...metadata,
    },
    response: { claimsAndScopeOverrideDetails: null },
  };
}
