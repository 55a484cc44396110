// zod/mini through ./zod; a namespace import lets esbuild drop the parts of zod we do not use.
import * as z from "../zod";

/**
 * The server-owned user profile (the DynamoDB item keyed on `sub`). It is the only source of the
 * tenant, plan and application roles that end up in tokens: user attributes are writable by users
 * in too many misconfigurations to be trusted for authorisation.
 */

/** Tenants, plans and role names become token claim values: keep them short, lowercase slugs. */
const Slug = z
  .string()
  .check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "must be a lowercase slug"));

export const AppRoleName = Slug;
export type AppRoleName = z.infer<typeof AppRoleName>;

export const Profile = z.object({
  /** Cognito `sub`: immutable, never reassigned, unlike usernames and emails. */
  sub: z.uuid(),
  tenant: Slug,
  plan: Slug,
  /** Application role names; mapped to IAM roles through the role catalog. */
  roles: z.array(AppRoleName).check(z.maxLength(20)),
  createdAt: z.iso.datetime({ offset: true }),
  /** Optimistic-locking counter, incremented on every write. */
  version: z.number().check(z.int(), z.positive()),
});
export type Profile = z.infer<typeof Profile>;
