/**
 * The SRP sign-in (`USER_SRP_AUTH`, answered with the `PASSWORD_VERIFIER` challenge), shared by
 * InitiateAuth and AdminInitiateAuth, and RespondToAuthChallenge and AdminRespondToAuthChallenge
 * (API reference, AdminInitiateAuth: "USER_SRP_AUTH: Username-password authentication with the
 * Secure Remote Password (SRP) protocol"; AuthParameters `USERNAME`, `SRP_A`).
 *
 * The server's half of the exchange travels sealed in `SECRET_BLOCK`, so a sign-in writes
 * nothing; each block names itself (`j`) so the caller can spend it once: Cognito's challenge
 * sessions are single-use ("Invalid session for the user, session can only be used once.").
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { invalidParameter } from "./errors";
import {
  createServerChallenge,
  isValidA,
  passwordAuthenticationKey,
  passwordClaimSignature,
  type SrpVerifier,
} from "./srp";
import { seal, unseal } from "./tokens";

/** The server's half of one SRP exchange, sealed into `SECRET_BLOCK`. */
interface SrpSession {
  t: "srp";
  /** Pool, client and internal username the exchange is for. */
  p: string;
  c: string;
  u: string;
  /** The session's id: spent once answered. */
  j: string;
  b: string;
  B: string;
  /** The client's SRP_A. */
  A: string;
  exp: number;
  /** Unknown user (PreventUserExistenceErrors): the challenge must fail, indistinguishably. */
  fake?: boolean;
}

/** `Missing required parameter <NAME>`: Cognito's refusal of an absent auth or challenge parameter. */
export function requireParameter(parameters: Record<string, string>, name: string): string {
  const value = parameters[name];
  if (!value) throw invalidParameter(`Missing required parameter ${name}`);
  return value;
}

const TIMESTAMP_FORMAT = /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} UTC \d{4}$/;

/** The pool name SRP hashes with: the part of the pool id after `_`. */
export function srpPoolName(poolId: string): string {
  return poolId.split("_")[1] ?? "";
}

/** `USERNAME` and `SRP_A` of a USER_SRP_AUTH request, checked before the user is looked up. */
export function readSrpStart(parameters: Record<string, string>): { name: string; srpA: string } {
  const name = requireParameter(parameters, "USERNAME");
  const srpA = requireParameter(parameters, "SRP_A");
  if (!isValidA(srpA)) throw invalidParameter("Invalid SRP_A: A mod N must not be 0.");
  return { name, srpA };
}

/** The `PASSWORD_VERIFIER` challenge answering a USER_SRP_AUTH request (see readSrpStart). */
export function passwordVerifierChallenge(input: {
  poolId: string;
  clientId: string;
  sealKey: Buffer;
  start: { name: string; srpA: string };
  /** The user's internal username and SRP verifier; undefined for an unknown user. */
  user: { username: string; srp: SrpVerifier } | undefined;
  lifetimeSeconds: number;
  nowSeconds: number;
}) {
  const { name, srpA } = input.start;
  // An unknown user under PreventUserExistenceErrors gets a challenge that can never pass.
  const srp = input.user?.srp ?? { salt: randomBytes(16).toString("hex"), verifier: "2" };
  const challenge = createServerChallenge(srp.verifier);
  const username = input.user?.username ?? name;
  const session: SrpSession = {
    t: "srp",
    p: input.poolId,
    c: input.clientId,
    u: username,
    j: randomUUID(),
    b: challenge.b,
    B: challenge.B,
    A: srpA,
    exp: input.nowSeconds + input.lifetimeSeconds,
    ...(input.user ? {} : { fake: true }),
  };
  return {
    ChallengeName: "PASSWORD_VERIFIER",
    ChallengeParameters: {
      SALT: srp.salt,
      SECRET_BLOCK: Buffer.from(seal(input.sealKey, session), "utf8").toString("base64"),
      SRP_B: challenge.B,
      USERNAME: username,
      USER_ID_FOR_SRP: username,
    },
  };
}

/** The client's answer to `PASSWORD_VERIFIER`, every documented parameter present. */
interface PasswordClaim {
  signature: string;
  secretBlock: Buffer;
  timestamp: string;
  username: string;
}

/**
 * Reads `PASSWORD_CLAIM_SIGNATURE`, `PASSWORD_CLAIM_SECRET_BLOCK`, `TIMESTAMP` and `USERNAME`
 * (API reference, RespondToAuthChallenge, ChallengeResponses for PASSWORD_VERIFIER), refusing an
 * absent one with `Missing required parameter <NAME>` in that order.
 */
export function readPasswordClaim(responses: Record<string, string>): PasswordClaim {
  const signature = requireParameter(responses, "PASSWORD_CLAIM_SIGNATURE");
  const block = requireParameter(responses, "PASSWORD_CLAIM_SECRET_BLOCK");
  const timestamp = requireParameter(responses, "TIMESTAMP");
  const username = requireParameter(responses, "USERNAME");
  if (!TIMESTAMP_FORMAT.test(timestamp)) throw invalidParameter("TIMESTAMP format is invalid.");
  return { signature, secretBlock: Buffer.from(block, "base64"), timestamp, username };
}

/** The SRP session sealed in a claim's secret block, if this pool sealed it. */
export function openSrpSession(sealKey: Buffer, claim: PasswordClaim): SrpSession | undefined {
  const session = unseal<SrpSession>(sealKey, claim.secretBlock.toString("utf8"));
  return session?.t === "srp" ? session : undefined;
}

/** Whether the claim's signature proves the password behind `verifier` (constant time). */
export function passwordClaimMatches(
  session: SrpSession,
  verifier: string,
  claim: PasswordClaim,
): boolean {
  const key = passwordAuthenticationKey(session.A, { B: session.B, b: session.b }, verifier);
  const expected = passwordClaimSignature(
    key,
    srpPoolName(session.p),
    session.u,
    claim.secretBlock,
    claim.timestamp,
  );
  const given = Buffer.from(claim.signature, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
