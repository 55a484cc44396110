import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprintSources, pruneAssets } from "../../src/cloud/assembly";

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-assembly-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the assembly cache", () => {
  it("changes its fingerprint with any synthesis input, and only with those", () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, "stacks"));
    fs.mkdirSync(path.join(root, "packages", "core", "src"), { recursive: true });
    fs.writeFileSync(path.join(root, "sst.config.ts"), "export default {}");
    fs.writeFileSync(path.join(root, "stacks", "Data.ts"), "export const a = 1;");
    fs.writeFileSync(path.join(root, "packages", "core", "src", "x.ts"), "export const x = 1;");
    const first = fingerprintSources(root, "local");
    expect(fingerprintSources(root, "local")).toBe(first);
    expect(fingerprintSources(root, "other")).not.toBe(first);

    fs.writeFileSync(path.join(root, "README.md"), "not an input");
    expect(fingerprintSources(root, "local")).toBe(first);

    fs.writeFileSync(path.join(root, "packages", "core", "src", "x.ts"), "export const x = 2;");
    const changed = fingerprintSources(root, "local");
    expect(changed).not.toBe(first);
    fs.renameSync(
      path.join(root, "packages", "core", "src", "x.ts"),
      path.join(root, "packages", "core", "src", "y.ts"),
    );
    expect(fingerprintSources(root, "local")).not.toBe(changed);
  });

  it("prunes bundles the manifest no longer names once they are a day old", () => {
    const assets = tempDir();
    for (const name of ["current", "old", "recent"]) {
      fs.mkdirSync(path.join(assets, name, "packages"), { recursive: true });
    }
    const dayAndAMinute = 24 * 3600 * 1000 + 60_000;
    const past = new Date(Date.now() - dayAndAMinute);
    fs.utimesSync(path.join(assets, "old"), past, past);
    fs.utimesSync(path.join(assets, "current"), past, past);

    expect(pruneAssets(assets, new Set(["current"]))).toEqual(["old"]);
    expect(fs.readdirSync(assets).sort()).toEqual(["current", "recent"]);
  });
});
