/**
 * `npm run synth [-- --stage <name>]`: synthesizes the app offline (no AWS account needed) and
 * writes each stack's CloudFormation template to `.sst/local/templates/<Stack>.json`, where the
 * role CLI and the local cloud read it.
 */
import path from "node:path";
import { silenceSdkNotices } from "@boarding-pass/local/cloud/sdk-notices";

// SST loads the AWS SDK v2, whose end-of-support note would print at every synthesis: silenced
// before SST is imported (its note is due one tick after it loads).
silenceSdkNotices();
const { synthesizeApp, writeTemplates } = await import("@boarding-pass/local/cloud/synth");

const stageFlag = process.argv.indexOf("--stage");
const stage = stageFlag >= 0 ? process.argv[stageFlag + 1] : (process.env.SST_STAGE ?? "local");
if (!stage) {
  console.error("usage: npm run synth -- --stage <name>");
  process.exit(2);
}
const app = await synthesizeApp({ stage });
const files = writeTemplates(app, path.resolve(".sst/local/templates"));
for (const file of files) console.log(path.relative(process.cwd(), file));
