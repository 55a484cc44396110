import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** Temporary AWS credentials, as Amplify's `fetchAuthSession()` and the SDK return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface SignedRequestInput {
  url: string;
  method: string;
  /** JSON-serialisable body; sent as `application/json`. */
  body?: unknown;
  region: string;
  credentials: AwsCredentials;
  /** Signing time; the current time by default (tests pin it). */
  signingDate?: Date;
}

/**
 * Signs a request for API Gateway's IAM authorization (SigV4, service `execute-api`), the way the
 * identity routes expect: the identity-pool credentials of the caller sign it, so API Gateway
 * knows the caller's identity id without the body saying anything.
 */
export async function signRequest(
  input: SignedRequestInput,
): Promise<{ url: string; method: string; headers: Record<string, string>; body?: string }> {
  const url = new URL(input.url);
  const body = input.body === undefined ? undefined : JSON.stringify(input.body);
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const headers: Record<string, string> = { host: url.host };
  if (body !== undefined) headers["content-type"] = "application/json";
  const signer = new SignatureV4({
    service: "execute-api",
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers,
      ...(body !== undefined ? { body } : {}),
    },
    input.signingDate ? { signingDate: input.signingDate } : {},
  );
  return {
    url: url.toString(),
    method: input.method,
    headers: signed.headers as Record<string, string>,
    ...(body !== undefined ? { body } : {}),
  };
}

/** `fetch` with a SigV4-signed request; the body is JSON. */
export async function signedFetch(
  input: SignedRequestInput,
  fetchImpl: typeof fetch = fetch,
): Promise<Response> {
  const request = await signRequest(input);
  // `host` is set by fetch itself from the URL; sending it explicitly is refused by undici.
  const { host: _host, ...headers } = request.headers;
  return fetchImpl(request.url, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
}
