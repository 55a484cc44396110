import { BUILT_IN_SERVICES, startLocalAws } from "@boarding-pass/local";
import { silenceSdkNotices } from "@boarding-pass/local/cloud/sdk-notices";
import { assertLoopbackEndpoint } from "@boarding-pass/testing";
import type { TestProject } from "vitest/node";

// The AWS SDKs' Node-support and end-of-support notices, once per test worker, child process and
// synthesis, would bury the run's output (the README says it once); every other warning still
// prints. Set here, in vitest's main process, before it starts the workers: they inherit it.
silenceSdkNotices();

/**
 * Starts the local AWS plane (one loopback endpoint for DynamoDB, Kinesis, SNS, STS and the IoT
 * control plane) once for the whole run and hands its endpoint to tests via
 * `inject("localAwsEndpoint")`. In memory only: every run starts empty, tests scope their data
 * with fresh ids.
 */
export default async function setup(project: TestProject) {
  const aws = await startLocalAws({ port: 0, include: BUILT_IN_SERVICES, log: () => {} });
  const endpoint = assertLoopbackEndpoint(aws.endpoint);
  project.provide("localAwsEndpoint", endpoint);
  return async () => {
    await aws.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    localAwsEndpoint: string;
  }
}
