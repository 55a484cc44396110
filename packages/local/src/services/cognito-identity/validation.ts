import { AwsServiceError } from "../../protocol/errors";
/**
 * Request validation as the Cognito Identity front end does it, before any operation runs:
 * `IdentityId` and `IdentityPoolId` are "a unique identifier in the format REGION:GUID", length 1
 * to 55, pattern `[\w-]+:[0-9a-f-]+` (API reference, GetCredentialsForIdentity and GetId, Request
 * Parameters). A value that breaks a constraint is refused with HTTP 400 `ValidationException`
 * (the API reference's Common Errors) and AWS's message shape, every broken constraint listed:
 * `1 validation error detected: Value 'x' at 'identityId' failed to satisfy constraint: Member must
 * satisfy regular expression pattern: [\w-]+:[0-9a-f-]+`. The texts are as AWS returned them in
 * aws/aws-sdk-cpp#1085 (GetCredentialsForIdentity, `identityId`), aws/amazon-freertos#1829 and
 * aws-amplify/amplify-swift#2864 (GetId, `identityPoolId`, `x-amzn-ErrorType: ValidationException`).
 */

/** The members that carry an id in the `REGION:GUID` format. */
export type IdMember = "IdentityId" | "IdentityPoolId";

const ID_PATTERN_TEXT = "[\\w-]+:[0-9a-f-]+";
/** AWS patterns match the whole value (`\w` is ASCII word characters, as in Java). */
const ID_PATTERN = /^[A-Za-z0-9_-]+:[0-9a-f-]+$/;
const ID_MAX_LENGTH = 55;

function memberName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

function shown(value: unknown): string {
  return value === undefined || value === null ? "null" : `'${String(value)}'`;
}

/** The constraints `value` breaks, in AWS's words, for the member named `member`. */
function idViolations(member: IdMember, value: unknown, required: boolean): string[] {
  const at = `at '${memberName(member)}' failed to satisfy constraint:`;
  if (value === undefined || value === null) {
    return required ? [`Value null ${at} Member must not be null`] : [];
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const out: string[] = [];
  if (text.length < 1)
    out.push(`Value ${shown(text)} ${at} Member must have length greater than or equal to 1`);
  if (text.length > ID_MAX_LENGTH) {
    out.push(
      `Value ${shown(text)} ${at} Member must have length less than or equal to ${ID_MAX_LENGTH}`,
    );
  }
  if (typeof value !== "string" || !ID_PATTERN.test(value)) {
    out.push(
      `Value ${shown(text)} ${at} Member must satisfy regular expression pattern: ${ID_PATTERN_TEXT}`,
    );
  }
  return out;
}

/**
 * Checks the id members of a request; throws `ValidationException` listing every violation.
 * `optional` members may be absent.
 */
export function validateIds(
  input: Record<string, unknown>,
  required: readonly IdMember[],
  optional: readonly IdMember[] = [],
): void {
  const violations = [
    ...required.flatMap((member) => idViolations(member, input[member], true)),
    ...optional.flatMap((member) => idViolations(member, input[member], false)),
  ];
  if (violations.length === 0) return;
  const count = violations.length;
  throw new AwsServiceError(
    "ValidationException",
    `${count} validation error${count === 1 ? "" : "s"} detected: ${violations.join("; ")}`,
  );
}
