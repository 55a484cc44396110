/** The identities domain: identity graph, guest link/merge, IoT policy lifecycle, guest data. */
export * from "./attach";
export * from "./caller";
export * from "./data";
export * from "./delete-user";
export * from "./errors";
export * from "./events";
export * from "./guest-proof";
export * from "./guest-proof-issuer";
export * from "./guest-proof-quota";
export * from "./guest-status";
export * from "./iot";
export * from "./link";
export * from "./model";
export type * from "./ports";
export * from "./session";
