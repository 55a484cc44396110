import * as z from "../zod";
import { events, required } from "./shared";

export { parseEnvironment } from "./shared";

/** `arn:<partition>:iam::<account>:role/<path/>name`: the role the stacks pass to admin routes. */
const iamRoleArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
      "must be an IAM role ARN",
    ),
  );
/** A positive whole number of at most `digits` digits (e.g. `"5"`). */
const positiveInteger = (digits: number) =>
  z
    .string()
    .check(
      z.regex(
        new RegExp(`^[1-9]\\d{0,${digits - 1}}$`),
        `must be a whole number from 1 to ${"9".repeat(digits)}`,
      ),
    );

/** What every identity route is told (stacks/Api.ts's route defaults). */
const identityRoute = { STAGE: required, TABLE_NAME: required, IDENTITY_POOL_ID: required };
/** `DELETE /identity/me` and `DELETE /admin/users/{sub}` (ADR 0007). */
const deletion = {
  ...identityRoute,
  USER_POOL_ID: required,
  IOT_POLICY_NAME: required,
  ...events,
  DEFAULT_TENANT: z._default(z.string().check(z.minLength(1)), "default"),
};

/**
 * The HTTP API's functions (stacks/Api.ts). A variable whose default lives in core (the
 * guest-proof issuer and limit) is optional here: the function applies core's default.
 */
export const issueGuestProofEnvironment = () => ({
  ...identityRoute,
  GUEST_PROOF_KEY_ID: required,
  GUEST_PROOF_LIMIT: z.optional(positiveInteger(3)),
  GUEST_PROOF_WINDOW_SECONDS: z.optional(positiveInteger(5)),
});

export const linkIdentityEnvironment = () => ({
  ...identityRoute,
  IOT_POLICY_NAME: required,
  ...events,
  GUEST_PROOF_ISSUER: z.optional(z.url()),
  GUEST_PROOF_JWKS_URI: z.optional(z.url()),
  GUEST_PROOF_KEY_ID: z.optional(required),
});

export const ensureIotEnvironment = () => ({ ...identityRoute, IOT_POLICY_NAME: required });

export const preferencesEnvironment = () => identityRoute;

export const adminGetUserEnvironment = () => ({ ...identityRoute, ADMIN_ROLE_ARN: iamRoleArn });

export const deleteMeEnvironment = () => ({
  ...deletion,
  /** A sign-in older than this is not recent (stacks/config.ts). */
  RECENT_SESSION_MAX_AGE_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.positive("must be a positive number of seconds")),
    900,
  ),
});

export const adminDeleteUserEnvironment = () => ({ ...deletion, ADMIN_ROLE_ARN: iamRoleArn });

export const getProfileEnvironment = () => ({ TABLE_NAME: required });
