import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InvalidEventError } from "../../src/errors";
import {
  type BoardingPassEvent,
  type BuildEventInput,
  buildEvent,
  EVENT_TYPES,
  type EventData,
  EventSchemas,
  type EventType,
  eventId,
  eventSource,
  kinesisPartitionKey,
  parseEvent,
  snsMessageAttributes,
} from "../../src/events/catalogue";

const SUB = "3f6b2c1e-8d4a-4b7e-9a51-2c0e8f7d9b14";
const OTHER_SUB = "b2e4a6c8-1d3f-4e5a-8b7c-9d0e1f2a3b4c";
const SOURCE = "boardingpass/test/post-confirmation";
const TIME = "2026-11-26T14:00:00.000Z";

/**
 * JSON as Biome formats it (objects expanded, arrays of scalars on one line when they fit in 100
 * columns), so the snapshot files pass `biome check` unchanged.
 */
function formatJsonLikeBiome(value: unknown, indent = "", prefixLength = 0): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const scalars = value.every((item) => item === null || typeof item !== "object");
    const flat = `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
    // The trailing comma counts towards the line, as in Biome's fits check.
    if (scalars && indent.length + prefixLength + flat.length + 1 <= 100) return flat;
    const items = value.map((item) => `${inner}${formatJsonLikeBiome(item, inner)}`);
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const lines = entries.map(([key, item]) => {
      const prefix = `${JSON.stringify(key)}: `;
      return `${inner}${prefix}${formatJsonLikeBiome(item, inner, prefix.length)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** One valid data example per type, documented in docs/events.md. */
const examples: { [T in EventType]: EventData<T> } = {
  "boardingpass.user.confirmed.v1": { sub: SUB, tenant: "acme", plan: "pro" },
  "boardingpass.user.federated-linked.v1": { sub: SUB, tenant: "acme", providerName: "Google" },
  "boardingpass.profile.repaired.v1": {
    sub: SUB,
    tenant: "acme",
    plan: "free",
    profileVersion: 1,
    repair: "created",
  },
  "boardingpass.user.password-reset.v1": { sub: SUB, tenant: "acme" },
  "boardingpass.identity.linked.v1": {
    sub: SUB,
    tenant: "acme",
    identityId: "eu-west-1:7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    providerName: "cognito-idp",
  },
  "boardingpass.identity.merged.v1": { sub: SUB, tenant: "acme", mergedSub: OTHER_SUB },
  "boardingpass.identity.merged.v2": {
    sub: SUB,
    tenant: "acme",
    identityId: "us-east-1:0c2b3a4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    mergedIdentityId: "us-east-1:1d3c4b5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
  },
  "boardingpass.user.deleted.v1": {
    sub: SUB,
    tenant: "acme",
    actor: {
      kind: "admin",
      sub: OTHER_SUB,
      identityId: "us-east-1:2e4d5c6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f",
      roleName: "prod-boarding-pass-admin-us-east-1",
      roleSessionName: "CognitoIdentityCredentials",
    },
  },
};

function build<T extends EventType>(type: T, overrides: { time?: string } = {}) {
  return buildEvent(type, {
    subject: SUB,
    data: examples[type],
    time: overrides.time ?? TIME,
    source: SOURCE,
  });
}

describe("event schemas", () => {
  it("covers every documented type", () => {
    // Assess
    expect(EVENT_TYPES.sort()).toEqual([
      "boardingpass.identity.linked.v1",
      "boardingpass.identity.merged.v1",
      "boardingpass.identity.merged.v2",
      "boardingpass.profile.repaired.v1",
      "boardingpass.user.confirmed.v1",
      "boardingpass.user.deleted.v1",
      "boardingpass.user.federated-linked.v1",
      "boardingpass.user.password-reset.v1",
    ]);
  });

  // A diff in these files is a contract change: removing, renaming or retyping a field, or making
  // one required, needs a new `.vN` type instead of an updated snapshot.
  it.each(EVENT_TYPES)("%s matches its JSON Schema snapshot", async (type) => {
    // Act
    const schema = z.toJSONSchema(EventSchemas[type], { io: "input" });
    // Assess
    await expect(`${formatJsonLikeBiome(schema)}\n`).toMatchFileSnapshot(
      `__snapshots__/${type}.schema.json`,
    );
  });
});

describe("buildEvent", () => {
  it.each(EVENT_TYPES)("builds a valid CloudEvents 1.0 envelope for %s", (type) => {
    // Act
    const event = build(type);
    // Assess
    expect(event).toEqual({
      specversion: "1.0",
      id: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      source: SOURCE,
      type,
      time: TIME,
      subject: SUB,
      datacontenttype: "application/json",
      partitionkey: SUB,
      data: examples[type],
    });
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it("gives a retried trigger the same id, at any time", () => {
    // Act
    const first = build("boardingpass.user.confirmed.v1", { time: "2026-11-26T14:00:00.000Z" });
    const retry = build("boardingpass.user.confirmed.v1", { time: "2026-11-26T14:00:09.000Z" });
    // Assess
    expect(retry.id).toBe(first.id);
    expect(retry.time).not.toBe(first.time);
  });

  it("keeps ids stable across releases (pinned vector)", () => {
    // Act
    const id = eventId("boardingpass.user.confirmed.v1", SUB);
    // Assess
    expect(id).toBe("a7c72fd0-4da3-8541-93a6-b31302afe1e2");
  });

  it("gives password resets in different five-minute windows different ids", () => {
    // Act
    const first = build("boardingpass.user.password-reset.v1", {
      time: "2026-11-26T14:00:01.000Z",
    });
    const retry = build("boardingpass.user.password-reset.v1", {
      time: "2026-11-26T14:00:07.000Z",
    });
    const later = build("boardingpass.user.password-reset.v1", {
      time: "2026-11-26T14:30:00.000Z",
    });
    // Assess
    expect(retry.id).toBe(first.id);
    expect(later.id).not.toBe(first.id);
  });

  it("gives each profile repair its own id", () => {
    // Act
    const v1 = buildEvent("boardingpass.profile.repaired.v1", {
      subject: SUB,
      data: { ...examples["boardingpass.profile.repaired.v1"], profileVersion: 1 },
      time: TIME,
      source: SOURCE,
    });
    const v2 = buildEvent("boardingpass.profile.repaired.v1", {
      subject: SUB,
      data: { ...examples["boardingpass.profile.repaired.v1"], profileVersion: 2 },
      time: TIME,
      source: SOURCE,
    });
    // Assess
    expect(v2.id).not.toBe(v1.id);
  });

  it("accepts a Date and serialises it in UTC", () => {
    // Act
    const event = buildEvent("boardingpass.user.confirmed.v1", {
      subject: SUB,
      data: examples["boardingpass.user.confirmed.v1"],
      time: new Date(TIME),
      source: SOURCE,
    });
    // Assess
    expect(event.time).toBe(TIME);
  });

  it.each<{
    case: string;
    input: Partial<BuildEventInput<"boardingpass.user.confirmed.v1">>;
    message: RegExp;
  }>([
    {
      case: "an undocumented field (email)",
      input: {
        data: { ...examples["boardingpass.user.confirmed.v1"], email: "ada@example.com" } as never,
      },
      message: /email/,
    },
    {
      case: "a subject that is not the data's user",
      input: { subject: OTHER_SUB },
      message: /same user/,
    },
    { case: "a bad source", input: { source: "somewhere/else" }, message: /source/ },
    { case: "a local time", input: { time: "2026-11-26T15:00:00+01:00" }, message: /time/ },
    {
      case: "a tenant that is not a slug",
      input: { data: { ...examples["boardingpass.user.confirmed.v1"], tenant: "Acme Corp" } },
      message: /tenant/,
    },
  ])("refuses $case", ({ input, message }) => {
    // Act
    const act = () =>
      buildEvent("boardingpass.user.confirmed.v1", {
        subject: SUB,
        data: examples["boardingpass.user.confirmed.v1"],
        time: TIME,
        source: SOURCE,
        ...input,
      });
    // Assess
    expect(act).toThrowError(InvalidEventError);
    expect(act).toThrowError(message);
  });
});

describe("eventId", () => {
  it("does not confuse natural keys that join to the same string", () => {
    // Act
    const a = eventId("boardingpass.identity.merged.v1", "a|b", "c");
    const b = eventId("boardingpass.identity.merged.v1", "a", "b|c");
    // Assess
    expect(a).not.toBe(b);
  });

  it("is a deterministic, type-scoped UUIDv8", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.constantFrom(...EVENT_TYPES),
        fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
        (type, otherType, key) => {
          const id = eventId(type, ...key);
          expect(id).toBe(eventId(type, ...key));
          expect(z.uuid({ version: "v8" }).safeParse(id).success).toBe(true);
          if (otherType !== type) expect(eventId(otherType, ...key)).not.toBe(id);
        },
      ),
    );
  });
});

describe("eventSource", () => {
  it("names stage and component", () => {
    // Act
    const source = eventSource("prod", "post-confirmation");
    // Assess
    expect(source).toBe("boardingpass/prod/post-confirmation");
  });

  it.each([
    ["", "x"],
    ["prod", ""],
    ["prod/eu", "x"],
    ["prod", "Post Confirmation"],
  ])("refuses stage %j and component %j", (stage, component) => {
    // Act
    const act = () => eventSource(stage, component);
    // Assess
    expect(act).toThrowError(InvalidEventError);
  });
});

describe("parseEvent", () => {
  it("tolerates CloudEvents extension attributes added on the way", () => {
    // Prepare
    const event = build("boardingpass.user.confirmed.v1");
    const traced = {
      ...event,
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    // Act
    const parsed = parseEvent(traced);
    // Assess
    expect(parsed).toEqual(event);
  });

  it.each([
    { case: "an unknown type", value: { type: "boardingpass.user.deleted.v9" } },
    { case: "a prototype key as type", value: { type: "constructor" } },
    { case: "no type", value: {} },
    { case: "null", value: null },
    {
      case: "a wrong specversion",
      value: { ...build("boardingpass.user.confirmed.v1"), specversion: "0.3" },
    },
  ])("refuses $case", ({ value }) => {
    // Act
    const act = () => parseEvent(value);
    // Assess
    expect(act).toThrowError(InvalidEventError);
  });
});

describe("routing attributes", () => {
  it.each(EVENT_TYPES)("%s: SNS attributes carry the type and tenant only", (type) => {
    // Prepare
    const event: BoardingPassEvent = build(type);
    // Act
    const attributes = snsMessageAttributes(event);
    // Assess
    expect(attributes).toEqual({
      eventType: { DataType: "String", StringValue: type },
      tenant: { DataType: "String", StringValue: "acme" },
    });
    expect(JSON.stringify(attributes)).not.toContain(SUB);
    expect(JSON.stringify(attributes)).not.toContain("@");
  });

  it("partitions Kinesis records by user", () => {
    // Act
    const key = kinesisPartitionKey(build("boardingpass.identity.linked.v1"));
    // Assess
    expect(key).toBe(SUB);
  });
});
