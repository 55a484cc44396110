/**
 * The one error an emulated service throws to answer a call with an AWS error. It says what the
 * error is (code, message, HTTP status, whose fault); the protocol layer says how it looks on the
 * wire (`json.ts`, `query.ts`, `rest-json.ts`), so a service never builds an error response.
 *
 * Every AWS protocol carries the same four facts: the error code the SDK maps to an exception
 * class, the message, the HTTP status, and whether the caller or the service is at fault
 * ("Error responses", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html;
 * the query protocol calls them `Sender` and `Receiver`).
 */
import type { ServiceResponse } from "../types";

export type Fault = "client" | "server";

interface AwsServiceErrorOptions {
  /** 400 for a client fault, 500 for a server fault unless the API models another status. */
  status?: number;
  /** Whose fault: decided from the status when not given (5xx is the service's). */
  fault?: Fault;
  /**
   * Members the error's model adds beside `message`, rendered into the body as they are: IoT's
   * `resourceId` and `resourceArn` on ResourceAlreadyExistsException.
   */
  fields?: Readonly<Record<string, unknown>>;
  /**
   * The code of the same error in the query protocol, for JSON services with the
   * awsQueryCompatible trait (SQS's `AWS.SimpleQueueService.NonExistentQueue`).
   */
  queryCode?: string;
  cause?: unknown;
}

export class AwsServiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly queryCode: string | undefined;

  constructor(code: string, message: string, options: AwsServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // The code as the name: a stack trace reads like the SDK's exception of that class.
    this.name = code;
    this.code = code;
    const status = options.status ?? (options.fault === "server" ? 500 : 400);
    this.status = status;
    this.fault = options.fault ?? (status >= 500 ? "server" : "client");
    this.fields = options.fields ?? {};
    this.queryCode = options.queryCode;
  }
}

/**
 * What a service answers for a throw that is not an `AwsServiceError` (a bug, or a failure of
 * the machine under it): its own internal-error code with status 500 and the thrown message,
 * which is what a developer running the emulator needs to see.
 */
export function internalError(code: string): (error: unknown) => AwsServiceError {
  return (error) =>
    new AwsServiceError(code, error instanceof Error ? error.message : String(error), {
      status: 500,
      cause: error,
    });
}

export interface ServiceErrorRendering {
  /** The service's protocol, and dialect, for its errors. */
  render(error: AwsServiceError): ServiceResponse;
  /** The service's answer to a bug; without it the throw goes on to the edge (a logged 500). */
  unexpected?(error: unknown): AwsServiceError;
}

/**
 * The one place a service turns what its operation threw into an answer: an `AwsServiceError`
 * is rendered in the service's protocol, anything else goes through `unexpected`.
 */
export async function answerServiceErrors(
  rendering: ServiceErrorRendering,
  action: () => Promise<ServiceResponse> | ServiceResponse,
): Promise<ServiceResponse> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof AwsServiceError) return rendering.render(error);
    if (!rendering.unexpected) throw error;
    return rendering.render(rendering.unexpected(error));
  }
}
