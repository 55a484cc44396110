/**
 * What `npm start` adds to the local cloud beyond the synthesized stacks (see
 * packages/local/src/cloud/config.ts): the console's views of the app's own identity table.
 */
import type { LocalCloudConfig } from "@boarding-pass/local/cloud/config";
import { identityTablePlugin } from "./scripts/console/identity-table";

export default {
  consolePlugins: [identityTablePlugin()],
} satisfies LocalCloudConfig;
