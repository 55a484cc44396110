/**
 * Emulated AWS IoT control plane (REST JSON): IoT policies and their attachment to targets
 * (Cognito identity ids, certificate ARNs, thing groups), plus DescribeEndpoint.
 *
 * Paths and shapes follow `@aws-sdk/client-iot`'s model (`AttachPolicy` = PUT
 * /target-policies/{policyName}, `DetachPolicy` = POST /target-policies/{policyName},
 * `ListAttachedPolicies` = POST /attached-policies/{target}, ...). Errors carry both the
 * `x-amzn-ErrorType` header and a `{"message"}` body, with the model's HTTP status (note
 * LimitExceededException is 410 in IoT), so the SDK raises the modeled exception class.
 *
 * `attachedPolicies(target)` is the hook for the local MQTT broker's authorization, and
 * `setDataEndpoint(host)` makes DescribeEndpoint name that broker once it is listening.
 *
 * This file creates the service and routes each method and path to its operation, by AWS name;
 * the operations are in operations/ (policies, targets, endpoint), the journaled policies and
 * attachments in state.ts, request and response shapes in wire.ts.
 */
import { AwsServiceError, answerServiceErrors, internalError } from "../../protocol/errors";
import { restJsonErrorResponse } from "../../protocol/rest-json";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import type { EndpointType, IotPolicy } from "./model";
import { endpointOperations } from "./operations/endpoint";
import { policyOperations, putPolicy } from "./operations/policies";
import { targetOperations } from "./operations/targets";
import { type IotOperation, IotState } from "./state";
import { decodeSegment, parseBody } from "./wire";

export type { IotPolicy } from "./model";

interface IotServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /**
   * Answer of DescribeEndpoint per endpoint type (`iot:Data-ATS`, `iot:Data`,
   * `iot:CredentialProvider`, `iot:Jobs`); a string applies to every type. Default `localhost`,
   * the local MQTT broker's host.
   */
  endpointAddress?: string | Partial<Record<EndpointType, string>>;
  now?: () => number;
}

export interface IotService extends LocalService {
  readonly name: "iot";
  /** Policies attached to a target (identity id, certificate ARN...), in attachment order. */
  attachedPolicies(target: string): IotPolicy[];
  /**
   * The MQTT broker's `host:port` for DescribeEndpoint's data types (`iot:Data`,
   * `iot:Data-ATS`), set by whoever starts the broker: its port is only known once it listens.
   * Takes precedence over `endpointAddress` for those two types; `undefined` restores it.
   */
  setDataEndpoint(host: string | undefined): void;
  /**
   * Create-or-replace a policy's document (the template provisioner's update: AWS would add a
   * default version; locally the one document is replaced, attachments kept).
   */
  putPolicy(policyName: string, policyDocument: string): IotPolicy;
}

const { CreatePolicy, GetPolicy, DeletePolicy, ListPolicies } = policyOperations;
const { AttachPolicy, DetachPolicy, ListAttachedPolicies, ListTargetsForPolicy } = targetOperations;
const { DescribeEndpoint } = endpointOperations;

/** `@aws-sdk/client-iot`'s REST bindings: method, path (its labels captured), operation. */
const ROUTES: ReadonlyArray<[method: string, path: RegExp, operation: IotOperation]> = [
  ["GET", /^\/policies$/, ListPolicies],
  ["POST", /^\/policies\/([^/]+)$/, CreatePolicy],
  ["GET", /^\/policies\/([^/]+)$/, GetPolicy],
  ["DELETE", /^\/policies\/([^/]+)$/, DeletePolicy],
  ["PUT", /^\/target-policies\/([^/]+)$/, AttachPolicy],
  ["POST", /^\/target-policies\/([^/]+)$/, DetachPolicy],
  ["POST", /^\/attached-policies\/(.+)$/, ListAttachedPolicies],
  ["POST", /^\/policy-targets\/([^/]+)$/, ListTargetsForPolicy],
  ["GET", /^\/endpoint$/, DescribeEndpoint],
];

export function createIotService(options: IotServiceOptions): IotService {
  const state = new IotState({
    region: options.region,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    dataDir: options.dataDir,
    compactAfter: options.compactAfter,
    endpointAddress: options.endpointAddress,
    now: options.now ?? Date.now,
  });

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return answerServiceErrors(
      {
        render: (error) => restJsonErrorResponse(error, request.requestId),
        unexpected: internalError("InternalFailureException"),
      },
      () => {
        for (const [method, pattern, operation] of ROUTES) {
          if (method !== request.method.toUpperCase()) continue;
          const match = pattern.exec(request.path);
          if (!match) continue;
          const params = match.slice(1).map(decodeSegment);
          const response = operation(state, params, request.query, parseBody(request.body));
          response.headers = { ...response.headers, "x-amzn-requestid": request.requestId };
          return response;
        }
        throw new AwsServiceError(
          "UnknownOperationException",
          `No local IoT operation for ${request.method} ${request.path}`,
          { status: 404 },
        );
      },
    );
  }

  return {
    name: "iot",
    handle,
    attachedPolicies(target) {
      return [...(state.attachments.get(target) ?? [])].map((name) => ({
        ...state.policies.get(name)!,
      }));
    },
    setDataEndpoint(host) {
      state.dataEndpoint = host;
    },
    putPolicy: (policyName, policyDocument) => putPolicy(state, policyName, policyDocument),
    async reset() {
      state.reset();
    },
    async close() {
      state.close();
    },
  };
}
