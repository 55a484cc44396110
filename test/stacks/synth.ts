import fs from "node:fs";
import path from "node:path";
import { Aspects } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { App } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import sstConfig from "../../sst.config";

export interface NagFinding {
  stack: string;
  path: string;
  message: string;
}

export interface SynthesizedApp {
  app: App;
  stage: string;
  /** Templates by stack function name (`Data`, `Auth`, ...). */
  templates: Record<string, Template>;
  /** Unsuppressed cdk-nag AwsSolutions errors. */
  nagErrors: NagFinding[];
}

let pending: Promise<SynthesizedApp> | undefined;

/**
 * Synthesizes the whole SST app offline, exactly as `sst deploy` would, without touching AWS:
 * NODE_ENV=test keeps SST from looking up the CDK bootstrap stack (FIELD-GUIDE section 10).
 * Function bundles are really built, so a handler that does not compile fails here. SST keeps
 * global state per process, so one process synthesizes one stage: a test file asks for one.
 */
export function synthesize(stage = "test"): Promise<SynthesizedApp> {
  pending ??= run(stage);
  return pending.then((result) => {
    if (result.stage !== stage) {
      throw new Error(`This process already synthesized stage ${result.stage}; use another file`);
    }
    return result;
  });
}

async function run(stage: string): Promise<SynthesizedApp> {
  const release = await acquireSynthLock();
  try {
    return await synthesizeStage(stage);
  } finally {
    release();
  }
}

/**
 * SST regenerates `.sst/types` in place on every App, so two test processes synthesizing at once
 * would trip over each other: a directory lock serializes them (bounded wait; a lock left by a
 * dead process is taken over).
 */
async function acquireSynthLock(): Promise<() => void> {
  const lock = path.resolve(".sst", "synth.lock");
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
  try {
    const pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // No pid file yet means the holder is between mkdir and write: treat it as alive.
    return (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as NodeJS.ErrnoException).code === "EPERM"
    );
  }
}

async function synthesizeStage(stage: string): Promise<SynthesizedApp> {
  process.env.NODE_ENV = "test";
  await initProject({ stage });
  const project = useProject();
  const app = new App({
    mode: "deploy",
    stage,
    name: project.config.name,
    region: project.config.region,
    account: "123456789012",
  });
  // initProject loads the config without its `stacks` function (SST strips it for speed), so the
  // stacks come from the imported config itself.
  await sstConfig.stacks(app);
  await app.finish();
  Aspects.of(app).add(new AwsSolutionsChecks());
  // Synthesize exactly once: SST's unique-id aspect refuses a second pass.
  const assembly = app.synth();
  const prefix = `${stage}-${project.config.name}-`;
  const templates: Record<string, Template> = {};
  const nagErrors: NagFinding[] = [];
  for (const artifact of assembly.stacks) {
    const name = artifact.stackName.replace(prefix, "");
    templates[name] = Template.fromJSON(artifact.template as Record<string, unknown>);
    for (const message of artifact.messages) {
      if (message.level === "error" && String(message.entry.data).startsWith("AwsSolutions-")) {
        nagErrors.push({ stack: name, path: message.id, message: String(message.entry.data) });
      }
    }
  }
  return { app, stage, templates, nagErrors };
}
