/** The local Lambda runtime: `createLambdaRuntime` and its shapes. */

export { createLambdaRuntime } from "./runtime";
export type { LambdaRuntime } from "./types";
