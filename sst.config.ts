import type { SSTConfig } from "sst";
import { Api } from "./stacks/Api";
import { Auth } from "./stacks/Auth";
import { Consumers } from "./stacks/Consumers";
import { stageConfig } from "./stacks/config";
import { Data } from "./stacks/Data";
import { Events } from "./stacks/Events";
import { Iot } from "./stacks/Iot";
import { applyNagBaseline } from "./stacks/nag";

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
      nodejs: { format: "esm", minify: true, sourcemap: true },
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
