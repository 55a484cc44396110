/**
 * The synthesized stacks turned into what the local cloud must create: every resource with its
 * local physical id, attributes and properties with all intrinsics resolved.
 *
 * Physical ids are deterministic (derived from the stage, stack and logical id), so a restart, a
 * `--reset` or a changed template keeps the same user pool id, client id, identity pool id and
 * names: an app configured once keeps working, as after a CloudFormation update. Names that the
 * template leaves to CloudFormation get `<stackName>-<logicalId>` (trimmed to the service's
 * limit) instead of CloudFormation's random suffix.
 *
 * Pure: no service is touched here (provision.ts applies the plan), so the plan is unit-tested
 * straight from the templates.
 */
import { createHash } from "node:crypto";
import { LOCAL_ACCOUNT_ID } from "../types";
import type { CloudAssembly, CloudStack } from "./assembly";
import { type IntrinsicReference, resolveIntrinsic } from "./intrinsics";

export interface PlannedResource {
  stack: string;
  stackName: string;
  logicalId: string;
  type: string;
  /** What `Ref` returns. */
  ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  attributes: Record<string, string>;
  /** Properties with every intrinsic resolved (unresolvable ones make the plan fail). */
  properties: Record<string, unknown>;
}

export interface CloudPlan {
  stage: string;
  appName: string;
  region: string;
  accountId: string;
  resources: PlannedResource[];
  /** Stack outputs by full stack name, as `sst deploy` writes `.sst/outputs.json`. */
  outputs: Record<string, Record<string, string>>;
  /** Resource types the local cloud does not emulate (listed, never silently dropped). */
  notEmulated: { stack: string; logicalId: string; type: string }[];
  /** Resolves intrinsics in `value` as they appear in stack `stack` (its short name). */
  resolve(stack: string, value: unknown): unknown;
  /** The template of stack `stack` (its short name), as synthesized. */
  template(stack: string): CloudStack["template"];
}

interface PlanOptions {
  /** The local HTTP API's base URL, per `AWS::ApiGatewayV2::Api` logical id. */
  apiEndpoint: (apiId: string) => string;
  /**
   * The edge endpoint: the base of the local user pools' issuers (`<edge>/<poolId>`) and of SQS
   * queue URLs (`<edge>/<account>/<name>`).
   */
  edgeEndpoint: string;
  accountId?: string;
}

/** Types applied by provision.ts. */
const EMULATED_TYPES = new Set([
  "AWS::DynamoDB::Table",
  "AWS::Kinesis::Stream",
  "AWS::SNS::Topic",
  "AWS::SNS::Subscription",
  "AWS::SQS::Queue",
  "AWS::IAM::Role",
  "AWS::IAM::Policy",
  "AWS::Lambda::Function",
  "AWS::Lambda::EventSourceMapping",
  "AWS::Events::Rule",
  "AWS::Cognito::UserPool",
  "AWS::Cognito::UserPoolClient",
  "AWS::Cognito::UserPoolGroup",
  "AWS::Cognito::IdentityPool",
  "AWS::Cognito::IdentityPoolRoleAttachment",
  "AWS::IoT::Policy",
  "AWS::KMS::Key",
  "AWS::ApiGatewayV2::Api",
  "AWS::ApiGatewayV2::Stage",
  "AWS::ApiGatewayV2::Route",
  "AWS::ApiGatewayV2::Integration",
  "AWS::ApiGatewayV2::Authorizer",
]);

/**
 * Types whose effect is a permission or log setting that the local cloud does not enforce, or
 * that only matter to the deploy itself: planned (so references resolve) and listed as such.
 */
const ACCEPTED_WITHOUT_EFFECT = new Set([
  "AWS::Lambda::Permission",
  "AWS::SNS::TopicPolicy",
  "AWS::SQS::QueuePolicy",
  "AWS::Logs::LogGroup",
  "AWS::SSM::Parameter",
  "Custom::LogRetention",
  "AWS::CDK::Metadata",
]);

export function planCloud(assembly: CloudAssembly, options: PlanOptions): CloudPlan {
  const region = assembly.region;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  if (assembly.account !== accountId) {
    // CDK wrote the synthesized account into ARNs (route policies, the role catalog, IoT
    // resources): planned as is, they would name roles and APIs that do not exist here.
    throw new Error(
      `The app was synthesized for account ${assembly.account}, the local cloud runs as ${accountId}: synthesize it for ${accountId} (loadCloudAssembly does).`,
    );
  }
  const ids = new IdFactory(assembly.stage, region);
  const localUrls = { region, issuerBase: options.edgeEndpoint };
  const identities = new Map<string, { ref: string; attributes: Record<string, string> }>();
  const key = (stack: CloudStack, logicalId: string) => `${stack.name}/${logicalId}`;

  // Pass 1: every resource's identity (ids and ARNs never depend on other resources' values
  // here, except names given as intrinsics, resolved below on demand).
  const pending = new Map<string, () => void>();
  const lookups = new Map<string, ReturnType<typeof lookupFor>>();
  const exportsByName = new Map<string, { stack: CloudStack; value: unknown }>();
  for (const stack of assembly.stacks) {
    for (const output of Object.values(stack.template.Outputs ?? {})) {
      if (output.Export?.Name) {
        exportsByName.set(output.Export.Name, { stack, value: output.Value });
      }
    }
  }

  const resolve = (stack: CloudStack, value: unknown): unknown =>
    resolveIntrinsic(value, lookups.get(stack.name)!);

  function lookupFor(stack: CloudStack) {
    return {
      known: {
        "AWS::Region": region,
        "AWS::AccountId": accountId,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.stackName,
        "AWS::StackId": `arn:aws:cloudformation:${region}:${accountId}:stack/${stack.stackName}/local`,
        "AWS::NoValue": "",
      },
      fallback: (reference: IntrinsicReference): string => {
        const logicalId = reference.kind === "Ref" ? reference.name : reference.logicalId;
        const identity = identityOf(stack, logicalId);
        if (reference.kind === "Ref") return identity.ref;
        const value = identity.attributes[reference.attribute];
        if (value === undefined) {
          throw new Error(
            `${stack.name}: Fn::GetAtt ${logicalId}.${reference.attribute} is not emulated`,
          );
        }
        return value;
      },
      importValue: (name: string): string => {
        const exported = exportsByName.get(name);
        if (!exported) throw new Error(`${stack.name}: no stack exports ${name}`);
        return String(resolve(exported.stack, exported.value));
      },
    };
  }

  function identityOf(stack: CloudStack, logicalId: string) {
    const k = key(stack, logicalId);
    const known = identities.get(k);
    if (known) return known;
    const resource = stack.template.Resources[logicalId];
    if (!resource) throw new Error(`${stack.name}: unknown resource ${logicalId}`);
    if (pending.has(k)) throw new Error(`${stack.name}: circular reference through ${logicalId}`);
    pending.set(k, () => undefined);
    try {
      const props = resource.Properties ?? {};
      const name = (property: string, limit: number) => {
        const declared = props[property];
        return declared === undefined
          ? generatedName(stack.stackName, logicalId, limit)
          : String(resolve(stack, declared));
      };
      const identity = identify({
        type: resource.Type,
        logicalId,
        stack,
        region,
        accountId,
        ids,
        name,
        resolve: (value) => resolve(stack, value),
        props,
        apiEndpoint: options.apiEndpoint,
        edgeEndpoint: options.edgeEndpoint,
      });
      identities.set(k, identity);
      return identity;
    } finally {
      pending.delete(k);
    }
  }

  for (const stack of assembly.stacks) lookups.set(stack.name, lookupFor(stack));

  const resources: PlannedResource[] = [];
  const notEmulated: CloudPlan["notEmulated"] = [];
  for (const stack of assembly.stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      const identity = identityOf(stack, logicalId);
      const emulated = EMULATED_TYPES.has(resource.Type);
      if (!emulated) {
        if (!ACCEPTED_WITHOUT_EFFECT.has(resource.Type)) {
          notEmulated.push({ stack: stack.name, logicalId, type: resource.Type });
        }
        continue;
      }
      const properties = localizeValue(
        resolve(stack, resource.Properties ?? {}) as Record<string, unknown>,
        localUrls,
      ) as Record<string, unknown>;
      resources.push({
        stack: stack.name,
        stackName: stack.stackName,
        logicalId,
        type: resource.Type,
        ref: identity.ref,
        attributes: identity.attributes,
        properties,
      });
    }
  }

  const outputs: CloudPlan["outputs"] = {};
  for (const stack of assembly.stacks) {
    const values: Record<string, string> = {};
    for (const [name, output] of Object.entries(stack.template.Outputs ?? {})) {
      // CDK's cross-stack exports and SST's metadata are plumbing, not outputs a deploy prints.
      if (name.startsWith("ExportsOutput") || name === "SSTMetadata") continue;
      values[name] = String(localizeValue(resolve(stack, output.Value), localUrls));
    }
    outputs[stack.stackName] = values;
  }

  return {
    stage: assembly.stage,
    appName: assembly.appName,
    region,
    accountId,
    resources,
    outputs,
    notEmulated,
    resolve(stackName, value) {
      const stack = assembly.stacks.find((s) => s.name === stackName);
      if (!stack) throw new Error(`No stack ${stackName}`);
      return localizeValue(resolve(stack, value), localUrls);
    },
    template(stackName) {
      const stack = assembly.stacks.find((s) => s.name === stackName);
      if (!stack) throw new Error(`No stack ${stackName}`);
      return stack.template;
    },
  };
}

interface IdentifyInput {
  type: string;
  logicalId: string;
  stack: CloudStack;
  region: string;
  accountId: string;
  ids: IdFactory;
  props: Record<string, unknown>;
  name(property: string, limit: number): string;
  resolve(value: unknown): unknown;
  apiEndpoint(apiId: string): string;
  edgeEndpoint: string;
}

function identify(input: IdentifyInput): { ref: string; attributes: Record<string, string> } {
  const { region, accountId: account, ids, stack, logicalId } = input;
  const seed = `${stack.stackName}/${logicalId}`;
  switch (input.type) {
    case "AWS::DynamoDB::Table": {
      const name = input.name("TableName", 255);
      const arn = `arn:aws:dynamodb:${region}:${account}:table/${name}`;
      return { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } };
    }
    case "AWS::Kinesis::Stream": {
      const name = input.name("Name", 128);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:kinesis:${region}:${account}:stream/${name}` },
      };
    }
    case "AWS::SNS::Topic": {
      const name = input.name("TopicName", 256);
      const arn = `arn:aws:sns:${region}:${account}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case "AWS::SQS::Queue": {
      const name = input.name("QueueName", 80);
      const arn = `arn:aws:sqs:${region}:${account}:${name}`;
      const url = `${input.edgeEndpoint.replace(/\/+$/, "")}/${account}/${name}`;
      return { ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
    }
    case "AWS::IAM::Role": {
      const name = input.name("RoleName", 64);
      const rolePath = typeof input.props.Path === "string" ? input.props.Path : "/";
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${account}:role${rolePath}${name}`,
          RoleId: `AROA${ids.upper(seed, 17)}`,
        },
      };
    }
    case "AWS::Lambda::Function": {
      const name = input.name("FunctionName", 64);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` },
      };
    }
    case "AWS::Events::Rule": {
      const name = input.name("Name", 64);
      return { ref: name, attributes: { Arn: `arn:aws:events:${region}:${account}:rule/${name}` } };
    }
    case "AWS::Cognito::UserPool": {
      const id = `${region}_${ids.alnum(seed, 9)}`;
      return {
        ref: id,
        attributes: {
          Arn: `arn:aws:cognito-idp:${region}:${account}:userpool/${id}`,
          ProviderName: `cognito-idp.${region}.amazonaws.com/${id}`,
          ProviderURL: `https://cognito-idp.${region}.amazonaws.com/${id}`,
          UserPoolId: id,
        },
      };
    }
    case "AWS::Cognito::UserPoolClient": {
      const id = ids.lower(seed, 26);
      return { ref: id, attributes: { ClientId: id, Name: String(input.props.ClientName ?? id) } };
    }
    case "AWS::Cognito::IdentityPool": {
      const id = `${region}:${ids.uuid(seed)}`;
      return { ref: id, attributes: { Id: id, Name: String(input.props.IdentityPoolName ?? id) } };
    }
    case "AWS::IoT::Policy": {
      const name = input.name("PolicyName", 128);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:iot:${region}:${account}:policy/${name}`, Id: name },
      };
    }
    case "AWS::KMS::Key": {
      const id = ids.uuid(seed);
      return {
        ref: id,
        attributes: { KeyId: id, Arn: `arn:aws:kms:${region}:${account}:key/${id}` },
      };
    }
    case "AWS::ApiGatewayV2::Api": {
      const id = ids.lower(seed, 10);
      return { ref: id, attributes: { ApiId: id, ApiEndpoint: input.apiEndpoint(logicalId) } };
    }
    case "AWS::Logs::LogGroup": {
      const name = input.name("LogGroupName", 512);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` },
      };
    }
    case "AWS::SSM::Parameter": {
      const name = input.name("Name", 1011);
      return { ref: name, attributes: { Type: String(input.props.Type ?? "String") } };
    }
    case "AWS::IAM::Policy":
      return { ref: input.name("PolicyName", 128), attributes: {} };
    case "AWS::Cognito::UserPoolGroup":
      return { ref: String(input.resolve(input.props.GroupName)), attributes: {} };
    default:
      // Routes, integrations, authorizers, stages, mappings, permissions, subscriptions...:
      // an opaque stable id is all that references to them need.
      return { ref: ids.lower(seed, 12), attributes: { Id: ids.lower(seed, 12) } };
  }
}

/**
 * Templates spell some values as AWS URLs (an HTTP API's JWT issuer is
 * `https://cognito-idp.<region>.amazonaws.com/<poolId>`); locally those services live elsewhere,
 * so exactly those shapes are rewritten, nothing else. Account ids need no rewriting: the local
 * cloud's assembly is synthesized for the local account (assembly.ts), and planCloud refuses one
 * that was not.
 */
function localizeValue(value: unknown, context: { region: string; issuerBase: string }): unknown {
  if (typeof value === "string") {
    const issuerPrefix = `https://cognito-idp.${context.region}.amazonaws.com/`;
    if (value.startsWith(issuerPrefix)) {
      return `${context.issuerBase.replace(/\/+$/, "")}/${value.slice(issuerPrefix.length)}`;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => localizeValue(item, context));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, localizeValue(v, context)]),
    );
  }
  return value;
}

/** `<stackName>-<logicalId>`, trimmed to `limit` with a short hash so trimmed names stay unique. */
export function generatedName(stackName: string, logicalId: string, limit: number): string {
  const full = `${stackName}-${logicalId}`;
  if (full.length <= limit) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${full.slice(0, limit - 9)}-${hash}`;
}

/** Deterministic ids in the alphabets AWS uses for each kind. */
class IdFactory {
  constructor(
    private readonly stage: string,
    private readonly region: string,
  ) {}

  private bytes(seed: string): Buffer {
    return createHash("sha256").update(`${this.region}/${this.stage}/${seed}`).digest();
  }

  private fromAlphabet(seed: string, length: number, alphabet: string): string {
    const bytes = this.bytes(seed);
    if (length > bytes.length) throw new Error(`Ids longer than ${bytes.length} are not needed`);
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
    return out;
  }

  alnum(seed: string, length: number): string {
    return this.fromAlphabet(
      seed,
      length,
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    );
  }

  lower(seed: string, length: number): string {
    return this.fromAlphabet(seed, length, "abcdefghijklmnopqrstuvwxyz0123456789");
  }

  upper(seed: string, length: number): string {
    return this.fromAlphabet(seed, length, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  }

  uuid(seed: string): string {
    const hex = this.bytes(seed).toString("hex");
    // Version 4 / variant 1 bits, so validators that check the UUID shape accept it.
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
