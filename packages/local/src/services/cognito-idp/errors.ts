/**
 * Cognito's error classes as the JSON 1.1 wire shows them: HTTP 400, `__type` and
 * `x-amzn-ErrorType` naming the class, and Cognito's own message text (clients match on both).
 */
export type CognitoErrorCode =
  | "AliasExistsException"
  | "CodeMismatchException"
  | "EnableSoftwareTokenMFAException"
  | "ExpiredCodeException"
  | "FeatureUnavailableInTierException"
  | "GroupExistsException"
  | "InvalidLambdaResponseException"
  | "InvalidParameterException"
  | "InvalidPasswordException"
  | "LimitExceededException"
  | "NotAuthorizedException"
  | "PasswordResetRequiredException"
  | "ResourceNotFoundException"
  | "SoftwareTokenMFANotFoundException"
  | "UnauthorizedException"
  | "UnexpectedLambdaException"
  | "UnsupportedOperationException"
  | "UnsupportedTokenTypeException"
  | "UnsupportedUserStateException"
  | "UnknownOperationException"
  | "UserLambdaValidationException"
  | "UserNotConfirmedException"
  | "UserNotFoundException"
  | "UsernameExistsException"
  | "SerializationException";

export class CognitoIdpError extends Error {
  constructor(
    readonly code: CognitoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code;
  }
}

export const INCORRECT_CREDENTIALS = "Incorrect username or password.";

export function notAuthorized(message = INCORRECT_CREDENTIALS): CognitoIdpError {
  return new CognitoIdpError("NotAuthorizedException", message);
}

export function invalidParameter(message: string): CognitoIdpError {
  return new CognitoIdpError("InvalidParameterException", message);
}

export function userNotFound(): CognitoIdpError {
  return new CognitoIdpError("UserNotFoundException", "User does not exist.");
}
