import type { ServiceResponse } from "../types";
import type { WireProtocol } from "./protocols";

/** Base class of the local cloud's own failures (not the AWS errors it emulates). */
export class LocalAwsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An embedded emulator (dynalite) failed to start or answer. */
export class EmulatorStartError extends LocalAwsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EmulatorStartFailed", message, options);
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

export interface AwsErrorShape {
  status: number;
  code: string;
  message: string;
  /** Query protocol: `Sender` for client faults, `Receiver` for ours. */
  fault?: "Sender" | "Receiver";
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** JSON 1.0/1.1 and REST-JSON errors: the SDK reads `x-amzn-ErrorType`, else the body `__type`. */
export function jsonErrorResponse(error: AwsErrorShape, contentType: string): ServiceResponse {
  return {
    status: error.status,
    headers: {
      "content-type": contentType,
      "x-amzn-errortype": error.code,
      "x-amzn-errormessage": error.message,
    },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

/** Query protocol (SNS, STS) errors. */
export function queryErrorResponse(error: AwsErrorShape, requestId: string): ServiceResponse {
  const fault = error.fault ?? (error.status >= 500 ? "Receiver" : "Sender");
  const body =
    `<ErrorResponse><Error><Type>${fault}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
  return { status: error.status, headers: { "content-type": "text/xml" }, body };
}

export function awsErrorResponse(
  protocol: WireProtocol,
  error: AwsErrorShape,
  requestId: string,
  jsonContentType = "application/x-amz-json-1.1",
): ServiceResponse {
  if (protocol === "query") return queryErrorResponse(error, requestId);
  return jsonErrorResponse(error, protocol === "rest-json" ? "application/json" : jsonContentType);
}
