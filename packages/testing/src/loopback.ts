const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Refuses any endpoint that is not on this machine, so a test can never reach a real AWS account
 * (or anything else) by a mistyped variable.
 */
export function assertLoopbackEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  const host = url.hostname;
  const isLoopback = LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
  if (!isLoopback) {
    throw new Error(`Refusing non-loopback AWS endpoint in tests: ${endpoint}`);
  }
  return endpoint;
}
