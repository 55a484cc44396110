/**
 * Cognito user pools' errors as the JSON 1.1 wire shows them: HTTP 400, `__type`,
 * `x-amzn-ErrorType` and `x-amzn-ErrorMessage` naming the class, and Cognito's own message text
 * (clients match on both).
 */
import { AwsServiceError } from "../../protocol/errors";
import { JSON_1_1, type JsonErrorDialect } from "../../protocol/json";

export const COGNITO_IDP_ERRORS: JsonErrorDialect = {
  contentType: JSON_1_1,
  headers: ["x-amzn-errortype", "x-amzn-errormessage"],
};

const INCORRECT_CREDENTIALS = "Incorrect username or password.";

export function notAuthorized(message = INCORRECT_CREDENTIALS): AwsServiceError {
  return new AwsServiceError("NotAuthorizedException", message);
}

export function invalidParameter(message: string): AwsServiceError {
  return new AwsServiceError("InvalidParameterException", message);
}

export function userNotFound(): AwsServiceError {
  return new AwsServiceError("UserNotFoundException", "User does not exist.");
}
