/**
 * Fixtures for the MQTT broker tests: an IAM directory holding roles shaped like the app's
 * (stacks/Auth.ts), the app's IoT policy (stacks/Iot.ts), presigned URLs built with the real
 * SigV4 signer, and the real `mqtt` client.
 */
import { randomUUID } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import mqtt, { type MqttClient } from "mqtt";
import WebSocket from "ws";
import type { IamDirectory, LocalRole, PolicyDocument } from "../../src/cloud/contracts";
import type { IssuedCredentials } from "../../src/services/sts/index";
import { identityPoolTrustPolicy } from "../../src/testing";

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";
export const TOPIC_ROOT = "boardingpass/identities";
/** What `IDENTITY_ID_VARIABLE` in stacks/config.ts expands to in a document. */
const SUB = "${cognito-identity.amazonaws.com:sub}";

export const iotArn = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`;

export function identityId(): string {
  return `${REGION}:${randomUUID()}`;
}

export function ownTopic(id: string, leaf = "events"): string {
  return `${TOPIC_ROOT}/${id}/${leaf}`;
}

/** The IAM statement stacks/Auth.ts gives every signed-in app role (`iotStatementForOwnIdentity`). */
export const APP_ROLE_IOT_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"],
      Resource: [
        iotArn(`client/${SUB}`),
        iotArn(`topic/${TOPIC_ROOT}/${SUB}/*`),
        iotArn(`topicfilter/${TOPIC_ROOT}/${SUB}/*`),
      ],
    },
  ],
};

/** The IoT policy stacks/Iot.ts attaches to each signed-in identity. */
export const APP_IOT_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "iot:Connect", Resource: iotArn(`client/${SUB}`) },
    {
      Effect: "Allow",
      Action: ["iot:Publish", "iot:Receive"],
      Resource: iotArn(`topic/${TOPIC_ROOT}/${SUB}/*`),
    },
    {
      Effect: "Allow",
      Action: "iot:Subscribe",
      Resource: iotArn(`topicfilter/${TOPIC_ROOT}/${SUB}/*`),
    },
  ],
};

/** The app's guest role: guest-data routes only, nothing of IoT (stacks/Auth.ts). */
export const APP_GUEST_ROLE_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:*/*/POST/identity/guest-proof`,
    },
  ],
};

export function role(
  name: string,
  amr: "authenticated" | "unauthenticated",
  policies: PolicyDocument[],
  identityPoolId = `${REGION}:${randomUUID()}`,
): LocalRole {
  return {
    name,
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    trustPolicy: identityPoolTrustPolicy(identityPoolId, amr) as PolicyDocument,
    policies,
    managedPolicyArns: [],
  };
}

/** The IAM directory the provisioner would build from the template: roles by ARN. */
export class TestIamDirectory implements IamDirectory {
  private readonly byArn = new Map<string, LocalRole>();

  put(role: LocalRole): LocalRole {
    this.byArn.set(role.arn, role);
    return role;
  }

  role(roleArn: string): LocalRole | undefined {
    return this.byArn.get(roleArn);
  }

  roles(): LocalRole[] {
    return [...this.byArn.values()];
  }
}

export interface PresignOptions {
  /** AWS IoT's documented way: the token is appended after signing (default). */
  tokenAfterSigning?: boolean;
  signingDate?: Date;
  expiresIn?: number;
  service?: string;
  region?: string;
}

/** A presigned `ws://.../mqtt` URL for `credentials`, as an app or device SDK builds it. */
export async function presignedUrl(
  brokerUrl: string,
  credentials: Pick<IssuedCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  options: PresignOptions = {},
): Promise<string> {
  const url = new URL(brokerUrl);
  const tokenAfterSigning = options.tokenAfterSigning ?? true;
  const signer = new SignatureV4({
    service: options.service ?? "iotdevicegateway",
    region: options.region ?? REGION,
    sha256: Sha256,
    credentials: tokenAfterSigning
      ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }
      : credentials,
  });
  const request = new HttpRequest({
    method: "GET",
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host },
  });
  const signed = await signer.presign(request, {
    expiresIn: options.expiresIn ?? 3600,
    ...(options.signingDate ? { signingDate: options.signingDate } : {}),
  });
  const query = Object.entries(signed.query ?? {}).map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`,
  );
  if (tokenAfterSigning) {
    query.push(`X-Amz-Security-Token=${encodeURIComponent(credentials.sessionToken)}`);
  }
  return `${url.origin}${url.pathname}?${query.join("&")}`;
}

export async function connectMqtt(url: string, clientId: string): Promise<MqttClient> {
  // No retries: a refusal must surface as a rejection, not a reconnect loop.
  return mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0 }, false);
}

/** The HTTP status of a WebSocket upgrade (101 when accepted). */
export async function upgradeStatus(url: string, protocol = "mqtt"): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol);
    ws.once("upgrade", (response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    // `on`, not `once`: terminating a handshake in progress reports an error as well.
    ws.on("error", (err) => reject(err));
  });
}

/** Resolves with the next message on `topic` (the listener is removed afterwards). */
export function nextMessage(client: MqttClient, topic: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      client.off("message", onMessage);
      resolve(payload.toString("utf8"));
    };
    client.on("message", onMessage);
  });
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected) return resolve();
    client.once("close", () => resolve());
  });
}

/**
 * The SUBACK return codes for `filters` (QoS 2 only to check that it is refused). mqtt.js rejects a SUBACK holding any failure (0x80);
 * the packet rides on the error.
 */
export async function subscribeGranted(
  client: MqttClient,
  filters: string | string[],
  qos: 0 | 1 | 2 = 1,
): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}
