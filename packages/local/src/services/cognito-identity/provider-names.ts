/**
 * How a Logins key or a token's `iss` is matched to a user-pool provider configured on the pool.
 *
 * In AWS the Logins key is the ID token's `iss` without the scheme,
 * `cognito-idp.<region>.amazonaws.com/<userPoolId>`, and that is also the ProviderName configured
 * on the identity pool. Locally the user pool's issuer is `http://127.0.0.1:<port>/<userPoolId>`,
 * so a client that derives the key from `iss` sends `127.0.0.1:<port>/<userPoolId>`.
 *
 * The rule: a user-pool provider is identified by its pool id. A key or issuer matches a
 * configured provider when, without scheme and trailing slash, it equals the provider name, or
 * when both end in `/<userPoolId>` with the same AWS-shaped pool id (`<region>_<alphanumerics>`),
 * whatever the host. Everything is then reported and mapped under the configured (AWS-shaped)
 * name, so role mappings, DescribeIdentity and `amr` read exactly as in AWS.
 */

/** `us-east-1_AbC123`: the shape aws-jwt-verify and Cognito use. */
const USER_POOL_ID = /^[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+$/;

/** Drops the scheme and trailing slashes: the IAM/Cognito provider-name form of an issuer. */
export function withoutScheme(value: string): string {
  return value.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

/** The user-pool id a provider name or issuer ends with, if it has that shape. */
export function userPoolIdOf(value: string): string | undefined {
  const normalized = withoutScheme(value);
  const slash = normalized.lastIndexOf("/");
  if (slash <= 0) return undefined;
  const last = normalized.slice(slash + 1);
  return USER_POOL_ID.test(last) ? last : undefined;
}

/** True when `value` (a Logins key or an `iss`) names the configured `providerName`. */
export function namesProvider(value: string, providerName: string): boolean {
  const a = withoutScheme(value);
  const b = withoutScheme(providerName);
  if (a === b) return true;
  const poolA = userPoolIdOf(a);
  return poolA !== undefined && poolA === userPoolIdOf(b);
}

/** The configured provider name a Logins key stands for, or undefined. */
export function configuredProviderFor(
  key: string,
  providerNames: Iterable<string>,
): string | undefined {
  for (const name of providerNames) if (namesProvider(key, name)) return name;
  return undefined;
}
