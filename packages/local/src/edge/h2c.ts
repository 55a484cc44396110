import type { Socket } from "node:net";

/** The HTTP/2 client connection preface (RFC 9113 §3.4), sent first by h2c prior-knowledge clients. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type WireVersion = "http/1.1" | "h2c";

/**
 * Reads just enough of a fresh connection to tell an HTTP/2 prior-knowledge client from an
 * HTTP/1.1 one, puts the bytes back with `unshift`, and reports which it is. Node's HTTP/2 session
 * picks up bytes unshifted into the socket's buffer before it takes over the native handle, so
 * nothing is lost. Resolves `undefined` if the peer goes away before saying anything.
 */
export function sniffWireVersion(socket: Socket): Promise<WireVersion | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const finish = (version: WireVersion | undefined) => {
      socket.off("readable", onReadable);
      socket.off("end", onGone);
      socket.off("close", onGone);
      if (length > 0) socket.unshift(Buffer.concat(chunks, length));
      resolve(version);
    };
    const onGone = () => finish(undefined);

    function onReadable() {
      // Bounded: each round consumes at least one chunk, and we stop once we hold 24 bytes.
      for (
        let chunk = socket.read() as Buffer | null;
        chunk;
        chunk = socket.read() as Buffer | null
      ) {
        chunks.push(chunk);
        length += chunk.length;
        const seen = Buffer.concat(chunks, length);
        const compared = Math.min(seen.length, H2_PREFACE.length);
        if (!seen.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared))) {
          return finish("http/1.1");
        }
        if (compared === H2_PREFACE.length) return finish("h2c");
      }
    }

    socket.on("readable", onReadable);
    socket.once("end", onGone);
    socket.once("close", onGone);
  });
}
