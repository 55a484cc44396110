/**
 * Identity pools: CreateIdentityPool, DescribeIdentityPool, ListIdentityPools; `createPool` and
 * `putPool` are also the template provisioner's way in (`AWS::Cognito::IdentityPool`).
 */

import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../../../protocol/errors";
import { type IdentityPoolContext, type Operation, requirePool } from "../context";
import { decodeToken, encodeToken } from "../next-token";
import { describePool, type IdentityPoolState, poolFromDefinition } from "../pools";

export function createPool(ctx: IdentityPoolContext, definition: unknown): IdentityPoolState {
  const pool = poolFromDefinition(`${ctx.region}:${randomUUID()}`, definition);
  ctx.store.putPool(pool);
  return pool;
}

/** Create-or-update under a caller-chosen id, keeping the pool's identities and roles. */
export function putPool(
  ctx: IdentityPoolContext,
  id: string,
  definition: unknown,
): IdentityPoolState {
  if (!id.startsWith(`${ctx.region}:`) || !/^[\w-]+:[0-9a-f-]{36}$/.test(id)) {
    throw new Error(`Invalid identity pool id ${id}`);
  }
  const existing = ctx.store.pools.get(id);
  const pool = poolFromDefinition(id, definition);
  // Roles and role mappings come from the separate role attachment: keep them until it is
  // applied again, as CloudFormation updates the two resources independently.
  const merged = existing
    ? { ...pool, Roles: existing.Roles, RoleMappings: existing.RoleMappings }
    : pool;
  ctx.store.putPool(merged);
  return merged;
}

const listIdentityPools: Operation = (ctx, input) => {
  const max = Number(input.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 60) {
    throw new AwsServiceError("InvalidParameterException", "MaxResults must be between 1 and 60");
  }
  const all = [...ctx.store.pools.values()];
  const start = decodeToken(input.NextToken);
  const page = all.slice(start, start + max);
  return {
    IdentityPools: page.map((p) => ({
      IdentityPoolId: p.IdentityPoolId,
      IdentityPoolName: p.IdentityPoolName,
    })),
    ...(start + max < all.length ? { NextToken: encodeToken(start + max) } : {}),
  };
};

export const identityPoolOperations: Record<string, Operation> = {
  CreateIdentityPool: (ctx, input) => describePool(createPool(ctx, input)),
  DescribeIdentityPool: (ctx, input) => describePool(requirePool(ctx, input.IdentityPoolId)),
  ListIdentityPools: listIdentityPools,
};
