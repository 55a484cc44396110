/**
 * zod as core sees it: the one configured `zod/mini` of @boarding-pass/contracts (see its zod.ts),
 * re-exported so that core, the contracts and the functions share one copy of zod in a bundle.
 */
export * from "@boarding-pass/contracts/zod";
