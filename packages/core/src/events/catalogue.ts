import { createHash } from "node:crypto";
import { InvalidEventError } from "../errors";
import { Profile } from "../profile/schema";
// zod/mini through ./zod; a namespace import lets esbuild drop the parts of zod we do not use.
import * as z from "../zod";

/**
 * Domain events as CloudEvents 1.0 in structured JSON mode, published to SNS (fan-out) and Kinesis
 * (audit stream). Catalogue: docs/events.md.
 *
 * - `id` is deterministic: a hash of the type and the event's natural key, so a retried trigger or
 *   a replayed outbox row produces the same id and consumers dedupe on it.
 * - `subject` and the `partitionkey` extension are the user's `sub`: per-user ordering on Kinesis,
 *   and no email or name anywhere.
 * - `data` carries only what each type documents. Building an event with any other field fails, so
 *   personal data cannot slip in by spreading a larger object.
 * - Types are versioned (`.v1`). A change that removes, renames or retypes a field, or makes one
 *   required, is a new type (`.v2`) published alongside the old one until consumers move.
 */

const Sub = Profile.shape.sub;
const Tenant = Profile.shape.tenant;
const Plan = Profile.shape.plan;

/** Cognito identity-pool IdentityId: `<region>:<uuid>`. */
const IdentityId = z
  .string()
  .check(z.regex(/^[a-z]{2}(?:-[a-z]+)+-\d:[0-9a-f-]{36}$/, "must be an IdentityId"));

/** User-pool identity provider name, as in `AdminLinkProviderForUser` (`Google`, an OIDC name). */
const ProviderName = z.string().check(z.minLength(1), z.maxLength(32));

/** An IAM role name, as in an assumed-role ARN (`arn:aws:sts::<account>:assumed-role/<name>/...`). */
const RoleName = z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name"));

/** An STS role session name (`CognitoIdentityCredentials` for identity-pool credentials). */
const RoleSessionName = z
  .string()
  .check(z.regex(/^[\w+=,.@-]{2,64}$/, "must be a role session name"));

/**
 * Who deleted an account: the user themself (`self`, their access token), or an admin through
 * the admin route (`admin`: the role and role session the request was signed with, and the
 * admin's identity-pool identity and user-pool `sub` when the credentials came from the identity
 * pool). Pseudonymous ids only; strict, so nothing else can slip in.
 */
const DeletionActor = z.strictObject({
  kind: z.enum(["self", "admin"]),
  sub: z.optional(Sub),
  identityId: z.optional(IdentityId),
  roleName: z.optional(RoleName),
  roleSessionName: z.optional(RoleSessionName),
});
export type DeletionActor = z.infer<typeof DeletionActor>;

const EVENT_SOURCE_PATTERN =
  /^boardingpass\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/[a-z0-9][a-z0-9-]{0,63}$/;

/** `boardingpass/<stage>/<component>`, e.g. `boardingpass/prod/post-confirmation`. */
export function eventSource(stage: string, component: string): string {
  const source = `boardingpass/${stage}/${component}`;
  if (!EVENT_SOURCE_PATTERN.test(source)) {
    throw new InvalidEventError(`Not a valid event source: ${JSON.stringify(source)}`);
  }
  return source;
}

/** The five minutes a password reset falls in; see its natural key below. */
const fiveMinuteWindow = (time: string): string =>
  String(Math.floor(Date.parse(time) / (5 * 60 * 1000)));

/**
 * Each type's data schema and natural key (what makes two occurrences "the same event").
 * Add a type here, in docs/events.md, and accept its schema snapshot.
 */
const definitions = {
  /** First confirmation of a user: native sign-up confirmed, admin-confirmed, or first federated sign-in. */
  "boardingpass.user.confirmed.v1": {
    data: z.object({ sub: Sub, tenant: Tenant, plan: Plan }),
    naturalKey: (data: { sub: string }) => [data.sub],
  },
  /** A federated identity was linked to an existing native user. */
  "boardingpass.user.federated-linked.v1": {
    data: z.object({ sub: Sub, tenant: Tenant, providerName: ProviderName }),
    naturalKey: (data: { sub: string; providerName: string }) => [data.sub, data.providerName],
  },
  /** A missing or inconsistent profile was rebuilt (e.g. users made with AdminCreateUser). */
  "boardingpass.profile.repaired.v1": {
    data: z.object({
      sub: Sub,
      tenant: Tenant,
      plan: Plan,
      profileVersion: z.number().check(z.int(), z.positive()),
      repair: z.enum(["created", "completed"]),
    }),
    naturalKey: (data: { sub: string; profileVersion: number }) => [
      data.sub,
      String(data.profileVersion),
    ],
  },
  /**
   * A password was reset (PostConfirmation_ConfirmForgotPassword). Cognito's event has nothing that
   * identifies one reset across trigger retries, so the key is the five-minute window: retries
   * (seconds apart) share an id, and two resets within one window are reported once.
   */
  "boardingpass.user.password-reset.v1": {
    data: z.object({ sub: Sub, tenant: Tenant }),
    naturalKey: (data: { sub: string }, time: string) => [data.sub, fiveMinuteWindow(time)],
  },
  /** An identity-pool identity (IdentityId) was associated with the user, e.g. for a device. */
  "boardingpass.identity.linked.v1": {
    data: z.object({
      sub: Sub,
      tenant: Tenant,
      identityId: IdentityId,
      providerName: ProviderName,
    }),
    naturalKey: (data: { sub: string; identityId: string }) => [data.sub, data.identityId],
  },
  /** Two users were merged; `sub` survives, `mergedSub` is gone. */
  "boardingpass.identity.merged.v1": {
    data: z.object({ sub: Sub, tenant: Tenant, mergedSub: Sub }),
    naturalKey: (data: { sub: string; mergedSub: string }) => [data.sub, data.mergedSub],
  },
  /**
   * A guest identity was merged into a signed-in user's identity (a guest has no `sub`, hence a
   * new version keyed by identity ids): `identityId` survives, `mergedIdentityId` is tombstoned.
   */
  "boardingpass.identity.merged.v2": {
    data: z.object({
      sub: Sub,
      tenant: Tenant,
      identityId: IdentityId,
      mergedIdentityId: IdentityId,
    }),
    naturalKey: (data: { identityId: string; mergedIdentityId: string }) => [
      data.identityId,
      data.mergedIdentityId,
    ],
  },
  /**
   * A user deleted their account (or an admin deleted it) through the backend's deletion routes:
   * the user's identities lost their IoT policies, the Cognito user and the profile are gone.
   * Consumers erase what they hold about `sub`. A user is deleted once. `actor` (optional, added
   * within v1) says who asked for it.
   */
  "boardingpass.user.deleted.v1": {
    data: z.object({ sub: Sub, tenant: Tenant, actor: z.optional(DeletionActor) }),
    naturalKey: (data: { sub: string }) => [data.sub],
  },
} as const;

type Definitions = typeof definitions;
export type EventType = keyof Definitions;
export const EVENT_TYPES = Object.keys(definitions) as EventType[];
export type EventData<T extends EventType> = z.infer<Definitions[T]["data"]>;

interface EnvelopeUsers {
  subject: string;
  partitionkey: string;
  data: { sub: string };
}

// Generic zod inference cannot see `data.sub` inside the generic builder, hence the narrow view.
const isAboutOneUser = (event: EnvelopeUsers): boolean =>
  event.partitionkey === event.subject && event.data.sub === event.subject;

function envelopeSchema<T extends EventType>(type: T, data: Definitions[T]["data"]) {
  // z.object (not strict): a consumer tolerates extension attributes added on the way (traceparent).
  return z
    .object({
      specversion: z.literal("1.0"),
      id: z.uuid(),
      source: z.string().check(z.regex(EVENT_SOURCE_PATTERN)),
      type: z.literal(type),
      time: z.iso.datetime(),
      subject: Sub,
      datacontenttype: z.literal("application/json"),
      partitionkey: Sub,
      data,
    })
    .check(
      z.refine((event) => isAboutOneUser(event as unknown as EnvelopeUsers), {
        message: "subject, partitionkey and data.sub must be the same user",
        path: ["partitionkey"],
      }),
    );
}

/** One zod schema per event type: the contract, snapshotted as JSON Schema in the tests. */
export const EventSchemas = {
  "boardingpass.user.confirmed.v1": envelopeSchema(
    "boardingpass.user.confirmed.v1",
    definitions["boardingpass.user.confirmed.v1"].data,
  ),
  "boardingpass.user.federated-linked.v1": envelopeSchema(
    "boardingpass.user.federated-linked.v1",
    definitions["boardingpass.user.federated-linked.v1"].data,
  ),
  "boardingpass.profile.repaired.v1": envelopeSchema(
    "boardingpass.profile.repaired.v1",
    definitions["boardingpass.profile.repaired.v1"].data,
  ),
  "boardingpass.user.password-reset.v1": envelopeSchema(
    "boardingpass.user.password-reset.v1",
    definitions["boardingpass.user.password-reset.v1"].data,
  ),
  "boardingpass.identity.linked.v1": envelopeSchema(
    "boardingpass.identity.linked.v1",
    definitions["boardingpass.identity.linked.v1"].data,
  ),
  "boardingpass.identity.merged.v1": envelopeSchema(
    "boardingpass.identity.merged.v1",
    definitions["boardingpass.identity.merged.v1"].data,
  ),
  "boardingpass.identity.merged.v2": envelopeSchema(
    "boardingpass.identity.merged.v2",
    definitions["boardingpass.identity.merged.v2"].data,
  ),
  "boardingpass.user.deleted.v1": envelopeSchema(
    "boardingpass.user.deleted.v1",
    definitions["boardingpass.user.deleted.v1"].data,
  ),
} as const satisfies { [T in EventType]: ReturnType<typeof envelopeSchema<T>> };

export type BoardingPassEvent<T extends EventType = EventType> = {
  [K in T]: z.infer<(typeof EventSchemas)[K]>;
}[T];

/** Fixed namespace, so ids are stable across deploys and stages. Never change it. */
const EVENT_ID_NAMESPACE = Buffer.from("6f1c1b0e3c2a4e8b9d5a7c3e2f1b0a9d", "hex");

/**
 * Deterministic event id: SHA-256 over a fixed namespace and the JSON array `[type, ...naturalKey]`
 * (JSON, not a joined string, so `["a|b","c"]` and `["a","b|c"]` differ), truncated to 128 bits and
 * formatted as an RFC 9562 UUIDv8, the version for custom name-based hashes (v5 is SHA-1 only).
 */
export function eventId(type: EventType, ...naturalKey: string[]): string {
  const digest = createHash("sha256")
    .update(EVENT_ID_NAMESPACE)
    .update(JSON.stringify([type, ...naturalKey]), "utf8")
    .digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface BuildEventInput<T extends EventType> {
  /** The user's `sub`; also the partition key. */
  subject: string;
  data: EventData<T>;
  /** When it happened; the caller's clock, so core stays pure and tests deterministic. */
  time: Date | string;
  /** From `eventSource(stage, component)`. */
  source: string;
}

/** Builds and validates an event; throws `InvalidEventError` (a producer bug) on any mismatch. */
export function buildEvent<T extends EventType>(
  type: T,
  input: BuildEventInput<T>,
): BoardingPassEvent<T> {
  const definition = definitions[type];
  // Refuse fields the type does not document instead of silently dropping them: a stray `email`
  // is a bug to fix, not to hide.
  const data = z.strictObject(definition.data.shape).safeParse(input.data);
  if (!data.success) {
    throw new InvalidEventError(`Invalid data for ${type}:\n${z.prettifyError(data.error)}`, {
      cause: data.error,
    });
  }
  const time = input.time instanceof Date ? input.time.toISOString() : input.time;
  const naturalKey = (definition.naturalKey as (data: unknown, time: string) => string[])(
    data.data,
    time,
  );
  const candidate = {
    specversion: "1.0",
    id: eventId(type, ...naturalKey),
    source: input.source,
    type,
    time,
    subject: input.subject,
    datacontenttype: "application/json",
    partitionkey: input.subject,
    data: data.data,
  };
  const parsed = EventSchemas[type].safeParse(candidate);
  if (!parsed.success) {
    throw new InvalidEventError(`Invalid ${type} event:\n${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data as BoardingPassEvent<T>;
}

/** Consumer side: validates any Boarding Pass event; unknown types are refused. */
export function parseEvent(value: unknown): BoardingPassEvent {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !Object.hasOwn(EventSchemas, type)) {
    throw new InvalidEventError(`Unknown event type: ${JSON.stringify(type)}`);
  }
  const parsed = EventSchemas[type as EventType].safeParse(value);
  if (!parsed.success) {
    throw new InvalidEventError(`Invalid ${type} event:\n${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

interface SnsStringAttribute {
  DataType: "String";
  StringValue: string;
}

/**
 * SNS message attributes for subscription filter policies. Only the type and the tenant: attributes
 * are visible to every subscriber's filter and in delivery logs, so never an email or a sub.
 */
export function snsMessageAttributes(event: BoardingPassEvent): {
  eventType: SnsStringAttribute;
  tenant: SnsStringAttribute;
} {
  return {
    eventType: { DataType: "String", StringValue: event.type },
    tenant: { DataType: "String", StringValue: event.data.tenant },
  };
}

/** Kinesis partition key: the user, so one user's events stay in order on one shard. */
export function kinesisPartitionKey(event: BoardingPassEvent): string {
  return event.partitionkey;
}
