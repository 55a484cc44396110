import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkedConfig,
  LOCAL_CLOUD_CONFIG_FILE,
  LocalCloudConfigError,
  loadLocalCloudConfig,
} from "../../src/cloud/config";

const empty = mkdtempSync(path.join(tmpdir(), "local-cloud-config-"));
const plugin = { name: "p", views: () => [] };

afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe("local-cloud.config.ts", () => {
  it("is optional: a root without one gets no additions", async () => {
    expect(await loadLocalCloudConfig(empty)).toEqual({});
  });

  it("loads the repository's own, with the app's console plug-in", async () => {
    const config = await loadLocalCloudConfig(path.resolve(import.meta.dirname, "../../../.."));
    expect(config.consolePlugins?.map((candidate) => candidate.name)).toEqual(["identity-table"]);
  });

  it("accepts plug-ins and an empty object", () => {
    expect(checkedConfig({ consolePlugins: [plugin] }, "f.ts")).toEqual({
      consolePlugins: [plugin],
    });
    expect(checkedConfig({}, "f.ts")).toEqual({});
  });

  it.each([
    { name: "no default export", value: undefined, message: /must export default an object/ },
    { name: "a list", value: [plugin], message: /must export default an object/ },
    {
      name: "a misspelt setting",
      value: { consolePlugin: [plugin] },
      message: /unknown setting consolePlugin/,
    },
    {
      name: "a plug-in without views",
      value: { consolePlugins: [{ name: "p" }] },
      message: /consolePlugins must be/,
    },
    {
      name: "plug-ins that are not a list",
      value: { consolePlugins: plugin },
      message: /consolePlugins must be/,
    },
  ])("refuses $name, naming the file", ({ value, message }) => {
    const attempt = () => checkedConfig(value, LOCAL_CLOUD_CONFIG_FILE);
    expect(attempt).toThrow(LocalCloudConfigError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(LOCAL_CLOUD_CONFIG_FILE);
  });

  it("refuses a file whose default export is not a config", async () => {
    const root = mkdtempSync(path.join(empty, "bad-"));
    writeFileSync(path.join(root, LOCAL_CLOUD_CONFIG_FILE), "export default 42;\n");
    await expect(loadLocalCloudConfig(root)).rejects.toThrow(LocalCloudConfigError);
  });
});
