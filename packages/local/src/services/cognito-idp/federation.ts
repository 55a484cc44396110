/**
 * A federated user's sign-in through the hosted UI, which the emulator has no pages for: runs
 * PreSignUp_ExternalProvider and PostConfirmation on first sign-in (unless linked to a native user
 * with AdminLinkProviderForUser), then TokenGeneration_HostedAuth.
 */
import { randomUUID } from "node:crypto";
import { createGroup, type DefinitionContext } from "./definitions";
import { notAuthorized } from "./errors";
import type { AuthenticationResult, ExternalSignInInput } from "./model";
import { providerType } from "./operations/admin-users";
import { findUser, putUser, requireClient, requirePool } from "./state";
import { issueTokens, type TokenContext } from "./token-issuer";
import { runPostConfirmation, runPreSignUp, triggerContext } from "./triggers/pool-triggers";

type FederationContext = DefinitionContext & TokenContext;

export async function signInWithExternalProvider(
  ctx: FederationContext,
  poolId: string,
  clientId: string,
  external: ExternalSignInInput,
): Promise<AuthenticationResult> {
  const pool = requirePool(ctx, poolId);
  const { client } = requireClient(ctx, clientId);
  const linked = [...pool.users.values()].find((user) =>
    user.identities.some(
      (identity) =>
        identity.providerName === external.providerName &&
        identity.userId === external.providerUserId,
    ),
  );
  // Cognito names federated users `<provider>_<subject>` with the provider part lowercased
  // (`google_1049…` for `Google`); core's provider resolution relies on that spelling.
  const username = `${external.providerName.toLowerCase()}_${external.providerUserId}`;
  let user = linked ?? findUser(pool, username);
  if (!user) {
    const attributes = { ...(external.attributes ?? {}) };
    const flags = await runPreSignUp(
      ctx,
      pool,
      "PreSignUp_ExternalProvider",
      triggerContext(ctx, pool, username, clientId),
      {
        userAttributes: {
          ...attributes,
          "cognito:email_alias": "",
          "cognito:phone_number_alias": "",
        },
        validationData: {},
      },
    );
    if (flags?.autoVerifyEmail && attributes.email) attributes.email_verified = "true";
    if (flags?.autoVerifyPhone && attributes.phone_number) {
      attributes.phone_number_verified = "true";
    }
    user = {
      username,
      attributes: { sub: randomUUID(), ...attributes },
      status: "EXTERNAL_PROVIDER",
      enabled: true,
      created: ctx.now(),
      modified: ctx.now(),
      groups: [],
      codes: [],
      identities: [
        {
          providerName: external.providerName,
          providerType: providerType(external.providerName),
          userId: external.providerUserId,
          dateCreated: ctx.now(),
          primary: true,
        },
      ],
    };
    // Cognito puts every federated user in a group named after the pool and provider.
    const providerGroup = `${pool.record.id}_${external.providerName}`;
    if (!pool.groups.has(providerGroup))
      createGroup(ctx, pool.record.id, { GroupName: providerGroup });
    user.groups.push(providerGroup);
    putUser(ctx, pool, user);
    await runPostConfirmation(
      ctx,
      pool,
      "PostConfirmation_ConfirmSignUp",
      user,
      clientId,
      undefined,
    );
  }
  if (!user.enabled) throw notAuthorized("User is disabled.");
  return issueTokens(ctx, pool, client, user, "TokenGeneration_HostedAuth");
}
