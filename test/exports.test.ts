import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CHECKED_PACKAGES, findDeadExports } from "../scripts/dead-exports";

/**
 * No dead exports (issue 14): a symbol a workspace's `src` exports is imported by some other file
 * of the repository, else it is not exported (used only in its file) or does not exist (unused).
 * Pure: parses the sources, starts nothing. `npx tsx scripts/dead-exports.ts` prints the list.
 */

const ROOT = path.resolve(import.meta.dirname, "..");

describe("exports", () => {
  const dead = findDeadExports(ROOT).map(({ file, name }) => `${file}: ${name}`);

  it.each(CHECKED_PACKAGES)("packages/%s/src exports only what another file imports", (name) => {
    // Prepare
    const prefix = `packages/${name}/src/`;

    // Act
    const found = dead.filter((entry) => entry.startsWith(prefix));

    // Assess
    expect(found).toEqual([]);
  });
});

describe("findDeadExports", () => {
  it("follows imports, re-exports, namespaces, dynamic imports and handler strings", () => {
    // Prepare: a repository in miniature.
    const root = mkdtempSync(path.join(tmpdir(), "dead-exports-"));
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    };
    write(
      "packages/core/package.json",
      JSON.stringify({ name: "@x/core", exports: { "./thing": "./src/thing/index.ts" } }),
    );
    write(
      "packages/core/src/thing/model.ts",
      "export const viaIndex = 1;\nexport const notReexported = 2;\nexport type Local = 3;\n",
    );
    write(
      "packages/core/src/thing/index.ts",
      'export { viaIndex, notReexported as renamed } from "./model";\n',
    );
    write(
      "packages/core/src/lazy.ts",
      "export const destructured = 1;\nexport const ignored = 2;\n",
    );
    write("packages/core/src/ns.ts", "export const read = 1;\nexport const unread = 2;\n");
    write("packages/core/src/handler.ts", "export const handler = 1;\nexport const other = 2;\n");
    write(
      "test/uses.ts",
      [
        'import { viaIndex } from "@x/core/thing";',
        'import * as ns from "../packages/core/src/ns";',
        'const { destructured } = await import("../packages/core/src/lazy");',
        'const handlerPath = "packages/core/src/handler.handler";',
        "export default [viaIndex, ns.read, destructured, handlerPath];",
        "",
      ].join("\n"),
    );

    // Act
    const dead = findDeadExports(root).map(({ file, name }) => `${file}: ${name}`);
    rmSync(root, { recursive: true, force: true });

    // Assess
    expect(dead).toEqual([
      "packages/core/src/handler.ts: other",
      "packages/core/src/lazy.ts: ignored",
      "packages/core/src/ns.ts: unread",
      "packages/core/src/thing/index.ts: renamed",
      "packages/core/src/thing/model.ts: Local",
    ]);
  });
});
