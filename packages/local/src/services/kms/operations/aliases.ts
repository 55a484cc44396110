/** Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. */
import { AwsServiceError } from "../../../protocol/errors";
import { ALIAS_NAME, type Body, validation } from "../model";
import type { KmsOperation, KmsState } from "../state";
import { paginate } from "./input";

/** CreateAlias (`create`) or UpdateAlias: the alias names a key id or key ARN, never an alias. */
function putAlias(state: KmsState, body: Body, create: boolean) {
  const aliasName = body.AliasName;
  if (typeof aliasName !== "string" || !ALIAS_NAME.test(aliasName)) {
    throw validation(
      `Value '${String(aliasName)}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`,
    );
  }
  if (aliasName.startsWith("alias/aws/")) {
    throw new AwsServiceError(
      "NotAuthorizedException",
      "Cannot create alias with prefix 'alias/aws/'",
    );
  }
  const existing = state.aliases.get(aliasName);
  if (create && existing) {
    throw new AwsServiceError(
      "AlreadyExistsException",
      `An alias with the name ${state.aliasArn(aliasName)} already exists`,
    );
  }
  if (!create && !existing) {
    throw new AwsServiceError(
      "NotFoundException",
      `Alias ${state.aliasArn(aliasName)} is not found.`,
    );
  }
  if (typeof body.TargetKeyId === "string" && body.TargetKeyId.includes("alias/")) {
    throw validation("TargetKeyId must be a key id or key ARN, not an alias");
  }
  const target = state.resolveKey(body.TargetKeyId, "targetKeyId");
  const at = state.now();
  state.commit({
    op: "putAlias",
    alias: {
      aliasName,
      targetKeyId: target.keyId,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    },
  });
  return {};
}

function deleteAlias(state: KmsState, body: Body) {
  const name = body.AliasName;
  if (typeof name !== "string" || !state.aliases.has(name)) {
    throw new AwsServiceError(
      "NotFoundException",
      `Alias ${state.aliasArn(String(name))} is not found.`,
    );
  }
  state.commit({ op: "deleteAlias", aliasName: name });
  return {};
}

function listAliases(state: KmsState, body: Body) {
  const target = body.KeyId !== undefined ? state.resolveKey(body.KeyId) : undefined;
  const all = [...state.aliases.values()]
    .filter((alias) => target === undefined || alias.targetKeyId === target.keyId)
    .sort((a, b) => (a.aliasName < b.aliasName ? -1 : 1));
  const page = paginate(all, body);
  return {
    Aliases: page.items.map((alias) => ({
      AliasName: alias.aliasName,
      AliasArn: state.aliasArn(alias.aliasName),
      TargetKeyId: alias.targetKeyId,
      CreationDate: alias.createdAt / 1000,
      LastUpdatedDate: alias.updatedAt / 1000,
    })),
    Truncated: page.next !== undefined,
    ...(page.next !== undefined ? { NextMarker: page.next } : {}),
  };
}

export const aliasOperations: Record<string, KmsOperation> = {
  CreateAlias: (state, body) => putAlias(state, body, true),
  UpdateAlias: (state, body) => putAlias(state, body, false),
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
};
