/**
 * The local AWS IoT data plane: an MQTT 3.1.1 broker (aedes) over WebSocket on
 * `ws://127.0.0.1:<port>/mqtt`, authenticated and authorized as AWS IoT does for Cognito
 * credentials:
 *
 * - The upgrade must come from a loopback host name and, from a browser, an origin the local
 *   cloud's origin policy admits (edge/origin.ts): a WebSocket is not bound by CORS, so without
 *   this any page could open one with a developer's presigned URL (cross-site WebSocket hijacking).
 * - The upgrade carries a SigV4 presigned query for service `iotdevicegateway`, signed with
 *   credentials the local STS issued (presigned-url.ts); anything else is refused with 403
 *   before any MQTT byte is read.
 * - Every operation is authorized against the role's IAM policies and, for a signed-in identity,
 *   the IoT policies attached to its identity id (authorizer.ts, principal.ts). As in AWS IoT:
 *   a refused CONNECT gets CONNACK 5 and the connection is closed; an unauthorized PUBLISH
 *   disconnects the client (MQTT 3.1.1 has no negative PUBACK); an unauthorized SUBSCRIBE gets
 *   0x80 for that filter; a subscriber receives only what it may iot:Receive. Reserved `$aws/`
 *   topics are ordinary resources here: allowed only when a policy names them.
 * - One connection per client id: a second CONNECT with the same id, once authorized, closes the
 *   first (aedes' session takeover, which is AWS IoT's behaviour too).
 *
 * Policies are read at each operation, so attaching or detaching an IoT policy applies to live
 * connections at once (AWS takes up to minutes to propagate).
 */
import { createServer, type IncomingMessage, STATUS_CODES } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import { createWebSocketStream, type WebSocket, WebSocketServer } from "ws";
import type { IamDirectory } from "../../cloud/contracts";
import { assertLoopbackHost } from "../../edge/index";
import { createOriginPolicy, isRefusal, type OriginPolicy } from "../../edge/origin";
import { LOCAL_ACCOUNT_ID } from "../../types";
import type { IotService } from "../iot/index";
import type { IssuedCredentials, StsService } from "../sts/index";
import { createIotAuthorizer, type IotAction } from "./authorizer";
import { type MessageListener, MessageLog, type MqttMessage } from "./message-log";
import { verifyPresignedUrl } from "./presigned-url";
import { type IdentityLookup, type IotPrincipal, resolvePrincipal } from "./principal";

const MQTT_PATH = "/mqtt";
/** AWS IoT's client id limit (MQTT 3.1's 23 would refuse `us-east-1:<uuid>`). */
const MAX_CLIENT_ID_LENGTH = 128;
/** AWS IoT's message payload limit. */
const MAX_PAYLOAD_BYTES = 128 * 1024;
/** A WebSocket message holds one MQTT packet: payload plus topic and header. */
const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 70 * 1024;
const DEFAULT_MESSAGE_LOG_SIZE = 1000;
/** AWS IoT's topic quotas: UTF-8 bytes, and forward slashes (Basic Ingest's prefix not counted). */
const MAX_TOPIC_BYTES = 256;
const MAX_TOPIC_SLASHES = 7;
const BASIC_INGEST = /^\$aws\/rules\/[^/]+\//i;
/** aedes' own `$SYS/` topics (heartbeats, client events): no AWS IoT topic, not for clients. */
const SYS_PREFIX = "$SYS/";

interface MqttBrokerOptions {
  /** Loopback only (`127.0.0.1` by default); anything else is refused. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  region: string;
  accountId?: string;
  sts: Pick<StsService, "lookupCredentials">;
  iot: Pick<IotService, "attachedPolicies">;
  iam: IamDirectory;
  /**
   * The local identity pool, when available: decides who is a guest from the identity's logins,
   * as Cognito does. Without it the role's trust policy decides (principal.ts).
   */
  identities?: IdentityLookup;
  /** Refusals, disconnections and client errors, one line each. */
  log?: (line: string) => void;
  /** Publishes kept for `messages()` (default 1,000). */
  messageLogSize?: number;
  /** Clock for signature and expiry checks (ms since epoch). */
  now?: () => number;
  /** Which hosts and browser origins may connect (loopback only by default; the cloud's own). */
  origins?: OriginPolicy;
}

interface MqttConnection {
  clientId: string;
  identityId: string | undefined;
  roleArn: string;
  guest: boolean;
  /** Epoch ms of the CONNACK. */
  connectedAt: number;
}

export interface MqttBroker {
  /** `ws://127.0.0.1:<port>/mqtt`: presign this URL. */
  readonly url: string;
  /** `127.0.0.1:<port>`: what DescribeEndpoint answers (`iot.setDataEndpoint(broker.host)`). */
  readonly host: string;
  connections(): MqttConnection[];
  /** The most recent publishes (all kept by default), oldest first. */
  messages(limit?: number): MqttMessage[];
  /** Called for every publish the broker accepts; returns the unsubscribe function. */
  onMessage(listener: MessageListener): () => void;
  close(): Promise<void>;
}

export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const bindHost = assertLoopbackHost(options.host ?? "127.0.0.1");
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const origins = options.origins ?? createOriginPolicy();
  const authorizer = createIotAuthorizer({ region: options.region, accountId, iot: options.iot });
  const messageLog = new MessageLog(options.messageLogSize ?? DEFAULT_MESSAGE_LOG_SIZE, (err) =>
    log(`mqtt: a message listener threw: ${err instanceof Error ? err.message : String(err)}`),
  );
  /** Verified at the upgrade, read at CONNECT (aedes hands the upgrade request to the client). */
  const verified = new WeakMap<IncomingMessage, IssuedCredentials>();
  const live = new Map<Client, MqttConnection>();

  const principalOf = (client: Client | null): IotPrincipal | undefined => {
    const credentials = client?.req ? verified.get(client.req) : undefined;
    // Resolved at each use: a role or identity changed since the connect applies at once.
    return credentials && resolvePrincipal(credentials, options.iam, options.identities);
  };
  /** The connection's principal if it may do `action` on `name`; undefined (and logged) if not. */
  const check = (
    client: Client | null,
    action: IotAction,
    name: string,
  ): IotPrincipal | undefined => {
    const principal = principalOf(client);
    if (!client || !principal) {
      log(`mqtt: ${action} ${name} refused: no authenticated connection`);
      return undefined;
    }
    const decision = authorizer.authorize(principal, client.id, action, name);
    if (decision.allowed) return principal;
    log(`mqtt: ${action} ${name} refused for ${client.id}: ${decision.reason}`);
    return undefined;
  };

  const broker = await Aedes.createBroker({
    maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
    // A slow local subscriber must not stall everyone else for aedes' default minute.
    drainTimeout: 10_000,
    authenticate(client, _username, _password, done) {
      if (check(client, "iot:Connect", client.id)) return done(null, true);
      const error = new Error("Not authorized") as AuthenticateError;
      error.returnCode = 5;
      done(error, null);
    },
    authorizePublish(client, packet, done) {
      // aedes publishes its heartbeat under $SYS; a client posing as the broker there is refused.
      if (packet.topic.startsWith(SYS_PREFIX)) return done(new Error(`${SYS_PREFIX} is reserved`));
      // AWS IoT supports QoS 0 and 1 only; failing loudly beats an unacknowledged QoS 2 publish.
      if (packet.qos === 2) return done(new Error("QoS 2 is not supported by AWS IoT"));
      const quota = topicQuotaExceeded(packet.topic);
      if (quota) return done(new Error(quota));
      if (Buffer.byteLength(packet.payload) > MAX_PAYLOAD_BYTES) {
        return done(new Error(`payload exceeds AWS IoT's ${MAX_PAYLOAD_BYTES} bytes`));
      }
      // A refusal makes aedes close the connection: AWS IoT's answer under MQTT 3.1.1.
      const publisher = check(client, "iot:Publish", packet.topic);
      if (!publisher) return done(new Error(`Not authorized to publish to ${packet.topic}`));
      // Logged on acceptance, before delivery and the PUBACK (aedes' own "publish" event comes
      // after both), so a console or test sees a message as soon as its sender could.
      messageLog.add({
        topic: packet.topic,
        payload: Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
        clientId: client!.id,
        identityId: publisher.identityId,
        receivedAt: now(),
      });
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      if (subscription.qos === 2) {
        log(
          `mqtt: subscribe ${subscription.topic} refused for ${client.id}: QoS 2 is not supported`,
        );
        return done(null, null);
      }
      const quota = topicQuotaExceeded(subscription.topic);
      if (quota) {
        log(`mqtt: subscribe ${subscription.topic} refused for ${client.id}: ${quota}`);
        return done(null, null);
      }
      // `null` negates only this filter: SUBACK 0x80 for it, the connection stays.
      done(null, check(client, "iot:Subscribe", subscription.topic) ? subscription : null);
    },
    authorizeForward(client, packet) {
      return check(client, "iot:Receive", packet.topic) ? packet : null;
    },
  });

  broker.on("clientReady", (client) => {
    const principal = principalOf(client);
    if (!principal) return;
    live.set(client, {
      clientId: client.id,
      identityId: principal.identityId,
      roleArn: principal.credentials.roleArn,
      guest: principal.guest,
      connectedAt: now(),
    });
  });
  broker.on("clientDisconnect", (client) => {
    live.delete(client);
  });
  broker.on("clientError", (client, error) => {
    log(`mqtt: client ${client.id} disconnected: ${error.message}`);
  });
  broker.on("connectionError", (client, error) => {
    log(`mqtt: connection ${client.id ?? "(no id)"} refused: ${error.message}`);
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // AWS IoT speaks MQTT under the `mqtt` subprotocol only.
    handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false),
  });
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;
  const server = createServer((request, response) => {
    const refused = isRefusal(origins.check(request.headers));
    response.writeHead(refused ? 403 : 426, {
      "content-type": "application/json",
      ...(refused ? {} : { upgrade: "websocket" }),
    });
    response.end(
      JSON.stringify({
        message: refused ? "Forbidden" : `MQTT over WebSocket only, at ${MQTT_PATH}`,
      }),
    );
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => {});
    const refuse = (status: number, reason: string) => {
      log(`mqtt: upgrade refused (${status}): ${reason}`);
      const body = JSON.stringify({ message: status === 403 ? "Forbidden" : reason });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (closing) return refuse(503, "the broker is closing");
    const verdict = origins.check(request.headers);
    if (isRefusal(verdict)) return refuse(403, verdict.reason);
    const url = request.url ?? "/";
    const path = url.split("?", 1)[0];
    if (path !== MQTT_PATH) return refuse(404, `no MQTT endpoint at ${path}`);
    const protocols = (request.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim());
    if (!protocols.includes("mqtt")) return refuse(400, "the WebSocket subprotocol must be mqtt");
    const verification = verifyPresignedUrl(
      { method: request.method ?? "GET", url, headers: request.headers },
      {
        region: options.region,
        lookupCredentials: (key) => options.sts.lookupCredentials(key),
        now: now(),
      },
    );
    if (!verification.ok) return refuse(403, verification.reason);
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      verified.set(request, verification.credentials);
      const stream = createWebSocketStream(ws);
      // aedes reports protocol errors itself; a reset socket must not crash the process.
      stream.on("error", () => {});
      broker.handle(stream, request);
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  }).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  });
  const host = `${bindHost.includes(":") ? `[${bindHost}]` : bindHost}:${port}`;

  return {
    url: `ws://${host}${MQTT_PATH}`,
    host,
    connections: () => [...live.values()].map((connection) => ({ ...connection })),
    messages: (limit) => messageLog.recent(limit),
    onMessage: (listener) => messageLog.listen(listener),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The AWS IoT topic quota a topic or filter exceeds, if any. */
function topicQuotaExceeded(topic: string): string | undefined {
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    return `topic exceeds AWS IoT's ${MAX_TOPIC_BYTES} bytes`;
  }
  const counted = topic.replace(BASIC_INGEST, "");
  if ((counted.match(/\//g)?.length ?? 0) > MAX_TOPIC_SLASHES) {
    return `topic has more than AWS IoT's ${MAX_TOPIC_SLASHES} forward slashes`;
  }
  return undefined;
}
