import fs from "node:fs";
import path from "node:path";
import { Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { App } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";

export interface NagFinding {
  stack: string;
  path: string;
  message: string;
}

export interface SynthesizedStack {
  /** Stack function name: `Data`, `Auth`, ... */
  name: string;
  /** Full CloudFormation stack name, `<stage>-<app>-<name>`. */
  stackName: string;
  template: CloudFormationTemplate;
}

export interface CloudFormationTemplate {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
  >;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  [key: string]: unknown;
}

export interface SynthesizedApp {
  app: App;
  stage: string;
  appName: string;
  region: string;
  stacks: SynthesizedStack[];
  /** Unsuppressed cdk-nag AwsSolutions errors (only when `nag` was asked for). */
  nagErrors: NagFinding[];
}

export interface SynthesizeOptions {
  stage: string;
  /** Run cdk-nag's AwsSolutions pack over the app. */
  nag?: boolean;
  /** The repository root holding sst.config.ts; defaults to the current directory. */
  root?: string;
}

/**
 * Synthesizes the SST app offline, exactly as `sst deploy` would, without touching AWS:
 * NODE_ENV=test keeps SST from looking up the CDK bootstrap stack (FIELD-GUIDE section 10).
 * Function bundles are really built (under `.sst/artifacts`), so a handler that does not compile
 * fails here. SST keeps global state per process: synthesize one stage per process.
 */
export async function synthesizeApp(options: SynthesizeOptions): Promise<SynthesizedApp> {
  const root = path.resolve(options.root ?? process.cwd());
  const release = await acquireSynthLock(root);
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
    account: "123456789012",
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

/**
 * SST regenerates `.sst/types` in place on every App, so two processes synthesizing at once would
 * trip over each other: a directory lock serializes them (bounded wait; a lock left by a dead
 * process is taken over).
 */
async function acquireSynthLock(root: string): Promise<() => void> {
  const lock = path.join(root, ".sst", "synth.lock");
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!lockHolderAlive(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
  } catch {
    // The holder is between mkdir and writing its pid, or died right there: a lock that old
    // (over a minute) is abandoned.
    const stat = fs.statSync(lock, { throwIfNoEntry: false });
    return stat !== undefined && Date.now() - stat.mtimeMs < 60_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
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
