/**
 * The local cloud: the synthesized stacks running on this machine. `startLocalCloud` boots the
 * AWS plane, provisions it from the templates, runs the functions in the Lambda runtime, wires
 * their triggers (user pool, SNS, SQS, Kinesis, schedules), serves the HTTP API and the MQTT
 * broker, and writes the stack outputs where an app or a test reads them.
 */
import fs from "node:fs";
import path from "node:path";
import { type ConsolePlugin, registerConsole } from "../console/index";
import { findFreePorts } from "../edge/ports";
import { BUILT_IN_SERVICES, type LocalAws, startLocalAws } from "../index";
import { createLambdaRuntime, type LambdaRuntime } from "../lambda/index";
import { lateBound } from "../late-bound";
import { type HttpApi, startHttpApi } from "../services/apigateway/index";
import { lambdaTrigger } from "../services/cognito-idp/triggers";
import { type MqttBroker, startMqttBroker } from "../services/iot-data/index";
import { startXRayDaemon, type XRayDaemon } from "../services/xray/index";
import { type CloudAssembly, loadCloudAssembly } from "./assembly";
import type { LambdaInvoker } from "./contracts";
import { type KinesisEventSource, startKinesisEventSource } from "./kinesis-event-source";
import { type CloudPlan, planCloud } from "./plan";
import { type ProvisionedCloud, provisionCloud } from "./provision";
import { type RunningSchedule, startSchedule } from "./schedule";
import { type SqsEventSource, startSqsEventSource } from "./sqs-event-source";

interface LocalCloudOptions {
  /** Repository root (holds sst.config.ts); the current directory by default. */
  root?: string;
  /** `local` by default: the stage the stacks are synthesized for. */
  stage?: string;
  /** Persisted state; in memory when undefined (tests). */
  dataDir?: string;
  /** Wipe `dataDir` before starting. */
  reset?: boolean;
  /** Edge endpoint port (4566 by default; 0 picks free ports for everything). */
  port?: number;
  /** HTTP API port (edge port + 1 by default). */
  apiPort?: number;
  /** MQTT over WebSocket port (edge port + 2 by default). */
  mqttPort?: number;
  /** Where the stack outputs are written (`.sst/local/outputs.json` by default; null: nowhere). */
  outputsFile?: string | null;
  /** Synthesize even when the cached assembly is current. */
  forceSynth?: boolean;
  /** Initialise one environment of each user-pool trigger before ready (default true). */
  warmTriggers?: boolean;
  /**
   * After ready, initialise one environment of each HTTP API route's function in the background
   * (default true), so the first call of a route does not pay the bundle's load.
   */
  warmRoutes?: boolean;
  /** Progress and warnings, one line each. */
  log?: (line: string) => void;
  /** Function logs (START/END/REPORT and console output); dropped by default. */
  functionLog?: (line: string) => void;
  /**
   * Collect X-Ray traces of the functions with active tracing (a local daemon on a free loopback
   * UDP port; the console's Traces section). Default true; false: every invocation unsampled.
   */
  tracing?: boolean;
  /**
   * The user pool's clock (ms since the epoch), `Date.now` by default. Tests set it back to hold a
   * session signed in long ago (its tokens' `auth_time` and `iat`) without waiting.
   */
  userPoolClock?: () => number;
  /**
   * Browser origins answered besides loopback ones, on every listener (edge, HTTP API, MQTT):
   * `npm start -- --allow-origin https://dev.example.test`. Pages on any other origin get a 403.
   */
  allowOrigins?: readonly string[];
  /**
   * The app's own console views (its tables' items): the console knows AWS, not the app's keys
   * (console/views.ts). `npm start` passes those of the app's `local-cloud.config.ts`.
   */
  consolePlugins?: readonly ConsolePlugin[];
}

export interface LocalCloud {
  /** The edge: give it to SDK clients as `endpoint` or `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly region: string;
  /** Base URL of each HTTP API, by the API's logical id. */
  readonly apiUrls: Record<string, string>;
  /** `ws://127.0.0.1:<port>/mqtt`: presign it with identity-pool credentials. */
  readonly mqttUrl: string;
  /** Stack outputs by full stack name, as `.sst/outputs.json` after a deploy. */
  readonly outputs: Record<string, Record<string, string>>;
  /** The environment an app or a script needs to talk to the local cloud. */
  readonly env: Record<string, string>;
  readonly aws: LocalAws;
  readonly runtime: LambdaRuntime;
  readonly broker: MqttBroker;
  /** The local X-Ray daemon and its recent traces (undefined with `tracing: false`). */
  readonly xray: XRayDaemon | undefined;
  readonly plan: CloudPlan;
  readonly provisioned: ProvisionedCloud;
  readonly assembly: CloudAssembly;
  /** Milliseconds from the call to ready. */
  readonly bootMs: number;
  /**
   * Settles once the background warm-up of the HTTP API routes' functions is over (at once with
   * `warmRoutes: false`), or cut short by `stop()`; never rejects. Ready does not wait for it.
   */
  readonly routesWarmed: Promise<void>;
  /** Output value by its key, whichever stack has it (`UserPoolId`, `ApiUrl`, ...). */
  output(key: string): string;
  stop(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const started = Date.now();
  const root = path.resolve(options.root ?? process.cwd());
  const stage = options.stage ?? "local";
  const log = options.log ?? (() => {});
  if (options.reset && options.dataDir) {
    fs.rmSync(options.dataDir, { recursive: true, force: true });
    log(`Reset: removed ${options.dataDir}`);
  }

  const assembly = await loadCloudAssembly({
    root,
    stage,
    force: options.forceSynth,
    log,
  });

  const port = options.port ?? 4566;
  const apiPort = options.apiPort ?? (port === 0 ? (await findFreePorts(1))[0]! : port + 1);
  const mqttPort = options.mqttPort ?? (port === 0 ? 0 : port + 2);

  // Dependency order: the plane (its edge's endpoint, STS for the functions' credentials), then
  // the Lambda runtime. The user pool, part of the plane, calls triggers through this port, which
  // the runtime fills once it exists; a trigger called before that fails loudly.
  const triggerRuntime = lateBound<LambdaInvoker>("The Lambda runtime (user-pool triggers)");
  const aws = await startLocalAws({
    port,
    dataDir: options.dataDir,
    region: assembly.region,
    include: BUILT_IN_SERVICES,
    log,
    ...(options.userPoolClock ? { userPoolClock: options.userPoolClock } : {}),
    ...(options.allowOrigins ? { allowOrigins: options.allowOrigins } : {}),
    invokeTrigger: lambdaTrigger(async (functionArn, event, invokeOptions) =>
      triggerRuntime.get().invoke(functionArn, event, invokeOptions),
    ),
  });

  const closers: (() => Promise<void>)[] = [() => aws.stop()];
  const stopAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const plan = planCloud(assembly, { apiEndpoint: () => apiUrl, edgeEndpoint: aws.endpoint });
    for (const skipped of plan.notEmulated) {
      log(`Not emulated: ${skipped.stack}/${skipped.logicalId} (${skipped.type})`);
    }
    const provisioned = await provisionCloud({
      plan,
      aws,
      assetDir: (key) => assembly.assetDir(key),
      log,
    });

    const xray = options.tracing === false ? undefined : await startXRayDaemon();
    if (xray) closers.push(() => xray.close());
    const sts = aws.sts!;
    const lambda = createLambdaRuntime({
      region: plan.region,
      accountId: plan.accountId,
      endpoint: aws.endpoint,
      credentialsFor: (fn) => {
        const issued = sts.issueCredentials({
          roleArn: fn.roleArn,
          sessionName: fn.name.slice(0, 64),
          subject: fn.name,
          durationSeconds: 12 * 3600,
        });
        return {
          accessKeyId: issued.accessKeyId,
          secretAccessKey: issued.secretAccessKey,
          sessionToken: issued.sessionToken,
          expiration: new Date(issued.expiration),
        };
      },
      log: (record) => options.functionLog?.(record.line),
      ...(xray ? { tracing: xray } : {}),
    });
    closers.push(() => lambda.close());
    for (const fn of provisioned.functions) lambda.register(fn);
    triggerRuntime.set(lambda);
    // Cognito gives a trigger 5 s, cold start included; on a busy laptop loading a bundle takes
    // a good part of that. The triggers get one environment initialised before ready, as
    // provisioned concurrency would (the other functions start cold, like on AWS). Loading
    // them overlaps the rest of the start-up and is awaited before ready.
    const warming =
      (options.warmTriggers ?? true)
        ? Promise.all(userPoolTriggers(plan).map((arn) => lambda.warm(arn)))
        : Promise.resolve([]);
    // Awaited below; a start-up that fails first must not leave it an unhandled rejection.
    warming.catch(() => undefined);

    for (const subscription of provisioned.lambdaSubscriptions) {
      aws.sns!.registerLambda(subscription.functionArn, async (event) => {
        // SNS invokes asynchronously: delivery succeeds once Lambda accepted the event.
        const result = await lambda.invoke(subscription.functionArn, event, {
          invocationType: "Event",
          source: "sns",
        });
        if (!result.ok) throw new Error(`${result.errorType}: ${result.errorMessage}`);
      });
    }

    const eventSources: (KinesisEventSource | SqsEventSource)[] = [];
    closers.push(async () => {
      await Promise.allSettled(eventSources.map((source) => source.stop()));
    });
    for (const mapping of provisioned.eventSources) {
      if (!mapping.enabled) continue;
      if (mapping.kind === "kinesis") {
        eventSources.push(
          await startKinesisEventSource({
            endpoint: aws.endpoint,
            region: plan.region,
            streamArn: mapping.streamArn,
            functionArn: mapping.functionArn,
            invoker: lambda,
            batchSize: mapping.batchSize,
            startingPosition: mapping.startingPosition,
            maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
            bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
            maximumRetryAttempts: mapping.maximumRetryAttempts,
            maximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds,
            reportBatchItemFailures: mapping.reportBatchItemFailures,
            ...(mapping.onFailureArn
              ? { onFailure: onFailureSender(aws, mapping.onFailureArn) }
              : {}),
            ...(options.dataDir
              ? { checkpointDir: path.join(options.dataDir, "event-sources", mapping.id) }
              : {}),
            log: (message) => log(`kinesis ${mapping.id}: ${message}`),
          }),
        );
      } else {
        eventSources.push(
          startSqsEventSource({
            sqs: aws.sqs!,
            region: plan.region,
            queueArn: mapping.queueArn,
            functionArn: mapping.functionArn,
            invoker: lambda,
            batchSize: mapping.batchSize,
            maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
            reportBatchItemFailures: mapping.reportBatchItemFailures,
          }),
        );
      }
    }

    const schedules: RunningSchedule[] = [];
    closers.push(async () => {
      for (const schedule of schedules) schedule.stop();
    });
    for (const rule of provisioned.schedules) {
      if (!rule.enabled) continue;
      for (const functionArn of rule.functionArns) {
        schedules.push(
          startSchedule({
            expression: rule.expression,
            ruleArn: rule.ruleArn,
            functionArn,
            invoker: lambda,
            region: plan.region,
            accountId: plan.accountId,
            onResult: (result) => {
              if (!result.ok)
                log(`schedule ${rule.ruleName}: ${result.errorType} ${result.errorMessage}`);
            },
          }),
        );
      }
    }

    const apis: HttpApi[] = [];
    closers.push(async () => {
      await Promise.allSettled(apis.map((api) => api.close()));
    });
    const apiUrls: Record<string, string> = {};
    for (const [index, spec] of provisioned.httpApis.entries()) {
      const api = await startHttpApi({
        port: index === 0 ? apiPort : 0,
        region: plan.region,
        accountId: plan.accountId,
        apiId: spec.apiId,
        stageName: spec.stageName,
        routes: spec.routes,
        ...(spec.cors ? { cors: spec.cors } : {}),
        ...(spec.throttling ? { throttling: spec.throttling } : {}),
        invoker: lambda,
        sts,
        iam: provisioned.iam,
        ...(aws.cognitoIdentity ? { identities: aws.cognitoIdentity } : {}),
        origins: aws.origins,
        log: (line) => log(`api: ${line}`),
      });
      apis.push(api);
      apiUrls[spec.logicalId] = api.url;
    }

    const broker = await startMqttBroker({
      port: mqttPort,
      region: plan.region,
      accountId: plan.accountId,
      sts,
      iot: aws.iot!,
      iam: provisioned.iam,
      ...(aws.cognitoIdentity ? { identities: aws.cognitoIdentity } : {}),
      origins: aws.origins,
      log: (line) => log(line),
    });
    closers.push(() => broker.close());
    aws.iot!.setDataEndpoint(broker.host);
    // The console at /_local/console: users, identities, the app's views, invocations, traces,
    // traffic.
    registerConsole(
      aws,
      { aws, runtime: lambda, broker, outputs: plan.outputs, ...(xray ? { traces: xray } : {}) },
      { plugins: options.consolePlugins ?? [] },
    );

    if ((await warming).includes(false)) log("A user-pool trigger failed its init: see its logs");

    const outputs = plan.outputs;
    const outputsFile =
      options.outputsFile === undefined
        ? path.join(root, ".sst", "local", "outputs.json")
        : options.outputsFile;
    if (outputsFile) {
      fs.mkdirSync(path.dirname(outputsFile), { recursive: true });
      fs.writeFileSync(outputsFile, `${JSON.stringify(outputs, null, 2)}\n`);
    }

    const env = {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: plan.region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    };
    const bootMs = Date.now() - started;
    let stopping: Promise<void> | undefined;
    // Not awaited: ready comes first. The same init-only warm-up as the triggers' (no event, no
    // handler call, nothing written); a stop() meanwhile ends it quietly (the runtime is closed).
    const routesWarmed =
      (options.warmRoutes ?? true)
        ? warmInBackground(lambda, routeFunctions(provisioned.httpApis), (arn) => {
            if (!stopping)
              log(`An HTTP API route's function failed its init: ${arn} (see its logs)`);
          })
        : Promise.resolve();
    return {
      endpoint: aws.endpoint,
      region: plan.region,
      apiUrls,
      mqttUrl: broker.url,
      outputs,
      env,
      aws,
      runtime: lambda,
      broker,
      xray,
      plan,
      provisioned,
      assembly,
      bootMs,
      routesWarmed,
      output(key) {
        for (const values of Object.values(outputs)) {
          if (values[key] !== undefined) return values[key];
        }
        throw new Error(`No stack has an output ${key}`);
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The functions the plan's user pools call as triggers (every LambdaConfig ARN). */
function userPoolTriggers(plan: CloudPlan): string[] {
  const arns = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === "string" && value.startsWith("arn:aws:lambda:")) arns.add(value);
    else if (value && typeof value === "object") Object.values(value).forEach(collect);
  };
  for (const pool of plan.resources.filter((r) => r.type === "AWS::Cognito::UserPool")) {
    collect(pool.properties.LambdaConfig);
  }
  return [...arns];
}

/** The functions the HTTP APIs' routes call, each once. */
function routeFunctions(apis: ProvisionedCloud["httpApis"]): string[] {
  return [...new Set(apis.flatMap((api) => api.routes.map((route) => route.functionArn)))];
}

/**
 * Initialises one environment of each function, two at a time: on a small machine a burst of
 * worker loads right after ready would slow the calls that come meanwhile.
 */
async function warmInBackground(
  runtime: LambdaRuntime,
  functionArns: readonly string[],
  onFailedInit: (functionArn: string) => void,
): Promise<void> {
  const queue = [...functionArns];
  const lane = async () => {
    for (let arn = queue.shift(); arn !== undefined; arn = queue.shift()) {
      const ok = await runtime.warm(arn).catch(() => false);
      if (!ok) onFailedInit(arn);
    }
  };
  await Promise.all([lane(), lane()]);
}

/** An event source's on-failure destination: an SQS queue of the plane (SNS is not emulated). */
function onFailureSender(aws: LocalAws, destinationArn: string) {
  return async (record: unknown) => {
    const body = JSON.stringify(record);
    if (destinationArn.startsWith("arn:aws:sqs:")) {
      await aws.sqs!.enqueue(destinationArn, body);
      return;
    }
    throw new Error(`On-failure destination ${destinationArn} is not emulated`);
  };
}
