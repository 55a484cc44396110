import { NotAGuestError } from "../errors";
import type { IdentityRecord } from "./model";
import type { IdentityPoolDirectory } from "./ports";

/**
 * The model rule of ADR 0006: an identity that has any login in the identity pool is never a
 * guest, whatever its caller's credentials say.
 *
 * Credentials from `GetCredentialsForIdentity` last up to an hour, and API Gateway's IAM authorizer
 * reports the `amr` they were issued with. When someone signs in on a device that was used as a
 * guest, Cognito links the login to the guest's identity in place (same id, now authenticated;
 * "Identity pools (federated identities) authentication flow" in the Cognito developer guide), and
 * whoever kept the old guest credentials still looks like a guest of that identity. So the pool is
 * asked (`DescribeIdentity`: `Logins` must be empty), and a user recorded here on the identity is
 * just as final.
 */
export async function assertStillAGuest(
  identityId: string,
  record: IdentityRecord | null,
  deps: { identityPool: IdentityPoolDirectory },
): Promise<void> {
  if (record?.userSub !== undefined) {
    throw new NotAGuestError("This identity belongs to a signed-in user; it is no guest any more");
  }
  const logins = await deps.identityPool.loginsOf(identityId);
  // An identity the pool does not know cannot be shown to be a guest: refuse (the stricter).
  if (logins === null) throw new NotAGuestError("The identity pool does not know this identity");
  if (logins.length > 0) {
    throw new NotAGuestError("This identity has a login in the identity pool; it is no guest");
  }
}
