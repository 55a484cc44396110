import type { SSTConfig } from "sst";
import type { NodeJSProps } from "sst/constructs";
import { Api } from "./stacks/Api";
import { Auth } from "./stacks/Auth";
import { Consumers } from "./stacks/Consumers";
import { stageConfig } from "./stacks/config";
import { Data } from "./stacks/Data";
import { Events } from "./stacks/Events";
import { Iot } from "./stacks/Iot";
import { applyNagBaseline } from "./stacks/nag";

/**
 * How SST's esbuild bundles every function (bench/triggers.ts builds with the same). ESM with code
 * splitting: a dynamic `import()` becomes a chunk of its own that the function loads only when it
 * reaches that import, so code off a handler's usual path (the SDK's SSO/INI/process credential
 * providers Lambda never reaches, a trigger's SNS, Kinesis and Cognito admin clients) no longer
 * weighs on every cold start. The SDK stays bundled.
 */
export const FUNCTION_BUNDLING = {
  format: "esm",
  minify: true,
  sourcemap: true,
  splitting: true,
} as const satisfies NodeJSProps;

export default {
  config() {
    return { name: "boarding-pass", region: "us-east-1" };
  },
  stacks(app) {
    const stage = stageConfig(app.stage);
    app.setDefaultRemovalPolicy(stage.isProduction ? "retain" : "destroy");
    app.setDefaultFunctionProps({
      runtime: "nodejs22.x",
      architecture: "arm_64",
      memorySize: "512 MB",
      timeout: "10 seconds",
      tracing: "active",
      logRetention: stage.isProduction ? "three_months" : "one_week",
      nodejs: FUNCTION_BUNDLING,
      environment: {
        POWERTOOLS_SERVICE_NAME: "boarding-pass",
        POWERTOOLS_METRICS_NAMESPACE: "BoardingPass",
        POWERTOOLS_LOG_LEVEL: stage.logLevel,
        STAGE: app.stage,
        // Stack traces in logs point at the TypeScript source (the map ships in the bundle).
        NODE_OPTIONS: "--enable-source-maps",
      },
    });
    app.stack(Data).stack(Events).stack(Auth).stack(Iot).stack(Api).stack(Consumers);
    applyNagBaseline(app);
  },
} satisfies SSTConfig;
