/**
 * Pools and clients: CreateUserPool, DescribeUserPool, ListUserPools, CreateUserPoolClient,
 * DescribeUserPoolClient, ListUserPoolClients.
 */

import { AwsServiceError } from "../../../protocol/errors";
import {
  createUserPool,
  createUserPoolClient,
  DEFAULT_FLOWS,
  type DefinitionContext,
  poolArn,
  tokenValidity,
} from "../definitions";
import { invalidParameter } from "../errors";
import type { ClientRecord, UserPoolClientDefinition, UserPoolDefinition } from "../model";
import { type PoolState, requireClient, requirePool } from "../state";
import { epochSeconds, type Input, type Operation, optionalString, requireString } from "../wire";

type UserPoolOperationContext = DefinitionContext;

/**
 * A page of a listing, as Cognito pages: `MaxResults` (1 to 60; required where the API requires
 * it) and an opaque `NextToken`, here the offset into the sorted listing.
 */
function page<T>(input: Input, all: readonly T[], maxRequired: boolean) {
  const max = input.MaxResults;
  if (max === undefined && maxRequired) {
    throw invalidParameter(
      "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
    );
  }
  if (
    max !== undefined &&
    (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 60)
  ) {
    throw invalidParameter(
      "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60",
    );
  }
  const limit = typeof max === "number" ? max : 60;
  const token = optionalString(input, "NextToken");
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > all.length) {
    throw invalidParameter("Invalid pagination token.");
  }
  const items = all.slice(start, start + limit);
  return {
    items,
    nextToken: start + limit < all.length ? String(start + limit) : undefined,
  };
}

function listUserPools(ctx: UserPoolOperationContext, input: Input) {
  const all = [...ctx.pools.values()].sort((a, b) => a.record.id.localeCompare(b.record.id));
  const { items, nextToken } = page(input, all, true);
  return {
    UserPools: items.map((pool) => ({
      Id: pool.record.id,
      Name: pool.record.name,
      LambdaConfig: pool.record.definition.LambdaConfig ?? {},
      CreationDate: epochSeconds(pool.record.created),
      LastModifiedDate: epochSeconds(pool.record.created),
    })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

function listUserPoolClients(ctx: UserPoolOperationContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const all = [...ctx.clients.values()]
    .filter((client) => client.poolId === pool.record.id)
    .sort((a, b) => a.clientId.localeCompare(b.clientId));
  const { items, nextToken } = page(input, all, false);
  return {
    UserPoolClients: items.map((client) => ({
      ClientId: client.clientId,
      UserPoolId: client.poolId,
      ClientName: client.definition.ClientName ?? client.clientId,
    })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

function createUserPoolOperation(ctx: UserPoolOperationContext, input: Input) {
  const { PoolName, ...rest } = input as Input & { PoolName?: string };
  const created = createUserPool(ctx, {
    ...(rest as UserPoolDefinition),
    UserPoolName: requireString({ PoolName }, "PoolName"),
  });
  return { UserPool: describePool(ctx, requirePool(ctx, created.Id)) };
}

function describePool(ctx: UserPoolOperationContext, pool: PoolState) {
  const def = pool.record.definition;
  return {
    Id: pool.record.id,
    Name: pool.record.name,
    Arn: poolArn(ctx, pool.record.id),
    CreationDate: epochSeconds(pool.record.created),
    LastModifiedDate: epochSeconds(pool.record.created),
    Policies: { PasswordPolicy: pool.policy },
    LambdaConfig: def.LambdaConfig ?? {},
    ...(def.UsernameAttributes ? { UsernameAttributes: def.UsernameAttributes } : {}),
    ...(def.AliasAttributes ? { AliasAttributes: def.AliasAttributes } : {}),
    AutoVerifiedAttributes: def.AutoVerifiedAttributes ?? [],
    UsernameConfiguration: { CaseSensitive: def.UsernameConfiguration?.CaseSensitive !== false },
    UserPoolTier: def.UserPoolTier ?? "ESSENTIALS",
    MfaConfiguration: def.MfaConfiguration ?? "OFF",
    EstimatedNumberOfUsers: pool.users.size,
  };
}

function describeClient(client: ClientRecord) {
  const def = client.definition;
  const validity = tokenValidity(def);
  return {
    UserPoolId: client.poolId,
    ClientId: client.clientId,
    ClientName: def.ClientName ?? client.clientId,
    CreationDate: epochSeconds(client.created),
    LastModifiedDate: epochSeconds(client.created),
    ExplicitAuthFlows: def.ExplicitAuthFlows?.length ? def.ExplicitAuthFlows : DEFAULT_FLOWS,
    ...(def.ReadAttributes ? { ReadAttributes: def.ReadAttributes } : {}),
    ...(def.WriteAttributes ? { WriteAttributes: def.WriteAttributes } : {}),
    AccessTokenValidity: validity.access,
    IdTokenValidity: validity.id,
    RefreshTokenValidity: validity.refresh,
    TokenValidityUnits: { AccessToken: "seconds", IdToken: "seconds", RefreshToken: "seconds" },
    PreventUserExistenceErrors: def.PreventUserExistenceErrors ?? "LEGACY",
    EnableTokenRevocation: def.EnableTokenRevocation ?? true,
  };
}

function createUserPoolClientOperation(ctx: UserPoolOperationContext, input: Input) {
  const poolId = requireString(input, "UserPoolId");
  const { UserPoolId: _, ...definition } = input;
  const created = createUserPoolClient(ctx, poolId, definition as UserPoolClientDefinition);
  const client = ctx.clients.get(created.ClientId);
  return { UserPoolClient: client ? describeClient(client) : created };
}

function describeUserPool(ctx: UserPoolOperationContext, input: Input) {
  return { UserPool: describePool(ctx, requirePool(ctx, requireString(input, "UserPoolId"))) };
}

function describeUserPoolClient(ctx: UserPoolOperationContext, input: Input) {
  const { client } = requireClient(ctx, requireString(input, "ClientId"));
  if (client.poolId !== input.UserPoolId) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `User pool client ${client.clientId} does not exist.`,
    );
  }
  return { UserPoolClient: describeClient(client) };
}

export const userPoolOperations: Record<string, Operation<UserPoolOperationContext>> = {
  CreateUserPool: createUserPoolOperation,
  DescribeUserPool: describeUserPool,
  ListUserPools: listUserPools,
  CreateUserPoolClient: createUserPoolClientOperation,
  DescribeUserPoolClient: describeUserPoolClient,
  ListUserPoolClients: listUserPoolClients,
};
