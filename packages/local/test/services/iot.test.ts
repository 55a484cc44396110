import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  GetPolicyCommand,
  InvalidRequestException,
  IoTClient,
  LimitExceededException,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListTargetsForPolicyCommand,
  MalformedPolicyException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from "@aws-sdk/client-iot";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createIotService, type IotService } from "../../src/services/iot/index";
import { clientConfig, type Served, serve } from "./serve";

const IDENTITY = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const CERT = "arn:aws:iot:us-east-1:000000000000:cert/abc123";
const NOW = Date.parse("2026-01-01T00:00:00Z");

/** IoT policy variable (a literal `${...}`, not a template placeholder). */
const SUB = "${cognito-identity.amazonaws.com:sub}";

/** The per-identity policy AWS IoT recommends for Cognito identities ("Authorization with Amazon
 * Cognito identities"). */
const DOCUMENT = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: "iot:Connect",
      Resource: `arn:aws:iot:us-east-1:000000000000:client/${SUB}`,
    },
    {
      Effect: "Allow",
      Action: ["iot:Publish", "iot:Receive"],
      Resource: `arn:aws:iot:us-east-1:000000000000:topic/devices/${SUB}/*`,
    },
  ],
});

let iot: IotService;
let served: Served;
let client: IoTClient;

beforeAll(async () => {
  iot = createIotService({
    region: "us-east-1",
    now: () => NOW,
    endpointAddress: { "iot:Data-ATS": "mqtt.local.test" },
  });
  served = await serve(iot);
  client = new IoTClient(clientConfig(served.endpoint));
});
afterAll(async () => {
  client.destroy();
  await served.close();
  await iot.close();
});
beforeEach(async () => {
  await iot.reset();
});

const create = (policyName: string, policyDocument = DOCUMENT) =>
  client.send(new CreatePolicyCommand({ policyName, policyDocument }));

describe("policies", () => {
  it("creates, gets, lists and deletes", async () => {
    const created = await create("device-access");
    expect(created.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toMatchObject({
      policyName: "device-access",
      policyArn: "arn:aws:iot:us-east-1:000000000000:policy/device-access",
      policyDocument: DOCUMENT,
      policyVersionId: "1",
    });
    const got = await client.send(new GetPolicyCommand({ policyName: "device-access" }));
    expect(got).toMatchObject({
      policyName: "device-access",
      policyDocument: DOCUMENT,
      defaultVersionId: "1",
    });
    expect(got.creationDate?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    await create("another");
    const listed = await client.send(new ListPoliciesCommand({}));
    expect(listed.policies?.map((p) => p.policyName)).toEqual(["another", "device-access"]);
    await client.send(new DeletePolicyCommand({ policyName: "another" }));
    await expect(
      client.send(new GetPolicyCommand({ policyName: "another" })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new DeletePolicyCommand({ policyName: "another" })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("rejects a duplicate name with ResourceAlreadyExistsException", async () => {
    await create("p");
    const err = await create("p").catch((e) => e);
    expect(err).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(err.resourceArn).toBe("arn:aws:iot:us-east-1:000000000000:policy/p");
    expect(err.$metadata.httpStatusCode).toBe(409);
  });

  it.each([
    ["invalid JSON", "{"],
    ["no Statement", "{}"],
    [
      "a Statement without Resource",
      JSON.stringify({ Statement: [{ Effect: "Allow", Action: "iot:Connect" }] }),
    ],
    [
      "more than 2048 characters without whitespace",
      JSON.stringify({
        Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "x".repeat(2048) }],
      }),
    ],
  ])("rejects %s with MalformedPolicyException", async (_name, doc) => {
    await expect(create("bad", doc)).rejects.toBeInstanceOf(MalformedPolicyException);
  });

  it("counts the 2048-character limit without whitespace", async () => {
    const padded = DOCUMENT.replaceAll(",", `,\n${" ".repeat(400)}`);
    expect(padded.length).toBeGreaterThan(2048);
    await expect(create("padded", padded)).resolves.toBeDefined();
  });

  it("paginates ListPolicies with marker and pageSize", async () => {
    for (const name of ["a", "b", "c"]) await create(name);
    const first = await client.send(new ListPoliciesCommand({ pageSize: 2 }));
    expect(first.policies?.map((p) => p.policyName)).toEqual(["a", "b"]);
    const second = await client.send(
      new ListPoliciesCommand({ pageSize: 2, marker: first.nextMarker }),
    );
    expect(second.policies?.map((p) => p.policyName)).toEqual(["c"]);
    expect(second.nextMarker).toBeUndefined();
  });
});

describe("attachments", () => {
  it("attaches to an identity id, lists both ways, detaches", async () => {
    await create("device-access");
    await client.send(new AttachPolicyCommand({ policyName: "device-access", target: IDENTITY }));
    // Re-attaching is a harmless no-op.
    await client.send(new AttachPolicyCommand({ policyName: "device-access", target: IDENTITY }));
    await client.send(new AttachPolicyCommand({ policyName: "device-access", target: CERT }));

    const attached = await client.send(
      new ListAttachedPoliciesCommand({ target: IDENTITY, recursive: false }),
    );
    expect(attached.policies).toEqual([
      {
        policyName: "device-access",
        policyArn: "arn:aws:iot:us-east-1:000000000000:policy/device-access",
      },
    ]);
    const targets = await client.send(
      new ListTargetsForPolicyCommand({ policyName: "device-access" }),
    );
    expect(targets.targets).toEqual([IDENTITY, CERT]);
    expect(iot.attachedPolicies(IDENTITY).map((p) => p.policyDocument)).toEqual([DOCUMENT]);

    await expect(
      client.send(new DeletePolicyCommand({ policyName: "device-access" })),
    ).rejects.toBeInstanceOf(DeleteConflictException);
    await client.send(new DetachPolicyCommand({ policyName: "device-access", target: IDENTITY }));
    expect(
      (await client.send(new ListAttachedPoliciesCommand({ target: IDENTITY }))).policies,
    ).toEqual([]);
    expect(iot.attachedPolicies(IDENTITY)).toEqual([]);
  });

  it("limits a target to 10 policies with LimitExceededException", async () => {
    for (let i = 0; i < 11; i++) await create(`p${i}`);
    for (let i = 0; i < 10; i++)
      await client.send(new AttachPolicyCommand({ policyName: `p${i}`, target: IDENTITY }));
    const err = await client
      .send(new AttachPolicyCommand({ policyName: "p10", target: IDENTITY }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(LimitExceededException);
    // Re-attaching one of the ten is still fine at the limit.
    await client.send(new AttachPolicyCommand({ policyName: "p3", target: IDENTITY }));
  });

  it("rejects targets that are neither identity ids nor principal ARNs", async () => {
    await create("device-access");
    await expect(
      client.send(new AttachPolicyCommand({ policyName: "device-access", target: "alice" })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });

  it("raises ResourceNotFoundException for unknown policies", async () => {
    await expect(
      client.send(new AttachPolicyCommand({ policyName: "missing", target: IDENTITY })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new DetachPolicyCommand({ policyName: "missing", target: IDENTITY })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new ListTargetsForPolicyCommand({ policyName: "missing" })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("DescribeEndpoint", () => {
  it("returns the configured local endpoint", async () => {
    const ats = await client.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
    expect(ats.endpointAddress).toBe("mqtt.local.test");
    const legacy = await client.send(new DescribeEndpointCommand({}));
    expect(legacy.endpointAddress).toBe("localhost");
    await expect(
      client.send(new DescribeEndpointCommand({ endpointType: "iot:Nope" })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});
