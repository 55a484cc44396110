import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { BoardingPassEvent } from "../../events/catalogue";
import { type ItemKey, outboxAttributes } from "../../events/outbox";
import type { ProfileStore } from "../../profile/lifecycle";
import type { Profile } from "../../profile/schema";
import { isConditionalCheckFailed } from "../sdk";
import { profileKey } from "./keys";

const PROFILE_FIELDS = ["sub", "tenant", "plan", "roles", "createdAt", "version"] as const;
const PROFILE_PROJECTION = PROFILE_FIELDS.map((_, index) => `#f${index}`).join(", ");
const PROFILE_ATTRIBUTE_NAMES = Object.fromEntries(
  PROFILE_FIELDS.map((field, index) => [`#f${index}`, field]),
);

/** Profiles as `USER#<sub>` / `PROFILE` items of the identity table (stacks/Data.ts). */
export class DynamoProfileStore implements ProfileStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(
    sub: string,
    options: { signal?: AbortSignal; consistent?: boolean } = {},
  ): Promise<Profile | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: profileKey(sub),
        ConsistentRead: options.consistent === true,
        // Only what claims are built from: the hot path reads no outbox payload.
        // Placeholders for every name: several (`plan`, `roles`...) are DynamoDB reserved words.
        ProjectionExpression: PROFILE_PROJECTION,
        ExpressionAttributeNames: PROFILE_ATTRIBUTE_NAMES,
      }),
      { abortSignal: options.signal },
    );
    if (Item === undefined) return null;
    return {
      sub: Item.sub,
      tenant: Item.tenant,
      plan: Item.plan,
      roles: Item.roles,
      createdAt: Item.createdAt,
      version: Item.version,
    } as Profile;
  }

  async createOnce(
    profile: Profile,
    event: BoardingPassEvent,
    options: { writtenAt: Date; signal?: AbortSignal },
  ): Promise<{ created: boolean; key: ItemKey }> {
    const key = profileKey(profile.sub);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...profile, ...outboxAttributes(event, options.writtenAt) },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
        { abortSignal: options.signal },
      );
      return { created: true, key };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { created: false, key };
      throw error;
    }
  }
}
