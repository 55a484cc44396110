/**
 * The app's own additions to its local cloud, in `local-cloud.config.ts` at the repository root
 * (next to `sst.config.ts`): what the emulator cannot know from the templates. Today that is the
 * console's views of the app's own data (console/views.ts). `npm start` loads it; a test or a
 * benchmark that boots the cloud passes what it wants to `startLocalCloud` itself.
 *
 *   // local-cloud.config.ts
 *   import type { LocalCloudConfig } from "@boarding-pass/local/cloud/config";
 *   export default { consolePlugins: [myTableViews()] } satisfies LocalCloudConfig;
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ConsolePlugin } from "../console/views";

export const LOCAL_CLOUD_CONFIG_FILE = "local-cloud.config.ts";

export interface LocalCloudConfig {
  consolePlugins?: readonly ConsolePlugin[];
}

/** Raised for a config file that does not export a `LocalCloudConfig`; names the file. */
export class LocalCloudConfigError extends Error {
  override readonly name = "LocalCloudConfigError";
}

/** The root's `local-cloud.config.ts`, or an empty config when there is none. */
export async function loadLocalCloudConfig(root: string): Promise<LocalCloudConfig> {
  const file = path.join(root, LOCAL_CLOUD_CONFIG_FILE);
  if (!fs.existsSync(file)) return {};
  const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return checkedConfig(loaded.default, file);
}

export function checkedConfig(value: unknown, file: string): LocalCloudConfig {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new LocalCloudConfigError(`${file} must export default an object (LocalCloudConfig)`);
  }
  const { consolePlugins, ...unknown } = value as Record<string, unknown>;
  const [extra] = Object.keys(unknown);
  if (extra !== undefined) throw new LocalCloudConfigError(`${file}: unknown setting ${extra}`);
  if (consolePlugins === undefined) return {};
  if (
    !Array.isArray(consolePlugins) ||
    !consolePlugins.every(
      (plugin: Partial<ConsolePlugin>) =>
        typeof plugin?.name === "string" && typeof plugin.views === "function",
    )
  ) {
    throw new LocalCloudConfigError(
      `${file}: consolePlugins must be a list of { name, views(context) } plug-ins`,
    );
  }
  return { consolePlugins: consolePlugins as ConsolePlugin[] };
}
