import { type LocalAws, type LocalAwsOptions, startLocalAws } from "@boarding-pass/local";
import { assertLoopbackEndpoint } from "./loopback";

/** The region and static credentials every embedded service and SDK client in the tests use. */
const LOCAL_REGION = "us-east-1";
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

interface EmbeddedAws {
  aws: LocalAws;
  /** The plane's endpoint, checked to be on loopback. */
  endpoint: string;
  /** What an SDK client needs to talk to the plane and nothing else. */
  sdk: { region: string; endpoint: string; credentials: typeof LOCAL_CREDENTIALS };
}

/**
 * The integration tier's way to start services in process: the local AWS plane on an ephemeral
 * loopback port (DynamoDB through dynalite, plus whatever `options.include` names), its endpoint
 * refused unless it is on this machine. The caller registers its own configured services and
 * stops the plane (`aws.stop()`).
 */
export async function startEmbeddedAws(options: LocalAwsOptions = {}): Promise<EmbeddedAws> {
  const aws = await startLocalAws({ port: 0, ...options });
  const endpoint = assertLoopbackEndpoint(aws.endpoint);
  return { aws, endpoint, sdk: { region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS } };
}
