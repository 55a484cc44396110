/**
 * Base class of the local cloud's own failures: start-up, set-up and the machinery under the
 * services, never the AWS errors it emulates (those are `AwsServiceError`, in `protocol/`). If one
 * reaches the edge while a request is answered, its code is what the 500 names.
 */
export class LocalAwsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The edge was asked to bind something other than loopback. */
export class NonLoopbackHostError extends LocalAwsError {
  constructor(host: string) {
    super("NonLoopbackHost", `Refusing to listen on non-loopback host ${JSON.stringify(host)}`);
  }
}

/** `register()` was called twice for one service name. */
export class ServiceAlreadyRegisteredError extends LocalAwsError {
  constructor(name: string) {
    super("ServiceAlreadyRegistered", `A local ${name} service is already registered`);
  }
}
