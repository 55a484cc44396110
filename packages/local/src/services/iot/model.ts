import { AwsServiceError } from "../../protocol/errors";
/** What the local IoT control plane stores (policies, attachments), its quotas, its wire error. */

/** Policies per target, IoT's documented quota (AWS General Reference, "AWS IoT Core endpoints and quotas"). */
export const MAX_POLICIES_PER_TARGET = 10;
/** Document size quota, counted without whitespace as IoT does. */
export const MAX_POLICY_CHARS = 2048;
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 250;

export type EndpointType = "iot:Data" | "iot:Data-ATS" | "iot:CredentialProvider" | "iot:Jobs";
export const ENDPOINT_TYPES: readonly EndpointType[] = [
  "iot:Data",
  "iot:Data-ATS",
  "iot:CredentialProvider",
  "iot:Jobs",
];
/** The endpoint types an MQTT client connects to (the others are HTTP services). */
export const DATA_ENDPOINT_TYPES: readonly EndpointType[] = ["iot:Data", "iot:Data-ATS"];

export interface IotPolicy {
  policyName: string;
  policyArn: string;
  policyDocument: string;
  /** Epoch ms. */
  createdAt: number;
  generationId: string;
}

export type IotJournalRecord =
  | { op: "createPolicy"; policy: IotPolicy }
  | { op: "deletePolicy"; policyName: string }
  | { op: "attach"; policyName: string; target: string }
  | { op: "detach"; policyName: string; target: string };

export const notFound = (what: string) =>
  new AwsServiceError("ResourceNotFoundException", what, { status: 404 });
export const invalid = (message: string) => new AwsServiceError("InvalidRequestException", message);

export function summary(p: IotPolicy): { policyName: string; policyArn: string } {
  return { policyName: p.policyName, policyArn: p.policyArn };
}
