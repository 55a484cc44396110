/**
 * Who is on the other end of a connection: the STS session its URL was signed with, the Cognito
 * identity and IAM role behind it, and whether that identity is a guest (which changes how AWS IoT
 * authorizes it: the role's policies only, no IoT policy).
 */
import type { IamDirectory, LocalRole, PolicyDocument } from "../../cloud/contracts";
import type { IssuedCredentials } from "../sts/index";

export interface IotPrincipal {
  credentials: IssuedCredentials;
  /** The Cognito identity id (`us-east-1:<uuid>`) the credentials were issued for, if any. */
  identityId: string | undefined;
  /** Undefined when the role is not in the IAM directory: such a principal is allowed nothing. */
  role: LocalRole | undefined;
  guest: boolean;
}

/**
 * Authoritative answer to "is this identity a guest" when the local identity pool is at hand:
 * an identity with no linked logins is unauthenticated (that is how Cognito decides too).
 */
export interface IdentityLookup {
  identity(identityId: string): { logins: readonly unknown[] } | undefined;
}

const AMR_KEY = "cognito-identity.amazonaws.com:amr";

export function resolvePrincipal(
  credentials: IssuedCredentials,
  iam: IamDirectory,
  identities: IdentityLookup | undefined,
): IotPrincipal {
  const role = iam.role(credentials.roleArn);
  const identityId = credentials.identityId;
  // As issued: credentials a guest got before signing in stay a guest's (AWS fixes amr then).
  const issuedAmr = credentials.cognitoIdentity?.amr;
  const known =
    issuedAmr === undefined && identityId !== undefined
      ? identities?.identity(identityId)
      : undefined;
  const guest =
    issuedAmr !== undefined
      ? issuedAmr.includes("unauthenticated")
      : known
        ? known.logins.length === 0
        : role !== undefined && isGuestRole(role);
  return { credentials, identityId, role, guest };
}

/**
 * Without the identity pool, the role tells: a role the identity pool may hand only to
 * `unauthenticated` callers (its trust policy's `amr` condition) is the guest role, for sessions
 * whose STS record carries no `amr`; the app's stacks give every identity-pool role such a condition
 * (stacks/Auth.ts). A role trusted for both is treated as authenticated: the stricter reading,
 * since an authenticated identity needs an IoT policy as well.
 */
export function isGuestRole(role: LocalRole): boolean {
  const amr = new Set<string>();
  for (const statement of statementsOf(role.trustPolicy)) {
    if (statement.Effect !== "Allow") continue;
    for (const block of Object.values(statement.Condition ?? {})) {
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== AMR_KEY) continue;
        for (const v of Array.isArray(value) ? value : [value]) amr.add(String(v));
      }
    }
  }
  return amr.has("unauthenticated") && !amr.has("authenticated");
}

function statementsOf(document: PolicyDocument) {
  const s = document.Statement;
  return Array.isArray(s) ? s : s ? [s] : [];
}
