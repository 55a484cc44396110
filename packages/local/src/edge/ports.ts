import { type AddressInfo, createServer, type Server } from "node:net";

/**
 * Asks the OS for distinct free loopback ports for listeners that must know their port before
 * they bind (the local cloud's HTTP API port next to the edge). All probes are held open together
 * so the ports differ; they are released before the listener binds them, and a lost race shows up
 * as EADDRINUSE at its start.
 */
export async function findFreePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const probes: Server[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const probe = createServer();
      probes.push(probe);
      await new Promise<void>((resolve, reject) => {
        probe.once("error", reject);
        probe.listen(0, host, () => resolve());
      });
    }
    return probes.map((probe) => (probe.address() as AddressInfo).port);
  } finally {
    await Promise.all(
      probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))),
    );
  }
}
