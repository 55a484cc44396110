/**
 * A pool's roles and role mappings: SetIdentityPoolRoles, GetIdentityPoolRoles; `setRoles` is
 * also the template provisioner's `AWS::Cognito::IdentityPoolRoleAttachment`.
 */
import { type IdentityPoolContext, type Operation, requirePool } from "../context";
import { withRoles } from "../pools";

export function setRoles(ctx: IdentityPoolContext, poolId: unknown, definition: unknown): void {
  const pool = withRoles(requirePool(ctx, poolId), definition);
  ctx.store.putPool(pool);
}

export const roleOperations: Record<string, Operation> = {
  SetIdentityPoolRoles: (ctx, input) => {
    setRoles(ctx, input.IdentityPoolId, input);
    return {};
  },
  GetIdentityPoolRoles: (ctx, input) => {
    const pool = requirePool(ctx, input.IdentityPoolId);
    return {
      IdentityPoolId: pool.IdentityPoolId,
      Roles: pool.Roles,
      ...(Object.keys(pool.RoleMappings).length > 0 ? { RoleMappings: pool.RoleMappings } : {}),
    };
  },
};
