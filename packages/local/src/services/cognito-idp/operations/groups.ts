/**
 * Groups: CreateGroup, ListGroups, AdminAddUserToGroup, AdminRemoveUserFromGroup,
 * AdminListGroupsForUser.
 */

import { AwsServiceError } from "../../../protocol/errors";
import { createGroup, type DefinitionContext } from "../definitions";
import type { GroupRecord } from "../model";
import { draft, type PoolState, putUser, requirePool, requireUser } from "../state";
import { sortedGroups } from "../token-issuer";
import { epochSeconds, type Input, type Operation, optionalString, requireString } from "../wire";

type GroupContext = DefinitionContext;

function requireGroup(pool: PoolState, name: string): GroupRecord {
  const group = pool.groups.get(name);
  if (!group) throw new AwsServiceError("ResourceNotFoundException", "Group not found.");
  return group;
}

function groupShape(group: GroupRecord) {
  return {
    GroupName: group.GroupName,
    UserPoolId: group.poolId,
    ...(group.Description ? { Description: group.Description } : {}),
    ...(group.RoleArn ? { RoleArn: group.RoleArn } : {}),
    ...(group.Precedence !== undefined ? { Precedence: group.Precedence } : {}),
    LastModifiedDate: epochSeconds(group.modified),
    CreationDate: epochSeconds(group.created),
  };
}

function adminAddUserToGroup(ctx: GroupContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const group = requireGroup(pool, requireString(input, "GroupName"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  if (!user.groups.includes(group.GroupName)) {
    user.groups.push(group.GroupName);
    putUser(ctx, pool, user);
  }
  return {};
}

function adminRemoveUserFromGroup(ctx: GroupContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const group = requireGroup(pool, requireString(input, "GroupName"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  if (user.groups.includes(group.GroupName)) {
    user.groups = user.groups.filter((name) => name !== group.GroupName);
    putUser(ctx, pool, user);
  }
  return {};
}

function adminListGroupsForUser(ctx: GroupContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const user = draft(requireUser(pool, requireString(input, "Username")));
  return { Groups: sortedGroups(pool, user).map(groupShape) };
}

function listGroups(ctx: GroupContext, input: Input) {
  const pool = requirePool(ctx, requireString(input, "UserPoolId"));
  const all = [...pool.groups.values()].sort((a, b) => a.GroupName.localeCompare(b.GroupName));
  const limit = typeof input.Limit === "number" ? Math.min(Math.max(input.Limit, 1), 60) : 60;
  const start = Number(optionalString(input, "NextToken") ?? "0") || 0;
  return {
    Groups: all.slice(start, start + limit).map(groupShape),
    ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}),
  };
}

function createGroupOperation(ctx: GroupContext, input: Input) {
  return {
    Group: groupShape(
      createGroup(ctx, requireString(input, "UserPoolId"), {
        GroupName: requireString(input, "GroupName"),
        RoleArn: optionalString(input, "RoleArn"),
        Precedence: typeof input.Precedence === "number" ? input.Precedence : undefined,
        Description: optionalString(input, "Description"),
      }),
    ),
  };
}

export const groupOperations: Record<string, Operation<GroupContext>> = {
  CreateGroup: createGroupOperation,
  ListGroups: listGroups,
  AdminAddUserToGroup: adminAddUserToGroup,
  AdminRemoveUserFromGroup: adminRemoveUserFromGroup,
  AdminListGroupsForUser: adminListGroupsForUser,
};
