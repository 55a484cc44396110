/** The local Lambda runtime: `createLambdaRuntime` and its shapes. */

export { parseFunctionReference, splitHandler } from "./names";
export { createLambdaRuntime } from "./runtime";
export type {
  AsyncFailure,
  FunctionCredentials,
  InvocationFilter,
  InvocationRecord,
  LambdaLogRecord,
  LambdaRuntime,
  LambdaRuntimeOptions,
  LocalFunction,
  TraceCollector,
} from "./types";
