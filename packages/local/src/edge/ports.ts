import { type AddressInfo, createServer } from "node:net";

/**
 * Asks the OS for a free loopback port for an emulator that cannot listen on port 0 itself
 * (kinesis-mock takes fixed ports from its environment). The port is released before the emulator
 * binds it; on a loopback-only developer machine that window is harmless.
 */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
