/**
 * The contract between the edge endpoint and each emulated AWS service.
 *
 * The edge parses the HTTP request once (HTTP/1.1 or h2c), works out which service it is for
 * (X-Amz-Target prefix, SigV4 credential scope, query `Version`) and hands a `ServiceRequest` to
 * that service's handler. Handlers never touch sockets; they return a `ServiceResponse`.
 */
export interface ServiceRequest {
  method: string;
  /** Path without the query string, percent-decoding left to the service. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Set by the edge: a fresh AWS-shaped request id for this call. */
  requestId: string;
  /** Region from the SigV4 scope, else the edge default. */
  region: string;
  /** Access key id from the SigV4 Authorization header or query, if any. */
  accessKeyId?: string;
}

export interface ServiceResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type ServiceName =
  | "dynamodb"
  | "kinesis"
  | "sns"
  | "sqs"
  | "sts"
  | "iot"
  | "kms"
  | "cognito-idp"
  | "cognito-identity"
  | "execute-api";

export interface LocalService {
  readonly name: ServiceName;
  handle(request: ServiceRequest): Promise<ServiceResponse>;
  /** Wipes all state of this service. */
  reset(): Promise<void>;
  close(): Promise<void>;
  /**
   * Optional local-only control endpoint, outside the AWS namespace: the edge routes
   * `/_local/<service name>/<path>` here with `path` relative to that prefix (no leading slash),
   * e.g. `deliveries` for `GET /_local/sns/deliveries`. The full request is passed for services
   * that need the method or body; most only need the path and query.
   */
  control?(path: string, query: URLSearchParams, request: ServiceRequest): Promise<ServiceResponse>;
}

/** Account id used in every local ARN. */
export const LOCAL_ACCOUNT_ID = "000000000000";
