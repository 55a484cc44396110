/**
 * The MQTT broker end to end: credentials minted by the local STS, roles like the app's in an
 * IAM directory, the app's IoT policy created and attached with @aws-sdk/client-iot against the
 * local plane, and the real `mqtt` client on a URL presigned with the real SigV4 signer.
 */
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  IoTClient,
} from "@aws-sdk/client-iot";
import type { MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "../../src/index";
import { GUEST_SESSION_POLICY } from "../../src/services/cognito-identity/guest-policy";
import { type MqttBroker, startMqttBroker } from "../../src/services/iot-data/index";
import {
  createStsService,
  type IssuedCredentials,
  type StsService,
} from "../../src/services/sts/index";
import {
  APP_GUEST_ROLE_POLICY,
  APP_IOT_POLICY,
  APP_ROLE_IOT_POLICY,
  closed,
  connectMqtt,
  identityId,
  nextMessage,
  ownTopic,
  presignedUrl,
  REGION,
  role,
  subscribeGranted,
  TestIamDirectory,
  TOPIC_ROOT,
  upgradeStatus,
} from "./fixtures";

let aws: LocalAws;
let sts: StsService;
let broker: MqttBroker;
let iot: IoTClient;
const iam = new TestIamDirectory();
const logs: string[] = [];
/** Shifts the STS clock, to mint credentials that are already expired. */
let stsClockOffsetMs = 0;
const clients: MqttClient[] = [];

const memberRole = iam.put(role("member", "authenticated", [APP_ROLE_IOT_POLICY]));
const appGuestRole = iam.put(role("guest", "unauthenticated", [APP_GUEST_ROLE_POLICY]));
/** A deployment that lets guests use IoT: the same IAM statement on the guest role. */
const iotGuestRole = iam.put(role("iot-guest", "unauthenticated", [APP_ROLE_IOT_POLICY]));
const iotPolicyName = `identity-${Date.now()}`;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, include: ["iot"] });
  sts = createStsService({ region: REGION, now: () => Date.now() + stsClockOffsetMs });
  aws.register(sts);
  for (const r of iam.roles()) sts.putRole({ arn: r.arn, trustPolicy: r.trustPolicy });
  broker = await startMqttBroker({
    host: "127.0.0.1",
    port: 0,
    region: REGION,
    accountId: "000000000000",
    sts,
    iot: aws.iot!,
    iam,
    log: (line) => logs.push(line),
  });
  aws.iot!.setDataEndpoint(broker.host);
  iot = new IoTClient({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await iot.send(
    new CreatePolicyCommand({
      policyName: iotPolicyName,
      policyDocument: JSON.stringify(APP_IOT_POLICY),
    }),
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

afterAll(async () => {
  await broker?.close();
  iot?.destroy();
  await aws?.stop();
});

/** Credentials as the identity pool would get them for `id` on `roleArn`. */
function credentialsFor(
  id: string,
  roleArn = memberRole.arn,
  extra: { sessionPolicy?: string; durationSeconds?: number } = {},
): IssuedCredentials {
  return sts.issueCredentials({
    roleArn,
    sessionName: "CognitoIdentityCredentials",
    subject: id,
    identityId: id,
    durationSeconds: extra.durationSeconds ?? 3600,
    ...(extra.sessionPolicy !== undefined ? { sessionPolicy: extra.sessionPolicy } : {}),
  });
}

/** A signed-in identity with the app's IoT policy attached, as the link route does. */
async function signedIn(): Promise<{ id: string; credentials: IssuedCredentials }> {
  const id = identityId();
  await iot.send(new AttachPolicyCommand({ policyName: iotPolicyName, target: id }));
  return { id, credentials: credentialsFor(id) };
}

async function connect(
  credentials: IssuedCredentials,
  clientId: string,
  options?: Parameters<typeof presignedUrl>[2],
): Promise<MqttClient> {
  const client = await connectMqtt(await presignedUrl(broker.url, credentials, options), clientId);
  clients.push(client);
  return client;
}

describe("signed-in identity with the app's role and IoT policy", () => {
  it("publishes to, subscribes to and receives its own topics", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    const topic = ownTopic(id, "telemetry");

    const granted = await client.subscribeAsync(`${TOPIC_ROOT}/${id}/*`, { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    // IoT's `*` is no MQTT wildcard: subscribing to the literal filter `.../<id>/+` is also own.
    const received = nextMessage(client, topic);
    await client.subscribeAsync(`${TOPIC_ROOT}/${id}/+`, { qos: 1 });
    await client.publishAsync(topic, "hello", { qos: 1 });
    expect(await received).toBe("hello");

    expect(broker.connections()).toContainEqual(
      expect.objectContaining({
        clientId: id,
        identityId: id,
        roleArn: memberRole.arn,
        guest: false,
      }),
    );
    expect(broker.messages()).toContainEqual(
      expect.objectContaining({ topic, clientId: id, identityId: id, qos: 1 }),
    );
  });

  it("is disconnected for publishing to another identity's topic", async () => {
    const { id, credentials } = await signedIn();
    const other = identityId();
    const client = await connect(credentials, id);
    const gone = closed(client);
    client.publish(ownTopic(other), "not yours", { qos: 0 });
    await gone;
    expect(broker.connections().map((c) => c.clientId)).not.toContain(id);
    expect(broker.messages().map((m) => m.topic)).not.toContain(ownTopic(other));
    expect(logs.join("\n")).toContain(`iot:Publish ${ownTopic(other)} refused for ${id}`);
  });

  it("gets SUBACK 0x80 for another identity's topic filter and keeps the connection", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    const granted = await subscribeGranted(client, [
      `${TOPIC_ROOT}/${identityId()}/#`,
      `${TOPIC_ROOT}/${id}/#`,
    ]);
    // IoT's rules: `#` is a literal in the resource, so `<own id>/#` matches `<own id>/*`.
    expect(granted).toEqual([128, 1]);
    expect(client.connected).toBe(true);
  });

  it("holds topics to AWS IoT's quota of 7 forward slashes", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    const deepest = ownTopic(id, "a/b/c/d/e"); // 7 slashes
    expect(await subscribeGranted(client, [deepest, `${deepest}/f`])).toEqual([1, 128]);
    const gone = closed(client);
    client.publish(`${deepest}/f`, "too deep", { qos: 0 });
    await gone;
    expect(logs.join("\n")).toContain("more than AWS IoT's 7 forward slashes");
  });

  it("refuses the connection (CONNACK 5) when no IoT policy is attached", async () => {
    const id = identityId();
    await expect(connect(credentialsFor(id), id)).rejects.toMatchObject({ code: 5 });
    expect(logs.join("\n")).toContain(`no IoT policy is attached to ${id}`);
  });

  it("refuses a client id that is not the identity's own", async () => {
    const { credentials } = await signedIn();
    await expect(connect(credentials, identityId())).rejects.toMatchObject({ code: 5 });
  });

  it("applies a detached policy to the live connection at once", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    await iot.send(new DetachPolicyCommand({ policyName: iotPolicyName, target: id }));
    expect(await subscribeGranted(client, `${TOPIC_ROOT}/${id}/x`)).toEqual([128]);
  });

  it("kicks the first connection when a second one connects with the same client id", async () => {
    const { id, credentials } = await signedIn();
    const first = await connect(credentials, id);
    const firstClosed = closed(first);
    const second = await connect(credentials, id);
    await firstClosed;
    expect(second.connected).toBe(true);
    expect(broker.connections().filter((c) => c.clientId === id)).toHaveLength(1);
  });

  it("delivers to a subscriber only what it may receive", async () => {
    // A role and IoT policy that let anyone subscribe to the whole tree, but receive only its own.
    const wide = {
      Version: "2012-10-17",
      Statement: [
        ...(APP_IOT_POLICY.Statement as object[]),
        {
          Effect: "Allow",
          Action: "iot:Subscribe",
          Resource: `arn:aws:iot:${REGION}:000000000000:topicfilter/${TOPIC_ROOT}/#`,
        },
      ],
    };
    const wideRole = iam.put(role(`wide-${Date.now()}`, "authenticated", [wide as never]));
    const widePolicy = `wide-${Date.now()}`;
    await iot.send(
      new CreatePolicyCommand({ policyName: widePolicy, policyDocument: JSON.stringify(wide) }),
    );
    const listenerId = identityId();
    await iot.send(new AttachPolicyCommand({ policyName: widePolicy, target: listenerId }));
    const listener = await connect(credentialsFor(listenerId, wideRole.arn), listenerId);
    const { id: talkerId, credentials: talkerCredentials } = await signedIn();
    const talker = await connect(talkerCredentials, talkerId);

    const seen: string[] = [];
    listener.on("message", (topic) => seen.push(topic));
    expect(
      (await listener.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 })).map((g) => g.qos),
    ).toEqual([1]);
    // The talker's message is accepted (PUBACK) before the listener's own is published; a
    // subscriber gets one connection's forwards in order, so had it been forwarded it would
    // arrive first.
    await talker.publishAsync(ownTopic(talkerId), "private", { qos: 1 });
    const own = nextMessage(listener, ownTopic(listenerId));
    await listener.publishAsync(ownTopic(listenerId), "mine", { qos: 1 });
    expect(await own).toBe("mine");
    expect(seen).toEqual([ownTopic(listenerId)]);
    expect(broker.messages().map((m) => m.topic)).toContain(ownTopic(talkerId));
    expect(logs.join("\n")).toContain(
      `iot:Receive ${ownTopic(talkerId)} refused for ${listenerId}`,
    );
  });
});

describe("broker surface", () => {
  it("tells listeners of accepted publishes; a throwing listener harms no one", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    const heard: string[] = [];
    const stopThrowing = broker.onMessage(() => {
      throw new Error("console crashed");
    });
    const stop = broker.onMessage((m) => {
      if (m.identityId === id) heard.push(m.payload.toString("utf8"));
    });
    try {
      const echoed = nextMessage(client, ownTopic(id));
      await client.subscribeAsync(ownTopic(id), { qos: 1 });
      await client.publishAsync(ownTopic(id), "one", { qos: 1 });
      expect(await echoed).toBe("one");
    } finally {
      stop();
      stopThrowing();
    }
    await client.publishAsync(ownTopic(id), "two", { qos: 1 });
    expect(heard).toEqual(["one"]);
    expect(broker.messages(1)).toEqual([expect.objectContaining({ topic: ownTopic(id) })]);
    expect(broker.messages(1)[0]!.payload.toString("utf8")).toBe("two");
    expect(logs.join("\n")).toContain("a message listener threw: console crashed");
  });

  it("refuses QoS 2 as AWS IoT does not support it", async () => {
    const { id, credentials } = await signedIn();
    const client = await connect(credentials, id);
    expect(await subscribeGranted(client, ownTopic(id), 2)).toEqual([128]);
    const gone = closed(client);
    client.publish(ownTopic(id), "exactly once", { qos: 2 });
    await gone;
  });

  it("closes live connections and stops listening on close()", async () => {
    const own = await startMqttBroker({ region: REGION, sts, iot: aws.iot!, iam });
    const { id, credentials } = await signedIn();
    const client = await connectMqtt(await presignedUrl(own.url, credentials), id);
    clients.push(client);
    const gone = closed(client);
    await own.close();
    await gone;
    await expect(upgradeStatus(await presignedUrl(own.url, credentials))).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

describe("guests", () => {
  it("connect with the role's policies alone, no IoT policy needed", async () => {
    const id = identityId();
    const credentials = credentialsFor(id, iotGuestRole.arn, {
      sessionPolicy: GUEST_SESSION_POLICY,
    });
    const client = await connect(credentials, id);
    const received = nextMessage(client, ownTopic(id));
    await client.subscribeAsync(ownTopic(id), { qos: 1 });
    await client.publishAsync(ownTopic(id), "guest", { qos: 1 });
    expect(await received).toBe("guest");
    expect(broker.connections()).toContainEqual(
      expect.objectContaining({ clientId: id, guest: true }),
    );
  });

  it("are refused with the app's guest role, which grants nothing of IoT", async () => {
    const id = identityId();
    const credentials = credentialsFor(id, appGuestRole.arn, {
      sessionPolicy: GUEST_SESSION_POLICY,
    });
    await expect(connect(credentials, id)).rejects.toMatchObject({ code: 5 });
  });

  it("are limited by their session policy as well", async () => {
    const id = identityId();
    const noIot = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "*" }],
    });
    await expect(
      connect(credentialsFor(id, iotGuestRole.arn, { sessionPolicy: noIot }), id),
    ).rejects.toMatchObject({ code: 5 });
    expect(logs.join("\n")).toContain("by the session policy");
  });
});

describe("WebSocket upgrade", () => {
  it("accepts AWS IoT's appended token and a signed one alike", async () => {
    const { credentials } = await signedIn();
    expect(await upgradeStatus(await presignedUrl(broker.url, credentials))).toBe(101);
    expect(
      await upgradeStatus(
        await presignedUrl(broker.url, credentials, { tokenAfterSigning: false }),
      ),
    ).toBe(101);
  });

  it("refuses a tampered signature with 403", async () => {
    const { credentials } = await signedIn();
    const url = new URL(await presignedUrl(broker.url, credentials));
    const signature = url.searchParams.get("X-Amz-Signature")!;
    const flipped = `${signature[0] === "0" ? "1" : "0"}${signature.slice(1)}`;
    const tampered = url.href.replace(signature, flipped);
    expect(await upgradeStatus(tampered)).toBe(403);
    expect(logs.join("\n")).toContain("signature does not match");
    // The real client sees the refused upgrade as a failed connection.
    await expect(connectMqtt(tampered, identityId())).rejects.toThrow();
  });

  it("refuses expired credentials with 403", async () => {
    const id = identityId();
    stsClockOffsetMs = -2 * 3600 * 1000;
    let credentials: IssuedCredentials;
    try {
      credentials = credentialsFor(id);
    } finally {
      stsClockOffsetMs = 0;
    }
    await iot.send(new AttachPolicyCommand({ policyName: iotPolicyName, target: id }));
    expect(await upgradeStatus(await presignedUrl(broker.url, credentials))).toBe(403);
    expect(logs.join("\n")).toContain("credentials expired");
  });

  it("refuses an expired presigned URL, beyond the 15-minute skew, with 403", async () => {
    const { credentials } = await signedIn();
    const url = await presignedUrl(broker.url, credentials, {
      signingDate: new Date(Date.now() - 3600_000 - 60_000),
      expiresIn: 3600,
    });
    expect(await upgradeStatus(url)).toBe(403);
    const future = await presignedUrl(broker.url, credentials, {
      signingDate: new Date(Date.now() + 20 * 60_000),
    });
    expect(await upgradeStatus(future)).toBe(403);
    const withinSkew = await presignedUrl(broker.url, credentials, {
      signingDate: new Date(Date.now() + 5 * 60_000),
    });
    expect(await upgradeStatus(withinSkew)).toBe(101);
  });

  it("refuses a missing or foreign token, another service's signature and unknown keys", async () => {
    const { credentials } = await signedIn();
    const other = credentialsFor(identityId());
    const noToken = (await presignedUrl(broker.url, credentials)).replace(
      /&X-Amz-Security-Token=[^&]*/,
      "",
    );
    expect(await upgradeStatus(noToken)).toBe(403);
    const foreignToken = await presignedUrl(broker.url, {
      ...credentials,
      sessionToken: other.sessionToken,
    });
    expect(await upgradeStatus(foreignToken)).toBe(403);
    expect(
      await upgradeStatus(await presignedUrl(broker.url, credentials, { service: "iot" })),
    ).toBe(403);
    expect(
      await upgradeStatus(
        await presignedUrl(broker.url, { ...credentials, accessKeyId: "ASIAUNKNOWN0000000" }),
      ),
    ).toBe(403);
  });

  it("serves MQTT only at /mqtt and only under the mqtt subprotocol", async () => {
    const { credentials } = await signedIn();
    const url = await presignedUrl(broker.url, credentials);
    expect(await upgradeStatus(url.replace("/mqtt?", "/other?"))).toBe(404);
    expect(await upgradeStatus(url, "mqttv3.1")).toBe(400);
  });
});

describe("DescribeEndpoint", () => {
  it("names the broker for the data endpoint types and keeps the default for the others", async () => {
    for (const endpointType of ["iot:Data-ATS", "iot:Data"]) {
      const out = await iot.send(new DescribeEndpointCommand({ endpointType }));
      expect(out.endpointAddress).toBe(broker.host);
    }
    const other = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Jobs" }));
    expect(other.endpointAddress).toBe("localhost");
    expect(broker.url).toBe(`ws://${broker.host}/mqtt`);
  });
});
