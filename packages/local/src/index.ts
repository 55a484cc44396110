import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type ControlRoute, createControlHandler } from "./edge/control";
import { ServiceAlreadyRegisteredError } from "./edge/errors";
import { assertLoopbackHost, bindEdge, type Edge } from "./edge/index";
import { createOriginPolicy, type OriginPolicy } from "./edge/origin";
import {
  type CognitoIdentityService,
  createCognitoIdentityService,
} from "./services/cognito-identity/index";
import { userPoolKeysFrom } from "./services/cognito-identity/login-tokens";
import { type CognitoIdpService, createCognitoIdpService } from "./services/cognito-idp/index";
import type { InvokeTrigger } from "./services/cognito-idp/triggers";
import { type DynamoDbService, startDynamoDb } from "./services/dynamodb/index";
import { createIotService, type IotService } from "./services/iot/index";
import { createKinesisService, type KinesisService } from "./services/kinesis";
import { createKmsService, type KmsService } from "./services/kms/index";
import { createSnsService, type SnsService } from "./services/sns";
import { createSqsService, type SqsService } from "./services/sqs";
import { createStsService, type StsService } from "./services/sts/index";
import type { LocalService, ServiceName } from "./types";

export { ServiceAlreadyRegisteredError } from "./edge/errors";
export type { LocalTableDefinition } from "./services/dynamodb/index";
export type { KinesisRecordView } from "./services/kinesis";
export * from "./types";

export interface LocalAwsOptions {
  /** 4566 (LocalStack's habit) by default; 0 picks a free port. */
  port?: number;
  /** Loopback only: anything else is refused. */
  host?: string;
  /** Persist state under this directory; in memory when undefined. */
  dataDir?: string;
  /** Region when a request is unsigned; us-east-1 by default. */
  region?: string;
  /** `in-process` (default) or `loopback`: how the edge reaches dynalite. */
  dynamoDbTransport?: "in-process" | "loopback";
  /**
   * The services to start with the plane, each persisted under `<dataDir>/<name>`. The identity
   * pool needs STS (credentials) and the user pool (login keys): asking for it starts both. None by default, so a caller can register its own configured instance;
   * the test setup and the command line start all of them (`BUILT_IN_SERVICES`).
   */
  include?: readonly BuiltInService[];
  /**
   * Runs the user pool's Lambda triggers (the local cloud passes its Lambda runtime); without it
   * a pool's LambdaConfig is not invoked.
   */
  invokeTrigger?: InvokeTrigger;
  /**
   * Where the plane says what a developer needs to see (the codes the user pool would email);
   * stdout by default. Tests pass a no-op: they read codes from the pool's outbox instead.
   */
  log?: (line: string) => void;
  /** The user pool's clock (ms since the epoch), `Date.now` by default (see `LocalCloudOptions`). */
  userPoolClock?: () => number;
  /**
   * Browser origins answered besides loopback ones (`https://dev.example.test:5173`); a request
   * from any other page is refused with a 403 before any work (edge/origin.ts).
   */
  allowOrigins?: readonly string[];
}

export const BUILT_IN_SERVICES = [
  "sns",
  "sqs",
  "sts",
  "iot",
  "kms",
  "cognito-idp",
  "cognito-identity",
] as const;
type BuiltInService = (typeof BUILT_IN_SERVICES)[number];

export interface LocalAws {
  /** `http://127.0.0.1:<port>`: give it to SDK clients or AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** Root of the persisted state (undefined in memory): give registered services a subfolder. */
  readonly dataDir: string | undefined;
  /** The hosts and browser origins the edge answers; the local cloud's other listeners share it. */
  readonly origins: OriginPolicy;
  readonly services: Map<ServiceName, LocalService>;
  readonly dynamodb: DynamoDbService;
  readonly kinesis: KinesisService;
  /** Present when started through `include`. */
  readonly sns?: SnsService;
  readonly sqs?: SqsService;
  readonly sts?: StsService;
  readonly iot?: IotService;
  readonly kms?: KmsService;
  readonly cognitoIdp?: CognitoIdpService;
  readonly cognitoIdentity?: CognitoIdentityService;
  /**
   * Puts a service behind the edge. A name can be registered once: silently replacing a service
   * would leave the old one running and unreachable by reset() and stop().
   */
  register(service: LocalService): void;
  /**
   * Serves `route` under `/_local/<prefix>/` (behind the control API's loopback and
   * no-cross-origin-write checks). A prefix can be registered once and cannot shadow a service,
   * `health` or `reset`.
   */
  registerControl(prefix: string, route: ControlRoute): void;
  /** Creates the declared DynamoDB tables that do not exist yet (TTL included). */
  createTables: DynamoDbService["createTables"];
  /** Wipes the state of every registered service. */
  reset(): Promise<void>;
  /** Stops the edge and every service. */
  stop(): Promise<void>;
}

/**
 * Starts the local AWS plane: one loopback endpoint (HTTP/1.1 and h2c) in front of DynamoDB
 * (dynalite, in process) and Kinesis (`services/kinesis`, in process), ready for more services
 * through `register()`.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const host = assertLoopbackHost(options.host ?? "127.0.0.1");
  const region = options.region ?? "us-east-1";
  const dataDir = options.dataDir;
  // Parsed first: a bad --allow-origin fails before anything starts.
  const origins = createOriginPolicy(options.allowOrigins);

  // Dependency order. The edge binds its port first: the queue URLs and token issuers the
  // services hand out name its endpoint. It routes once every service exists (`serve` below).
  const edge = await bindEdge({ host, port: options.port ?? 4566, region, origins });
  const services = new Map<ServiceName, LocalService>();
  const controlRoutes = new Map<string, ControlRoute>();
  const reset = async () => {
    await Promise.all([...services.values()].map((service) => service.reset()));
  };
  try {
    const dynamodb = await startDynamoDb({
      dataDir: dataDir ? join(dataDir, "dynamodb") : undefined,
      region,
      transport: options.dynamoDbTransport,
    });
    services.set("dynamodb", dynamodb);
    const kinesis = createKinesisService({
      dataDir: dataDir ? join(dataDir, "kinesis") : undefined,
      region,
    });
    services.set("kinesis", kinesis);
    const builtIn = startBuiltInServices(options, edge.endpoint);
    for (const service of Object.values(builtIn)) {
      if (service) services.set(service.name, service);
    }
    edge.serve({
      services,
      control: createControlHandler({
        services,
        region,
        dataDir,
        reset,
        // Every service fsyncs a write before answering it: nothing acknowledged is ever pending.
        health: () => ({ durable: true }),
        routes: controlRoutes,
      }),
    });
    return plane(
      { edge, origins, services, controlRoutes, reset, options },
      {
        dynamodb,
        kinesis,
        ...builtIn,
      },
    );
  } catch (error) {
    // A damaged journal: release what opened (the port, dynalite's LevelDB lock, the other
    // journals) before reporting it.
    await Promise.allSettled([...services.values()].map((service) => service.close()));
    await edge.close();
    throw error;
  }
}

type BuiltInServices = Pick<
  LocalAws,
  "sns" | "sqs" | "sts" | "iot" | "kms" | "cognitoIdp" | "cognitoIdentity"
>;

/** The services `include` asks for, each after those it needs. */
function startBuiltInServices(options: LocalAwsOptions, endpoint: string): BuiltInServices {
  const region = options.region ?? "us-east-1";
  const dataDir = options.dataDir;
  const include = new Set<BuiltInService>(options.include ?? []);
  if (include.has("cognito-identity")) {
    include.add("sts");
    include.add("cognito-idp");
  }
  const serviceDir = (name: string) => (dataDir ? join(dataDir, name) : undefined);
  // SQS opens first: SNS re-delivers messages pending from before a restart into its queues.
  const sqs = include.has("sqs")
    ? createSqsService({ region, dataDir: serviceDir("sqs"), endpoint: () => endpoint })
    : undefined;
  const sns = include.has("sns")
    ? createSnsService({ region, dataDir: serviceDir("sns"), sqs })
    : undefined;
  const sts = include.has("sts")
    ? createStsService({ region, dataDir: serviceDir("sts") })
    : undefined;
  const iot = include.has("iot")
    ? createIotService({ region, dataDir: serviceDir("iot") })
    : undefined;
  const kms = include.has("kms")
    ? createKmsService({ region, dataDir: serviceDir("kms") })
    : undefined;
  // Token issuers are `<endpoint>/<poolId>`.
  const cognitoIdp = include.has("cognito-idp")
    ? createCognitoIdpService({
        region,
        dataDir: serviceDir("cognito-idp"),
        endpoint: () => endpoint,
        ...(options.invokeTrigger ? { invokeTrigger: options.invokeTrigger } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...(options.userPoolClock ? { now: options.userPoolClock } : {}),
      })
    : undefined;
  const cognitoIdentity =
    include.has("cognito-identity") && sts && cognitoIdp
      ? createCognitoIdentityService({
          region,
          dataDir: serviceDir("cognito-identity"),
          sts,
          userPoolKeys: userPoolKeysFrom(cognitoIdp),
          serverSideTokenCheck: (input) => cognitoIdp.isTokenActive(input),
        })
      : undefined;
  return { sns, sqs, sts, iot, kms, cognitoIdp, cognitoIdentity };
}

interface PlaneParts {
  edge: Edge;
  origins: OriginPolicy;
  services: Map<ServiceName, LocalService>;
  controlRoutes: Map<string, ControlRoute>;
  reset: () => Promise<void>;
  options: LocalAwsOptions;
}

/** The started plane as its callers see it. */
function plane(
  { edge, origins, services, controlRoutes, reset, options }: PlaneParts,
  started: BuiltInServices & Pick<LocalAws, "dynamodb" | "kinesis">,
): LocalAws {
  const { dynamodb } = started;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: edge.endpoint,
    port: edge.port,
    region: options.region ?? "us-east-1",
    dataDir: options.dataDir,
    origins,
    services,
    ...started,
    register(service) {
      if (services.has(service.name)) throw new ServiceAlreadyRegisteredError(service.name);
      services.set(service.name, service);
    },
    registerControl(prefix, route) {
      if (
        !/^[a-z][a-z0-9-]*$/.test(prefix) ||
        ["health", "reset"].includes(prefix) ||
        services.has(prefix as ServiceName) ||
        controlRoutes.has(prefix)
      ) {
        throw new Error(`The control prefix ${JSON.stringify(prefix)} is taken or invalid`);
      }
      controlRoutes.set(prefix, route);
    },
    createTables: (definitions) => dynamodb.createTables(definitions),
    reset,
    stop() {
      stopping ??= (async () => {
        await edge.close();
        await Promise.allSettled([...services.values()].map((service) => service.close()));
      })();
      return stopping;
    },
  };
}

/**
 * `npx tsx packages/local/src/index.ts [--port 4566] [--data-dir .local-cloud] [--region r]
 * [--allow-origin <origin>]...`
 * prints one JSON line `{"event":"ready","endpoint":...}` and runs until SIGINT or SIGTERM.
 */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "4566" },
      host: { type: "string", default: "127.0.0.1" },
      "data-dir": { type: "string" },
      region: { type: "string", default: "us-east-1" },
      "allow-origin": { type: "string", multiple: true, default: [] },
    },
  });
  const dataDir = values["data-dir"] ? resolve(values["data-dir"]) : undefined;
  const aws = await startLocalAws({
    port: Number(values.port),
    host: values.host,
    dataDir,
    region: values.region,
    include: BUILT_IN_SERVICES,
    allowOrigins: values["allow-origin"],
  });
  process.stdout.write(
    `${JSON.stringify({ event: "ready", endpoint: aws.endpoint, port: aws.port, dataDir: dataDir ?? null })}\n`,
  );
  const shutdown = () => {
    void aws.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
