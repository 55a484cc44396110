import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The dependency rules of issue 13, checked on the source as it is: every import in a workspace's
 * `src` names a package that workspace's package.json declares (or a Node built-in, or a file of
 * its own `src`), and the emulator (`packages/local`) never imports the app it emulates for.
 * Pure: reads files, starts nothing.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js)$/;
/** The app's packages: the emulator must catch their mistakes, so it may not share their code. */
const APP_PACKAGES = ["@boarding-pass/core", "@boarding-pass/functions"];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Workspace {
  /** Absolute path of the workspace folder (where its package.json is). */
  dir: string;
  manifest: Manifest;
  files: { path: string; text: string }[];
}

interface Violation {
  file: string;
  specifier: string;
  rule: "undeclared-package" | "crosses-package-boundary" | "emulator-imports-app";
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Where DefinitelyTyped publishes a package's types: `@types/name`, `@types/scope__name`. */
function typesPackageOf(name: string): string {
  return `@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || builtinModules.includes(packageNameOf(specifier));
}

/** Every module specifier in a file: static and dynamic imports, re-exports, require calls. */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

function declaredPackages(manifest: Manifest): Set<string> {
  return new Set(
    [
      manifest.dependencies,
      manifest.devDependencies,
      manifest.peerDependencies,
      manifest.optionalDependencies,
    ].flatMap((deps) => Object.keys(deps ?? {})),
  );
}

function layoutViolations(workspace: Workspace): Violation[] {
  const declared = declaredPackages(workspace.manifest);
  const sourceDir = path.join(workspace.dir, "src");
  const violations: Violation[] = [];
  for (const file of workspace.files) {
    const relativeFile = path.relative(ROOT, file.path);
    for (const specifier of specifiersOf(file.text)) {
      if (specifier.startsWith(".") || path.isAbsolute(specifier)) {
        const target = path.resolve(path.dirname(file.path), specifier);
        if (path.relative(sourceDir, target).startsWith("..")) {
          violations.push({ file: relativeFile, specifier, rule: "crosses-package-boundary" });
        }
        continue;
      }
      if (isBuiltin(specifier)) continue;
      const name = packageNameOf(specifier);
      if (workspace.manifest.name === "@boarding-pass/local" && APP_PACKAGES.includes(name)) {
        violations.push({ file: relativeFile, specifier, rule: "emulator-imports-app" });
      }
      if (!declared.has(name) && !declared.has(typesPackageOf(name))) {
        violations.push({ file: relativeFile, specifier, rule: "undeclared-package" });
      }
    }
  }
  return violations;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && SOURCE_FILE.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function repositoryWorkspaces(): Workspace[] {
  const packagesDir = path.join(ROOT, "packages");
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(packagesDir, entry.name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;
      const files = filesUnder(path.join(dir, "src")).map((file) => ({
        path: file,
        text: readFileSync(file, "utf8"),
      }));
      return { dir, manifest, files };
    });
}

function fakeWorkspace(name: string, manifest: Partial<Manifest>, text: string): Workspace {
  const dir = path.join(ROOT, "packages", name);
  return {
    dir,
    manifest: { name: `@boarding-pass/${name}`, ...manifest },
    files: [{ path: path.join(dir, "src", "services", "example.ts"), text }],
  };
}

describe("the checker", () => {
  it("accepts declared packages (and their @types), subpaths, built-ins and own relative files", () => {
    // Prepare
    const workspace = fakeWorkspace(
      "local",
      {
        dependencies: { "@aws-sdk/client-sns": "^3" },
        devDependencies: { "@types/aws-lambda": "^8" },
      },
      [
        'import { SNSClient } from "@aws-sdk/client-sns";',
        'import type { Handler } from "aws-lambda";',
        'import { createHash } from "node:crypto";',
        'import { EventEmitter } from "events";',
        'import { journal } from "../journal";',
        'export { x } from "./example-x";',
        'const later = () => import("./lazy");',
      ].join("\n"),
    );

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual([]);
  });

  it.each([
    {
      name: "an undeclared package, even type-only or by a subpath",
      text: 'import type { Stack } from "aws-cdk-lib/core";',
      expected: [{ specifier: "aws-cdk-lib/core", rule: "undeclared-package" }],
    },
    {
      name: "a dynamic import of an undeclared package",
      text: 'const sst = await import("sst/constructs");',
      expected: [{ specifier: "sst/constructs", rule: "undeclared-package" }],
    },
    {
      name: "a relative path into another package's src",
      text: 'import { resolveRole } from "../../../core/src/roles";',
      expected: [{ specifier: "../../../core/src/roles", rule: "crosses-package-boundary" }],
    },
    {
      name: "a relative path into the package's own tests",
      text: 'export * from "../../test/harness";',
      expected: [{ specifier: "../../test/harness", rule: "crosses-package-boundary" }],
    },
    {
      name: "the emulator importing the app, even when declared",
      manifest: { dependencies: { "@boarding-pass/core": "0.1.0" } },
      text: 'import { resolveRole } from "@boarding-pass/core/roles";',
      expected: [{ specifier: "@boarding-pass/core/roles", rule: "emulator-imports-app" }],
    },
    {
      name: "the emulator importing the app's handlers",
      text: 'import "@boarding-pass/functions/cognito/pre-sign-up";',
      expected: [
        { specifier: "@boarding-pass/functions/cognito/pre-sign-up", rule: "emulator-imports-app" },
        { specifier: "@boarding-pass/functions/cognito/pre-sign-up", rule: "undeclared-package" },
      ],
    },
  ])("flags $name", ({ text, manifest, expected }) => {
    // Prepare
    const workspace = fakeWorkspace("local", manifest ?? {}, text);

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual(
      expected.map((violation) => ({
        file: "packages/local/src/services/example.ts",
        ...violation,
      })),
    );
  });

  it("lets an app package use another app package it declares", () => {
    // Prepare
    const workspace = fakeWorkspace(
      "functions",
      { dependencies: { "@boarding-pass/core": "0.1.0" } },
      'import { Profile } from "@boarding-pass/core/profile";',
    );

    // Act
    const violations = layoutViolations(workspace);

    // Assess
    expect(violations).toEqual([]);
  });
});

describe("the repository", () => {
  const workspaces = repositoryWorkspaces();

  it("has the four workspaces, each with source to check", () => {
    expect(workspaces.map((workspace) => workspace.manifest.name).sort()).toEqual([
      "@boarding-pass/client",
      "@boarding-pass/core",
      "@boarding-pass/functions",
      "@boarding-pass/local",
    ]);
    for (const workspace of workspaces) expect(workspace.files.length).toBeGreaterThan(0);
  });

  it.each(
    repositoryWorkspaces().map((workspace) => ({ name: workspace.manifest.name, workspace })),
  )("$name: every import in src is declared and stays inside the package", ({ workspace }) => {
    expect(layoutViolations(workspace)).toEqual([]);
  });

  it("the emulator's package.json does not depend on the app", () => {
    const local = workspaces.find(
      (workspace) => workspace.manifest.name === "@boarding-pass/local",
    );
    expect(
      [...declaredPackages(local!.manifest)].filter((name) => APP_PACKAGES.includes(name)),
    ).toEqual([]);
  });
});
