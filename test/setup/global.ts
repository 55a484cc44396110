import type { AddressInfo } from "node:net";
import dynalite from "dynalite";
import type { TestProject } from "vitest/node";
import { assertLoopbackEndpoint } from "./loopback";

/**
 * Starts the embedded AWS services once for the whole run and hands their endpoint to tests via
 * `inject("localAwsEndpoint")`. In memory only: every run starts empty, tests scope their data
 * with fresh ids.
 */
export default async function setup(project: TestProject) {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = assertLoopbackEndpoint(`http://127.0.0.1:${port}`);
  project.provide("localAwsEndpoint", endpoint);
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    localAwsEndpoint: string;
  }
}
