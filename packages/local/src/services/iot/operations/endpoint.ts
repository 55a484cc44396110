/**
 * DescribeEndpoint: the data endpoints name the local MQTT broker once it listens; every type
 * otherwise answers the configured address (`localhost` by default).
 */
import { DATA_ENDPOINT_TYPES, ENDPOINT_TYPES, type EndpointType, invalid } from "../model";
import type { IotOperation } from "../state";
import { json } from "../wire";

const describeEndpoint: IotOperation = (state, _params, query) => {
  const type = (query.get("endpointType") ?? "iot:Data") as EndpointType;
  if (!ENDPOINT_TYPES.includes(type)) throw invalid(`Endpoint type ${type} is not valid.`);
  if (state.dataEndpoint !== undefined && DATA_ENDPOINT_TYPES.includes(type)) {
    return json(200, { endpointAddress: state.dataEndpoint });
  }
  const configured = state.endpointAddress;
  const address = typeof configured === "string" ? configured : (configured?.[type] ?? "localhost");
  return json(200, { endpointAddress: address });
};

export const endpointOperations = {
  DescribeEndpoint: describeEndpoint,
} satisfies Record<string, IotOperation>;
