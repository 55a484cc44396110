import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sniffWireVersion, type WireVersion } from "../src/edge/h2c";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

interface Sniffed {
  version: WireVersion | undefined;
  /** Everything readable from the socket afterwards: the sniffed bytes must still be there. */
  rest: Promise<string>;
}

describe("sniffWireVersion", () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  /** Sends `chunks` one by one (each flushed before the next) and sniffs on the server side. */
  async function sniff(chunks: string[]): Promise<Sniffed> {
    const accepted = new Promise<Socket>((resolve) => {
      server = createServer(resolve);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const address = server!.address() as { port: number };
    const client = connect(address.port, "127.0.0.1");
    client.setNoDelay(true);
    const socket = await accepted;
    sockets.push(socket, client);
    const sniffing = sniffWireVersion(socket);
    for (const chunk of chunks) {
      await new Promise<void>((resolve) => client.write(chunk, () => resolve()));
    }
    client.end();
    const version = await sniffing;
    const rest = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (data: Buffer) => {
        text += data.toString("latin1");
      });
      socket.on("end", () => resolve(text));
      socket.on("close", () => resolve(text));
    });
    socket.resume();
    return { version, rest };
  }

  it("recognises the HTTP/2 preface even when it arrives in pieces", async () => {
    const { version, rest } = await sniff([
      PREFACE.slice(0, 3),
      PREFACE.slice(3, 10),
      PREFACE.slice(10),
    ]);

    expect(version).toBe("h2c");
    expect(await rest).toBe(PREFACE);
  });

  it("hands HTTP/1.1 on as soon as the bytes diverge from the preface", async () => {
    const request = "POST / HTTP/1.1\r\nHost: x\r\n\r\n";

    const { version, rest } = await sniff(["P", request.slice(1)]);

    expect(version).toBe("http/1.1");
    expect(await rest).toBe(request);
  });

  it("reports a peer that leaves before speaking", async () => {
    const { version } = await sniff([]);

    expect(version).toBeUndefined();
  });
});
