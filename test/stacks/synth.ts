import { Template } from "aws-cdk-lib/assertions";
import { App } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import sstConfig from "../../sst.config";

export interface SynthesizedApp {
  app: App;
  /** Templates by stack function name (`Data`, `Auth`, ...). */
  templates: Record<string, Template>;
}

const cache = new Map<string, Promise<SynthesizedApp>>();

/**
 * Synthesizes the whole SST app offline, exactly as `sst deploy` would, without touching AWS:
 * NODE_ENV=test keeps SST from looking up the CDK bootstrap stack (FIELD-GUIDE section 10).
 * Function bundles are really built, so a handler that does not compile fails here.
 */
export function synthesize(stage = "test"): Promise<SynthesizedApp> {
  let pending = cache.get(stage);
  if (!pending) {
    pending = run(stage);
    cache.set(stage, pending);
  }
  return pending;
}

async function run(stage: string): Promise<SynthesizedApp> {
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
  const templates: Record<string, Template> = {};
  for (const child of app.node.children) {
    const id = child.node.id;
    templates[id] = Template.fromStack(child as never);
  }
  return { app, templates };
}
