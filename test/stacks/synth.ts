import path from "node:path";
import { type NagFinding, synthesizeApp } from "@boarding-pass/local/cloud/synth";
import { Template } from "aws-cdk-lib/assertions";

export interface SynthesizedForTest {
  stage: string;
  /** Templates by stack function name (`Data`, `Auth`, ...). */
  templates: Record<string, Template>;
  /** Unsuppressed cdk-nag AwsSolutions errors. */
  nagErrors: NagFinding[];
}

let pending: Promise<SynthesizedForTest> | undefined;

/** The whole app, synthesized once per test process with cdk-nag applied. */
export function synthesize(stage = "test"): Promise<SynthesizedForTest> {
  pending ??= synthesizeApp({ stage, nag: true, root: path.resolve(__dirname, "../..") }).then(
    (app) => ({
      stage: app.stage,
      templates: Object.fromEntries(app.stacks.map((s) => [s.name, Template.fromJSON(s.template)])),
      nagErrors: app.nagErrors,
    }),
  );
  return pending.then((result) => {
    if (result.stage !== stage) {
      throw new Error(`This process already synthesized stage ${result.stage}; use another file`);
    }
    return result;
  });
}
