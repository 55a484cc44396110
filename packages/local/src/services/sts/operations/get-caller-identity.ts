/** GetCallerIdentity (signed): who the request's access key is, an issued session or the root. */

import { AwsServiceError } from "../../../protocol/errors";
import { queryResponse } from "../../../protocol/query";
import type { ServiceRequest, ServiceResponse } from "../../../types";
import { XMLNS } from "../model";
import type { StsState } from "../state";

export function getCallerIdentity(state: StsState, request: ServiceRequest): ServiceResponse {
  const { accountId } = state;
  const key = request.accessKeyId;
  const issued = key ? state.credentials.get(key) : undefined;
  if (!issued) {
    // Dummy keys (`test`) act as the account root, as in other local clouds.
    return queryResponse("GetCallerIdentity", XMLNS, request.requestId, {
      UserId: accountId,
      Account: accountId,
      Arn: `arn:aws:iam::${accountId}:root`,
    });
  }
  if (Date.parse(issued.expiration) <= state.now()) {
    throw new AwsServiceError(
      "ExpiredToken",
      "The security token included in the request is expired",
      { status: 403 },
    );
  }
  const token = request.headers["x-amz-security-token"];
  if (token !== undefined && token !== issued.sessionToken) {
    throw new AwsServiceError(
      "InvalidClientTokenId",
      "The security token included in the request is invalid.",
      { status: 403 },
    );
  }
  return queryResponse("GetCallerIdentity", XMLNS, request.requestId, {
    UserId: issued.assumedRoleId,
    Account: accountId,
    Arn: issued.assumedRoleArn,
  });
}
