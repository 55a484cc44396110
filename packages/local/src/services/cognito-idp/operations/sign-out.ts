/**
 * Ending sessions: GlobalSignOut and RevokeToken.
 */
import { AwsServiceError } from "../../../protocol/errors";
import type { RefreshPayload } from "../model";
import { putUser, requireClient, type StoreContext } from "../state";
import { authenticateAccessToken, type TokenContext } from "../token-issuer";
import { unseal } from "../tokens";
import { type Input, type Operation, requireString } from "../wire";

type SignOutContext = StoreContext & TokenContext;

function globalSignOut(ctx: SignOutContext, input: Input) {
  const { pool, user } = authenticateAccessToken(ctx, requireString(input, "AccessToken"));
  user.signedOutAt = ctx.now();
  putUser(ctx, pool, user);
  return {};
}

function revokeToken(ctx: SignOutContext, input: Input) {
  const { client, pool } = requireClient(ctx, requireString(input, "ClientId"));
  const payload = unseal<RefreshPayload>(pool.keys.sealKey, requireString(input, "Token"));
  if (payload?.t !== "refresh") {
    throw new AwsServiceError("UnsupportedTokenTypeException", "The token is not a refresh token.");
  }
  if (payload.c !== client.clientId) {
    throw new AwsServiceError("UnauthorizedException", "Token does not belong to the client");
  }
  if (!pool.revoked.has(payload.o)) {
    ctx.journal.commit({
      op: "revoke",
      poolId: pool.record.id,
      originJti: payload.o,
      expires: payload.exp,
    });
  }
  return {};
}

export const signOutOperations: Record<string, Operation<SignOutContext>> = {
  GlobalSignOut: globalSignOut,
  RevokeToken: revokeToken,
};
