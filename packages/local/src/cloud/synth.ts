import fs from "node:fs";
import path from "node:path";
import { Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { App } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import { acquireDirectoryLock } from "./synth-lock";

export interface NagFinding {
  stack: string;
  path: string;
  message: string;
}

interface SynthesizedStack {
  /** Stack function name: `Data`, `Auth`, ... */
  name: string;
  /** Full CloudFormation stack name, `<stage>-<app>-<name>`. */
  stackName: string;
  template: CloudFormationTemplate;
  /**
   * Directory assets (function bundles) by the S3 object key the template names (`Code.S3Key`,
   * `<hash>.zip`) → the directory staged in the cloud assembly, a temporary directory: the local
   * cloud copies what must outlive the process (cloud/assembly.ts).
   */
  assets: Record<string, string>;
}

export interface CloudFormationTemplate {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
  >;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  [key: string]: unknown;
}

interface SynthesizedApp {
  app: App;
  stage: string;
  appName: string;
  region: string;
  stacks: SynthesizedStack[];
  /** Unsuppressed cdk-nag AwsSolutions errors (only when `nag` was asked for). */
  nagErrors: NagFinding[];
}

interface SynthesizeOptions {
  stage: string;
  /** Run cdk-nag's AwsSolutions pack over the app. */
  nag?: boolean;
  /** The repository root holding sst.config.ts; defaults to the current directory. */
  root?: string;
  /**
   * The account the stacks are synthesized for: CDK bakes it into ARNs as a literal. Default
   * 123456789012 (any account, for the stack tests); the local cloud uses its own (000000000000).
   */
  account?: string;
}

/**
 * Synthesizes the SST app offline, exactly as `sst deploy` would, without touching AWS:
 * NODE_ENV=test keeps SST from looking up the CDK bootstrap stack over the network ("AWS CDK
 * bootstrapping", https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping.html).
 * Function bundles are really built (under `.sst/artifacts`), so a handler that does not compile
 * fails here. SST keeps global state per process: synthesize one stage per process.
 */
export async function synthesizeApp(options: SynthesizeOptions): Promise<SynthesizedApp> {
  const root = path.resolve(options.root ?? process.cwd());
  const release = await acquireDirectoryLock(path.join(root, ".sst", "synth.lock"));
  try {
    return await synthesize(root, options);
  } finally {
    release();
  }
}

async function synthesize(root: string, options: SynthesizeOptions): Promise<SynthesizedApp> {
  process.env.NODE_ENV = "test";
  await initProject({ stage: options.stage, root });
  const project = useProject();
  // initProject loads the config without its `stacks` function (SST strips it for speed), so the
  // stacks come from importing the config itself.
  const configModule = (await import(path.join(root, "sst.config.ts"))) as {
    default: { stacks(app: App): void | Promise<void> };
  };
  const app = new App({
    mode: "deploy",
    stage: options.stage,
    name: project.config.name,
    region: project.config.region,
    account: options.account ?? "123456789012",
  });
  await configModule.default.stacks(app);
  await app.finish();
  if (options.nag) Aspects.of(app).add(new AwsSolutionsChecks());
  // Synthesize exactly once: SST's unique-id aspect refuses a second pass.
  const assembly = app.synth();
  const prefix = `${options.stage}-${project.config.name}-`;
  const stacks: SynthesizedStack[] = [];
  const nagErrors: NagFinding[] = [];
  for (const artifact of assembly.stacks) {
    const name = artifact.stackName.replace(prefix, "");
    stacks.push({
      name,
      stackName: artifact.stackName,
      template: artifact.template as CloudFormationTemplate,
      assets: stagedAssets(assembly.directory, artifact.dependencies),
    });
    for (const message of artifact.messages) {
      if (message.level === "error" && String(message.entry.data).startsWith("AwsSolutions-")) {
        nagErrors.push({ stack: name, path: message.id, message: String(message.entry.data) });
      }
    }
  }
  return {
    app,
    stage: options.stage,
    appName: project.config.name,
    region: project.config.region ?? "us-east-1",
    stacks,
    nagErrors,
  };
}

/** Reads a stack's asset manifest: the zip-packaged directory assets by object key. */
function stagedAssets(
  assemblyDir: string,
  dependencies: readonly { manifest?: unknown; file?: string }[],
): Record<string, string> {
  const assets: Record<string, string> = {};
  for (const dependency of dependencies) {
    if (!dependency.file?.endsWith(".assets.json")) continue;
    const manifest = JSON.parse(fs.readFileSync(dependency.file, "utf8")) as {
      files?: Record<
        string,
        {
          source: { path?: string; packaging?: string };
          destinations: Record<string, { objectKey: string }>;
        }
      >;
    };
    for (const file of Object.values(manifest.files ?? {})) {
      if (file.source.packaging !== "zip" || !file.source.path) continue;
      for (const destination of Object.values(file.destinations)) {
        assets[destination.objectKey] = path.resolve(assemblyDir, file.source.path);
      }
    }
  }
  return assets;
}

/** Writes each stack's template as `<dir>/<Stack>.json` (what `npm run synth` produces). */
export function writeTemplates(app: SynthesizedApp, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return app.stacks.map((stack) => {
    const file = path.join(dir, `${stack.name}.json`);
    fs.writeFileSync(file, `${JSON.stringify(stack.template, null, 2)}\n`);
    return file;
  });
}
