/**
 * The shape of the emulator's source (issue 13): no source file over 600 lines, so a newcomer can
 * read any one of them whole. Every folder meets it now, so the check covers the whole tree.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SOURCE_ROOT = fileURLToPath(new URL("../src", import.meta.url));
const MAX_LINES = 600;
/** Held to the limit: all of `packages/local/src` ("" is the root itself). */
const FOLDERS_WITHIN_LIMIT = [""];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

function lineCount(file: string): number {
  return readFileSync(file, "utf8").split("\n").length;
}

describe("source shape", () => {
  for (const folder of FOLDERS_WITHIN_LIMIT) {
    it(`keeps every file under packages/local/src/${folder} within ${MAX_LINES} lines`, () => {
      const files = sourceFiles(join(SOURCE_ROOT, folder));
      expect(files.length).toBeGreaterThan(0);
      const oversized = files
        .map((file) => ({ file: relative(SOURCE_ROOT, file), lines: lineCount(file) }))
        .filter((entry) => entry.lines > MAX_LINES);
      expect(oversized).toEqual([]);
    });
  }
});
