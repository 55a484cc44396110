import { AdminRoleRequiredError } from "@boarding-pass/core/errors";
import type { DeletionActor } from "@boarding-pass/core/events";
import * as z from "@boarding-pass/core/zod";
import { logger } from "../observability";

/**
 * The admin behind a request to an admin route. IAM decides who may invoke the route; this is the
 * second check, so a stray grant of `execute-api:Invoke` to another role (a wildcard, a copied
 * statement) does not make that role an admin: the request must be signed with a session of the
 * admin role itself (`requestContext.authorizer.iam.userArn`, the STS assumed-role ARN, "Working
 * with AWS Lambda proxy integrations for HTTP APIs", API Gateway Developer Guide).
 */

type AdminActor = DeletionActor & {
  kind: "admin";
  roleName: string;
  roleSessionName: string;
};

const ASSUMED_ROLE =
  /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;
const ROLE = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
/** As `boardingpass.*` events spell identity ids (`<region>:<uuid>`). */
const IDENTITY_ID = /^[a-z]{2}(?:-[a-z]+)+-\d:[0-9a-f-]{36}$/;
/** `cognito-idp.<region>.amazonaws.com/<poolId>:CognitoSignIn:<sub>` in the identity's `amr`. */
const SIGNED_IN_AS = /:CognitoSignIn:([^:]+)$/;
const Sub = z.uuid();

interface IamContext {
  userArn?: unknown;
  cognitoIdentity?: { identityId?: unknown; amr?: unknown } | null;
}

/** Throws `AdminRoleRequiredError` unless the caller's session is one of `adminRoleArn`. */
export function adminActorOf(
  event: { requestContext?: unknown },
  adminRoleArn: string,
): AdminActor {
  const iam = (event.requestContext as { authorizer?: { iam?: IamContext } } | undefined)
    ?.authorizer?.iam;
  const session = ASSUMED_ROLE.exec(typeof iam?.userArn === "string" ? iam.userArn : "");
  const admin = ROLE.exec(adminRoleArn);
  // Role names are unique per account (case-insensitively, "IAM object quotas"); an assumed-role
  // ARN carries the name only, not the path.
  const isAdmin =
    session !== null &&
    admin !== null &&
    session[1] === admin[1] &&
    session[2] === admin[2] &&
    session[3]!.toLowerCase() === admin[3]!.toLowerCase();
  if (!isAdmin) {
    logger.warn("admin route refused: not the admin role", {
      roleName: session?.[3] ?? null,
      accountMatches: session !== null && admin !== null && session[2] === admin[2],
    });
    throw new AdminRoleRequiredError("Only the admin role may call this route.");
  }
  const actor: AdminActor = {
    kind: "admin",
    roleName: session[3]!,
    roleSessionName: session[4]!,
  };
  const cognito = iam?.cognitoIdentity;
  if (typeof cognito?.identityId === "string" && IDENTITY_ID.test(cognito.identityId)) {
    actor.identityId = cognito.identityId;
  }
  const amr = Array.isArray(cognito?.amr) ? cognito.amr : [];
  for (const entry of amr) {
    const signedIn = typeof entry === "string" ? SIGNED_IN_AS.exec(entry) : null;
    const sub = Sub.safeParse(signedIn?.[1]);
    if (sub.success) actor.sub = sub.data;
  }
  return actor;
}

/** One line per admin action: who (ids only, never tokens or attributes), what, on whom. */
export function logAdminAction(action: string, actor: AdminActor, target: { sub: string }): void {
  logger.info("admin action", { action, actor, targetSub: target.sub });
}
