import { AttachPolicyCommand, DetachPolicyCommand, IoTClient } from "@aws-sdk/client-iot";
import { IotPolicyLimitError, IotThrottledError } from "../errors";
import type { IotPolicyAttachments } from "../identity/ports";
import { type SdkClientOptions, sdkClientConfig } from "./sdk";

export function createIotClient(options: SdkClientOptions = {}): IoTClient {
  return new IoTClient(sdkClientConfig(options));
}

const nameOf = (error: unknown): string => String((error as { name?: unknown } | null)?.name ?? "");

function mapError(error: unknown, identityId: string): unknown {
  const name = nameOf(error);
  if (name === "LimitExceededException") {
    return new IotPolicyLimitError(
      `Identity ${identityId} already has the maximum of 10 IoT policies attached`,
      { cause: error },
    );
  }
  if (name === "ThrottlingException" || name === "TooManyRequestsException") {
    return new IotThrottledError("IoT throttled the policy attachment", { cause: error });
  }
  return error;
}

/** AttachPolicy / DetachPolicy with a Cognito identity id as target. */
export class IotClientPolicyAttachments implements IotPolicyAttachments {
  constructor(private readonly client: Pick<IoTClient, "send">) {}

  async attach(policyName: string, identityId: string): Promise<void> {
    try {
      // IoT answers success when the policy is already attached: idempotent as is.
      await this.client.send(new AttachPolicyCommand({ policyName, target: identityId }));
    } catch (error) {
      throw mapError(error, identityId);
    }
  }

  async detach(policyName: string, identityId: string): Promise<void> {
    try {
      await this.client.send(new DetachPolicyCommand({ policyName, target: identityId }));
    } catch (error) {
      // Nothing attached (or the target is gone): the desired state already holds.
      if (nameOf(error) === "ResourceNotFoundException") return;
      throw mapError(error, identityId);
    }
  }
}
