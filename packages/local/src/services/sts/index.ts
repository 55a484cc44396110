/**
 * Emulated AWS STS (query protocol, API version 2011-06-15).
 *
 * - AssumeRoleWithWebIdentity (unsigned): verifies the RS256 token against a JWKS registered for
 *   its issuer, checks expiry, evaluates the role's trust policy, and issues session credentials.
 * - GetCallerIdentity (signed): answers for the request's access key: an issued session, or the
 *   account root for dummy keys such as `test`.
 * - `issueCredentials` lets the local identity pool mint credentials directly (enhanced flow).
 *
 * Every issued credential is recorded (and journaled with `dataDir`) so the edge and other
 * services can map an access key back to its role, subject and identity (`lookupCredentials`).
 */
import { createHash, randomBytes } from "node:crypto";
import { Journal } from "../../journal";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import {
  QueryError,
  queryResponse,
  readQueryParams,
  requireParam,
  runQueryAction,
} from "../query-protocol";
import { type Jwks, JwtError, providerName, verifyJwt } from "./jwt";
import { parseTrustPolicy, TrustPolicyError, trustAllows } from "./trust";

export type { Jwks } from "./jwt";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const MIN_DURATION = 900;
const DEFAULT_DURATION = 3600;
const DEFAULT_MAX_SESSION = 3600;
const MAX_SESSION_POLICY_CHARS = 2048;
/** Issued credentials are kept this long past expiry (lookups still explain "expired"). */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export interface RoleDefinition {
  arn: string;
  /** IAM trust policy document (JSON string or object). */
  trustPolicy: string | object;
  /** Seconds, 3600 to 43200; default 3600 as in IAM. */
  maxSessionDuration?: number;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  assumedRoleArn: string;
  assumedRoleId: string;
  subject: string;
  identityId?: string;
  sessionPolicy?: string;
  /**
   * A Cognito identity session's `aud` (the identity pool) and `amr`, as its OpenID token carried
   * them: AWS fixes both in the session when it is issued, and IAM reads them from there.
   */
  cognitoIdentity?: { identityPoolId: string; amr: string[] };
  /** ISO-8601. */
  expiration: string;
}

export interface IssueCredentialsInput {
  roleArn: string;
  sessionName: string;
  subject: string;
  identityId?: string;
  sessionPolicy?: string;
  cognitoIdentity?: { identityPoolId: string; amr: string[] };
  durationSeconds: number;
}

export interface AssumeRoleWithWebIdentityInput {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds?: number;
  policy?: string;
}

export interface AssumeRoleWithWebIdentityOutput {
  credentials: IssuedCredentials;
  provider: string;
  audience: string;
  subject: string;
}

export interface StsServiceOptions {
  region: string;
  accountId?: string;
  dataDir?: string;
  /** Journal records after which the journal is rewritten as a snapshot (default 10,000). */
  compactAfter?: number;
  /** Clock, injectable for tests (ms since epoch). */
  now?: () => number;
}

export interface StsService extends LocalService {
  readonly name: "sts";
  /** Registers (or replaces) the signing keys of an issuer, e.g. `https://cognito-identity.amazonaws.com`. */
  registerJwks(issuer: string, jwks: Jwks): void;
  /** Registers (or replaces) a role; throws on a trust policy the local STS cannot evaluate. */
  putRole(role: RoleDefinition): void;
  /** Mints credentials without a token (the identity pool's enhanced flow does its own checks). */
  issueCredentials(input: IssueCredentialsInput): IssuedCredentials;
  /** AssumeRoleWithWebIdentity as a function; throws QueryError with the STS error code. */
  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityInput): AssumeRoleWithWebIdentityOutput;
  lookupCredentials(accessKeyId: string): IssuedCredentials | undefined;
}

type JournalRecord =
  | { op: "putRole"; role: { arn: string; trustPolicy: string; maxSessionDuration: number } }
  | { op: "registerJwks"; provider: string; jwks: Jwks }
  | { op: "issue"; credentials: IssuedCredentials };

interface Role {
  arn: string;
  name: string;
  trustPolicy: string;
  statements: ReturnType<typeof parseTrustPolicy>;
  maxSessionDuration: number;
}

export function createStsService(options: StsServiceOptions): StsService {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const now = options.now ?? Date.now;
  const roles = new Map<string, Role>();
  const jwksByProvider = new Map<string, Jwks>();
  const credentials = new Map<string, IssuedCredentials>();

  function apply(record: JournalRecord): void {
    switch (record.op) {
      case "putRole": {
        const { arn, trustPolicy, maxSessionDuration } = record.role;
        roles.set(arn, {
          arn,
          name: roleName(arn),
          trustPolicy,
          statements: parseTrustPolicy(trustPolicy),
          maxSessionDuration,
        });
        break;
      }
      case "registerJwks":
        jwksByProvider.set(record.provider, record.jwks);
        break;
      case "issue":
        credentials.set(record.credentials.accessKeyId, record.credentials);
        break;
    }
  }

  function snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const r of roles.values()) {
      out.push({
        op: "putRole",
        role: { arn: r.arn, trustPolicy: r.trustPolicy, maxSessionDuration: r.maxSessionDuration },
      });
    }
    for (const [provider, jwks] of jwksByProvider) out.push({ op: "registerJwks", provider, jwks });
    const cutoff = now() - KEEP_EXPIRED_MS;
    for (const c of credentials.values()) {
      if (Date.parse(c.expiration) > cutoff) out.push({ op: "issue", credentials: c });
    }
    return out;
  }

  const journal = Journal.open<JournalRecord>(
    { dataDir: options.dataDir, name: "sts", snapshot, compactAfter: options.compactAfter },
    apply,
  );

  function issueCredentials(input: IssueCredentialsInput): IssuedCredentials {
    if (!/^[\w+=,.@-]{2,64}$/.test(input.sessionName)) {
      throw new QueryError(
        "ValidationError",
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      );
    }
    if (
      !Number.isInteger(input.durationSeconds) ||
      input.durationSeconds < MIN_DURATION ||
      input.durationSeconds > 43_200
    ) {
      throw new QueryError(
        "ValidationError",
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
      );
    }
    if (input.sessionPolicy !== undefined) validateSessionPolicy(input.sessionPolicy);
    const name = roleName(input.roleArn);
    const issued: IssuedCredentials = {
      accessKeyId: `ASIA${randomId(16)}`,
      secretAccessKey: randomBytes(30).toString("base64").replace(/[+/]/g, "A").slice(0, 40),
      sessionToken: randomBytes(96).toString("base64"),
      roleArn: input.roleArn,
      assumedRoleArn: `arn:aws:sts::${accountId}:assumed-role/${name}/${input.sessionName}`,
      assumedRoleId: `${roleId(input.roleArn)}:${input.sessionName}`,
      subject: input.subject,
      // STS returns whole seconds.
      expiration: new Date(Math.floor(now() / 1000) * 1000 + input.durationSeconds * 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z"),
    };
    if (input.identityId !== undefined) issued.identityId = input.identityId;
    if (input.sessionPolicy !== undefined) issued.sessionPolicy = input.sessionPolicy;
    if (input.cognitoIdentity !== undefined) {
      issued.cognitoIdentity = {
        identityPoolId: input.cognitoIdentity.identityPoolId,
        amr: [...input.cognitoIdentity.amr],
      };
    }
    journal.commit({ op: "issue", credentials: issued });
    return issued;
  }

  function assumeRoleWithWebIdentity(
    input: AssumeRoleWithWebIdentityInput,
  ): AssumeRoleWithWebIdentityOutput {
    let verified: ReturnType<typeof verifyJwt>;
    try {
      verified = verifyJwt(input.webIdentityToken, (p) => jwksByProvider.get(p), now());
    } catch (err) {
      if (err instanceof JwtError) {
        if (err.failure.kind === "expired")
          throw new QueryError("ExpiredTokenException", err.message);
        throw new QueryError("InvalidIdentityToken", err.message);
      }
      throw err;
    }
    const { claims, provider } = verified;
    const subject = typeof claims.sub === "string" ? claims.sub : "";
    const audience = Array.isArray(claims.aud)
      ? claims.aud.map(String)
      : typeof claims.aud === "string"
        ? [claims.aud]
        : [];
    if (!subject) throw new QueryError("InvalidIdentityToken", "Missing a required claim: sub");
    if (audience.length === 0)
      throw new QueryError("InvalidIdentityToken", "Missing a required claim: aud");
    const role = roles.get(input.roleArn);
    const denied = new QueryError(
      "AccessDenied",
      "Not authorized to perform sts:AssumeRoleWithWebIdentity",
      403,
    );
    // An unknown role is indistinguishable from a distrusting one, as in AWS.
    if (!role) throw denied;
    const amr = Array.isArray(claims.amr)
      ? claims.amr.map(String)
      : typeof claims.amr === "string"
        ? [claims.amr]
        : undefined;
    const keys: Record<string, string[]> = {
      [`${provider}:aud`]: audience,
      [`${provider}:sub`]: [subject],
    };
    if (amr) keys[`${provider}:amr`] = amr;
    if (!trustAllows(role.statements, { provider, keys })) throw denied;
    const durationSeconds = input.durationSeconds ?? DEFAULT_DURATION;
    if (durationSeconds > role.maxSessionDuration) {
      throw new QueryError(
        "ValidationError",
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      );
    }
    const issueInput: IssueCredentialsInput = {
      roleArn: role.arn,
      sessionName: input.roleSessionName,
      subject,
      durationSeconds,
    };
    // For Cognito identity tokens the subject *is* the identity id (field guide §2).
    if (provider === "cognito-identity.amazonaws.com") {
      issueInput.identityId = subject;
      issueInput.cognitoIdentity = { identityPoolId: audience[0]!, amr: amr ?? [] };
    }
    if (input.policy !== undefined) issueInput.sessionPolicy = input.policy;
    const issued = issueCredentials(issueInput);
    return { credentials: issued, provider, audience: audience[0]!, subject };
  }

  function getCallerIdentity(request: ServiceRequest): ServiceResponse {
    const key = request.accessKeyId;
    const issued = key ? credentials.get(key) : undefined;
    if (!issued) {
      // Dummy keys (`test`) act as the account root, as in other local clouds.
      return queryResponse("GetCallerIdentity", XMLNS, request.requestId, {
        UserId: accountId,
        Account: accountId,
        Arn: `arn:aws:iam::${accountId}:root`,
      });
    }
    if (Date.parse(issued.expiration) <= now()) {
      throw new QueryError(
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
      );
    }
    const token = request.headers["x-amz-security-token"];
    if (token !== undefined && token !== issued.sessionToken) {
      throw new QueryError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
      );
    }
    return queryResponse("GetCallerIdentity", XMLNS, request.requestId, {
      UserId: issued.assumedRoleId,
      Account: accountId,
      Arn: issued.assumedRoleArn,
    });
  }

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return runQueryAction(XMLNS, request.requestId, () => {
      const params = readQueryParams(request);
      const action = params.get("Action") ?? "";
      switch (action) {
        case "AssumeRoleWithWebIdentity": {
          const input: AssumeRoleWithWebIdentityInput = {
            roleArn: requireValidation(params, "RoleArn"),
            roleSessionName: requireValidation(params, "RoleSessionName"),
            webIdentityToken: requireValidation(params, "WebIdentityToken"),
          };
          const duration = params.get("DurationSeconds");
          if (duration !== null) input.durationSeconds = Number(duration);
          const policy = params.get("Policy");
          if (policy !== null) input.policy = policy;
          const out = assumeRoleWithWebIdentity(input);
          const c = out.credentials;
          return queryResponse(action, XMLNS, request.requestId, {
            Credentials: {
              AccessKeyId: c.accessKeyId,
              SecretAccessKey: c.secretAccessKey,
              SessionToken: c.sessionToken,
              Expiration: c.expiration,
            },
            SubjectFromWebIdentityToken: out.subject,
            AssumedRoleUser: { Arn: c.assumedRoleArn, AssumedRoleId: c.assumedRoleId },
            Provider: out.provider,
            Audience: out.audience,
            PackedPolicySize:
              c.sessionPolicy !== undefined ? packedPolicySize(c.sessionPolicy) : undefined,
          });
        }
        case "GetCallerIdentity":
          return getCallerIdentity(request);
        default:
          throw new QueryError(
            "InvalidAction",
            `Could not find operation ${action} for version 2011-06-15`,
          );
      }
    });
  }

  return {
    name: "sts",
    handle,
    registerJwks(issuer, jwks) {
      if (!Array.isArray(jwks?.keys)) throw new Error("registerJwks: jwks.keys must be an array");
      journal.commit({ op: "registerJwks", provider: providerName(issuer), jwks });
    },
    putRole(role) {
      const trustPolicy =
        typeof role.trustPolicy === "string" ? role.trustPolicy : JSON.stringify(role.trustPolicy);
      try {
        parseTrustPolicy(trustPolicy);
      } catch (err) {
        if (err instanceof TrustPolicyError) throw new Error(`putRole ${role.arn}: ${err.message}`);
        throw err;
      }
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(role.arn)) {
        throw new Error(`putRole: not an IAM role ARN: ${role.arn}`);
      }
      const maxSessionDuration = role.maxSessionDuration ?? DEFAULT_MAX_SESSION;
      if (maxSessionDuration < 3600 || maxSessionDuration > 43_200) {
        throw new Error("putRole: maxSessionDuration must be between 3600 and 43200 seconds");
      }
      journal.commit({ op: "putRole", role: { arn: role.arn, trustPolicy, maxSessionDuration } });
    },
    issueCredentials,
    assumeRoleWithWebIdentity,
    lookupCredentials(accessKeyId) {
      const found = credentials.get(accessKeyId);
      return found ? { ...found } : undefined;
    },
    async reset() {
      roles.clear();
      jwksByProvider.clear();
      credentials.clear();
      journal.reset();
    },
    async close() {
      journal.close();
    },
  };
}

function requireValidation(params: URLSearchParams, name: string): string {
  try {
    return requireParam(params, name);
  } catch {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw new QueryError(
      "ValidationError",
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
}

function validateSessionPolicy(policy: string): void {
  try {
    JSON.parse(policy);
  } catch {
    throw new QueryError("MalformedPolicyDocument", "The policy is not in the valid JSON format.");
  }
  if (policy.length > MAX_SESSION_POLICY_CHARS) {
    throw new QueryError(
      "PackedPolicyTooLarge",
      "Packed size of the session policy exceeds the limit.",
    );
  }
}

/** Rough percentage of the packed-policy budget, as STS reports it. */
function packedPolicySize(policy: string): number {
  return Math.min(
    100,
    Math.ceil((policy.replace(/\s+/g, "").length / MAX_SESSION_POLICY_CHARS) * 100),
  );
}

/** `role/path/Name` → `Name` */
function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

/** Stable per role (IAM role ids never change): `AROA` + 17 characters derived from the ARN. */
function roleId(arn: string): string {
  const digest = createHash("sha256").update(arn).digest();
  let out = "AROA";
  for (let i = 0; i < 17; i++) out += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return out;
}
