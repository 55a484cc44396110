/**
 * AWS IoT's authorization of a Cognito identity's MQTT operations:
 *
 * - iot:Connect on `client/<clientId>`, iot:Publish and iot:Receive on `topic/<topic>`,
 *   iot:Subscribe on `topicfilter/<filter>`, each under `arn:aws:iot:<region>:<account>:`.
 * - An authenticated identity is allowed only what **both** its role's IAM identity policies and
 *   the IoT policies attached to its identity id allow; a guest by its role's policies alone
 *   (AWS IoT Developer Guide, "Authorization with Amazon Cognito identities"). A session policy on the credentials (the enhanced flow's guest scope-down)
 *   must allow it too. An explicit Deny in any of them wins, as each layer must say Allowed.
 * - Policy variables: `${cognito-identity.amazonaws.com:sub}` is the identity id,
 *   `${iot:ClientId}` the MQTT client id; `${iot:Connection.Thing.ThingName}` is unset (Cognito
 *   connections have no thing), so a resource naming it never matches.
 *
 * Evaluation uses @cloud-copilot/iam-simulate's `runUnsafeSimulation`, once per layer. Why that
 * and not `runSimulation`: the validating entry point drops context keys that iam-data does not
 * list for the action, and it lists none for iot:Connect/Publish/Subscribe/Receive, so
 * `${cognito-identity.amazonaws.com:sub}` and `${iot:ClientId}` would never resolve and every
 * request would be implicitly denied. The unsafe entry point takes the context as given; the
 * documents were validated where they came from (the IoT control plane, the template). It also
 * matches IoT's resource rules as they are: `*` and `?` wildcards, `+` and `#` literal characters
 * (an IAM resource pattern knows no MQTT wildcards), so no IoT-specific matcher is needed.
 */
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../cloud/contracts";
import type { IotPolicy, IotService } from "../iot/index";
import type { IotPrincipal } from "./principal";

export type IotAction = "iot:Connect" | "iot:Publish" | "iot:Subscribe" | "iot:Receive";

const RESOURCE_TYPE: Record<IotAction, string> = {
  "iot:Connect": "client",
  "iot:Publish": "topic",
  "iot:Receive": "topic",
  "iot:Subscribe": "topicfilter",
};

type Decision = { allowed: true } | { allowed: false; reason: string };

interface IotAuthorizer {
  /** `name` is the client id, topic or topic filter the action is on. */
  authorize(principal: IotPrincipal, clientId: string, action: IotAction, name: string): Decision;
}

interface IotAuthorizerOptions {
  region: string;
  accountId: string;
  iot: Pick<IotService, "attachedPolicies">;
}

/**
 * Parsed policy documents: IoT policies by ARN and generation (a policy changes only by
 * re-creation), session policies by their text.
 */
const MAX_CACHED_DOCUMENTS = 1000;

export function createIotAuthorizer(options: IotAuthorizerOptions): IotAuthorizer {
  const parsed = new Map<string, PolicyDocument | undefined>();

  /** `undefined` when the text is not JSON. */
  function parseOnce(key: string, text: string): PolicyDocument | undefined {
    if (parsed.has(key)) return parsed.get(key);
    let document: PolicyDocument | undefined;
    try {
      document = JSON.parse(text) as PolicyDocument;
    } catch {
      document = undefined;
    }
    if (parsed.size >= MAX_CACHED_DOCUMENTS) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, document);
    return document;
  }

  function documentOf(policy: IotPolicy): PolicyDocument | undefined {
    // The control plane validates documents; an unreadable one allows nothing.
    return parseOnce(`${policy.policyArn}#${policy.generationId}`, policy.policyDocument);
  }

  return {
    authorize(principal, clientId, action, name) {
      const { credentials, identityId, role } = principal;
      if (!role) return deny(`role ${credentials.roleArn} is not in the IAM directory`);
      const resource = `arn:aws:iot:${options.region}:${options.accountId}:${RESOURCE_TYPE[action]}/${name}`;
      const context: Record<string, string | string[]> = {
        "iot:ClientId": clientId,
        "iot:Connection.Thing.IsAttached": "false",
      };
      if (identityId !== undefined) context["cognito-identity.amazonaws.com:sub"] = identityId;
      // As the session was issued (STS records them from the identity pool's token).
      const cognito = credentials.cognitoIdentity;
      if (cognito !== undefined) {
        context["cognito-identity.amazonaws.com:aud"] = cognito.identityPoolId;
        context["cognito-identity.amazonaws.com:amr"] = [...cognito.amr];
      }
      const evaluate = (policies: Array<{ name: string; policy: unknown }>) =>
        simulate(
          credentials.assumedRoleArn,
          options.accountId,
          action,
          resource,
          context,
          policies,
        );

      const byRole = evaluate(
        role.policies.map((policy, i) => ({ name: `${role.name}#${i}`, policy })),
      );
      if (byRole !== "Allowed") return deny(`${byRole} by the role's policies (${role.arn})`);

      if (credentials.sessionPolicy !== undefined) {
        const session = parseOnce(
          `session:${credentials.sessionPolicy}`,
          credentials.sessionPolicy,
        );
        if (session === undefined) return deny("the session policy is not valid JSON");
        const bySession = evaluate([{ name: "session", policy: session }]);
        if (bySession !== "Allowed") return deny(`${bySession} by the session policy`);
      }

      if (principal.guest) return { allowed: true };
      if (identityId === undefined) return deny("the credentials name no Cognito identity");
      const attached = options.iot.attachedPolicies(identityId);
      const documents = attached.flatMap((p) => {
        const policy = documentOf(p);
        return policy ? [{ name: p.policyName, policy }] : [];
      });
      if (documents.length === 0) return deny(`no IoT policy is attached to ${identityId}`);
      const byIot = evaluate(documents);
      if (byIot !== "Allowed")
        return deny(`${byIot} by the IoT policies attached to ${identityId}`);
      return { allowed: true };
    },
  };
}

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

function simulate(
  principal: string,
  accountId: string,
  action: IotAction,
  resource: string,
  contextVariables: Record<string, string | string[]>,
  identityPolicies: Array<{ name: string; policy: unknown }>,
): string {
  if (identityPolicies.length === 0) return "ImplicitlyDenied";
  try {
    return runUnsafeSimulation(
      {
        request: {
          principal,
          action,
          resource: { resource, accountId },
          contextVariables,
        },
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
  } catch (err) {
    // A document the simulator cannot load (malformed statement) allows nothing.
    return `NotEvaluated (${err instanceof Error ? err.message : String(err)})`;
  }
}
