/**
 * Fault injection, and only that: wrappers around real SDK clients that fail or stall some calls
 * and pass every other call through to the local service.
 */

interface Sendable {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

const commandName = (command: unknown): string =>
  (command as { constructor: { name: string } }).constructor.name;

function awsError(name: string): Error {
  const error = new Error(`${name} (injected)`);
  error.name = name;
  (error as { $fault?: string }).$fault = "server";
  return error;
}

/** Calls of `commands` never answer; they reject only when the caller aborts. */
export function stallingClient<T extends Sendable>(real: T, commands: readonly string[]): T {
  return wrap(real, async (command, options, next) => {
    if (!commands.includes(commandName(command))) return next();
    return new Promise((_, reject) => {
      const signal = options?.abortSignal;
      if (signal?.aborted) return reject(awsError("AbortError"));
      signal?.addEventListener("abort", () => reject(awsError("AbortError")), { once: true });
    });
  });
}

/** The first `times` calls of `commands` fail with `errorName` (e.g. throttling). */
export function failingClient<T extends Sendable>(
  real: T,
  commands: readonly string[],
  errorName: string,
  times = Number.POSITIVE_INFINITY,
): T & { failures: () => number } {
  let failures = 0;
  const wrapped = wrap(real, async (command, _options, next) => {
    if (commands.includes(commandName(command)) && failures < times) {
      failures++;
      throw awsError(errorName);
    }
    return next();
  });
  return Object.assign(wrapped, { failures: () => failures });
}

/**
 * Per-entry partial failure: on the first `times` PublishBatch / PutRecords calls, the entries at
 * odd positions are not sent and are reported failed in a 200 response, as AWS does under
 * throttling; the others really go out.
 */
export function partiallyFailingClient<T extends Sendable>(real: T, times = 1): T {
  let calls = 0;
  return wrap(real, async (command, options, next) => {
    const name = commandName(command);
    if ((name !== "PublishBatchCommand" && name !== "PutRecordsCommand") || calls >= times) {
      return next();
    }
    calls++;
    const input = (command as { input: Record<string, unknown> }).input;
    const Ctor = (command as { constructor: new (input: unknown) => unknown }).constructor;
    if (name === "PublishBatchCommand") {
      const entries = input.PublishBatchRequestEntries as Array<{ Id: string }>;
      const sent = entries.filter((_, index) => index % 2 === 0);
      const result = (await real.send(
        new Ctor({ ...input, PublishBatchRequestEntries: sent }),
        options,
      )) as {
        Successful?: unknown[];
      };
      return {
        Successful: result.Successful ?? [],
        Failed: entries
          .filter((_, index) => index % 2 === 1)
          .map((entry) => ({ Id: entry.Id, Code: "InternalError", SenderFault: false })),
      };
    }
    const records = input.Records as unknown[];
    const sent = records.filter((_, index) => index % 2 === 0);
    const result = (await real.send(new Ctor({ ...input, Records: sent }), options)) as {
      Records?: unknown[];
    };
    const sentResults = [...(result.Records ?? [])];
    return {
      FailedRecordCount: records.length - sent.length,
      Records: records.map((_, index) =>
        index % 2 === 0
          ? sentResults.shift()
          : {
              ErrorCode: "ProvisionedThroughputExceededException",
              ErrorMessage: "Rate exceeded (injected)",
            },
      ),
    };
  });
}

function wrap<T extends Sendable>(
  real: T,
  intercept: (
    command: unknown,
    options: { abortSignal?: AbortSignal } | undefined,
    next: () => Promise<unknown>,
  ) => Promise<unknown>,
): T {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property === "send") {
        return (command: unknown, options?: { abortSignal?: AbortSignal }) =>
          intercept(command, options, () => target.send(command, options));
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
